"""Errors meant for people: each message names the bad value and the fix.

The CLI and the app turn any ``QAError`` into one line of text (exit code 2 for the CLI);
anything else escaping is a bug.
"""
from __future__ import annotations


class QAError(Exception):
    """Base class of every error this package raises on purpose."""


class InputError(QAError):
    """A file, line or value given by the user cannot be used as it is."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None):
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        super().__init__(where + message)
        self.path = path
        self.line = line


class IndexFileError(QAError):
    """An index on disk is missing, corrupt, or was built differently from this run."""


class ModelError(QAError):
    """The embedding model cannot be loaded, or its files are not what they claim to be."""

