"""Moved to qa/storage/ (folder.py reads the index folder, writing.py writes it, stored.py is
what it holds). This name keeps the old module's public names for the modules and tests that
still import it (qa/cli.py, tests/test_live_archive_app.py) until they move too; new code
imports qa.storage."""
from .storage import FILES, FORMAT_VERSION, LOCK, MANIFEST, SEARCH_FILE  # noqa: F401
from .storage.folder import (current_generation, earlier_documents, load,  # noqa: F401
                             read_manifest, rebuild_hint, set_aside)
from .storage.stored import Snapshot, StoredDoc  # noqa: F401
from .storage.writing import locked, save, write  # noqa: F401
from .tuning import EAGER_HASH_MAX  # noqa: F401
