"""Moved to qa/storage/ (folder.py: the index folder; stored.py: what it holds). This name stays
for the modules that still import it (qa/cli.py) until they move too."""
from .storage.folder import MANIFEST, load, read_manifest, save  # noqa: F401
from .storage.stored import Snapshot  # noqa: F401
