"""Moved to qa/storage/files.py; this name stays for the modules that import it (qa/app/uploads.py)
until they are moved too."""
from .storage.files import sha256_file  # noqa: F401
