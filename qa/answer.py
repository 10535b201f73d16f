"""Moved to qa/ranking/decide.py; this name stays for the modules that import it (qa/render.py)
until they are moved too."""
from .ranking.decide import ANSWER_THRESHOLD, COSINE_THRESHOLD, decide  # noqa: F401
