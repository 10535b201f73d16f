"""Deciding whether the retrieved sentences answer the question at all."""
from __future__ import annotations

from .types import Hit

# The corpus is taken to answer when the best sentence's evidence (qa.rank.EVIDENCE: its cosine
# with the question plus the share of the question's words, weighted by rarity, that its article
# holds) reaches this. Chosen on WikiQA-dev and BBC dev (bench/tune.py): the highest value that
# still answers >= 90% of the answerable questions of both; see BENCHMARKS.md for what it abstains.
ANSWER_THRESHOLD = 1.0


def decide(hits: list[Hit], evidence: float | None = None,
           threshold: float = ANSWER_THRESHOLD) -> bool:
    """Whether ``hits`` answer the question. ``evidence`` is the ranker's evidence for the best
    hit; without it the best hit's score stands in."""
    if not hits:
        return False
    return (hits[0].score if evidence is None else evidence) >= threshold
