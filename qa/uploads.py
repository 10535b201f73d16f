"""Articles uploaded from the chat: kept in an upload folder, added to (and removed from) the
default index.

An uploaded file is copied into ``uploads/`` (``QA_UPLOADS``) under a cleaned name that cannot
leave that folder, read with ``qa.readers``, embedded and saved, so it is searchable at once and
after a restart. The index is shared by every chat session: changes to it go through one lock.
A file that cannot be read is named in the report and not kept; the others still go in.
"""
from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
import threading
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from .default import home
from .errors import InputError, QAError
from .hashing import sha256_file
from .index import Index
from .readers import SUFFIXES, read_file

log = logging.getLogger(__name__)

MAX_NAME = 100
_changes = threading.Lock()  # one change to the shared index at a time


def uploads_dir() -> Path:
    return Path(os.environ.get("QA_UPLOADS") or home() / "uploads")


def safe_name(name: str) -> str:
    """A file name that is only a name: no folders, no leading dot, plain characters; the
    suffix is kept (it says how to read the file)."""
    base = re.split(r"[\\/]", unicodedata.normalize("NFKC", str(name)))[-1]
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    stem = re.sub(r"[^\w\-]+", "_", stem, flags=re.ASCII).strip("._-") or "article"
    suffix = re.sub(r"[^\w]+", "", suffix, flags=re.ASCII).lower()
    stem = stem[:MAX_NAME]
    return f"{stem}.{suffix}" if suffix else stem


@dataclass
class UploadReport:
    added: list[str] = field(default_factory=list)        # article ids now searchable
    unchanged: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)       # one line per refused file or line

    def message(self) -> str:
        parts = []
        if self.added:
            parts.append(f"Added {len(self.added)} article(s): {', '.join(self.added)}.")
        if self.unchanged:
            parts.append(f"Already indexed, unchanged: {', '.join(self.unchanged)}.")
        parts.extend(f"Not added: {e}" for e in self.errors)
        return " ".join(parts) or "No file was given."


def keep(src: Path, original_name: str, folder: Path | None = None) -> Path:
    """Copy an uploaded file into the upload folder under a safe name; a different file that
    already has the name gets a number added."""
    return keep_new(src, original_name, folder)[0]


def keep_new(src: Path, original_name: str, folder: Path | None = None) -> tuple[Path, bool]:
    """``keep``, and whether the file it kept is new (else the same file was there already)."""
    try:
        return _keep(src, original_name, folder)
    except OSError as e:  # a full or read-only disk
        where = folder or uploads_dir()
        raise InputError(f"could not keep the upload in {where} ({e.strerror or e}); nothing "
                         "was added. Free some disk space, or set QA_UPLOADS to a writable "
                         "folder", path=safe_name(original_name)) from None


def _keep(src: Path, original_name: str, folder: Path | None) -> tuple[Path, bool]:
    folder = (folder or uploads_dir()).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    name = safe_name(original_name)
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    digest = sha256_file(src)
    for n in range(1, 1000):
        candidate = name if n == 1 else f"{stem}-{n}{dot}{suffix}"
        target = (folder / candidate).resolve()
        if target.parent != folder:  # cannot happen with a safe name; never write elsewhere
            raise InputError(f"refused file name {original_name!r}", path=original_name)
        if not target.exists() or sha256_file(target) == digest:
            created = not target.exists()
            # A fresh temporary file (O_EXCL): a link planted in the folder is never written through.
            fd, tmp = tempfile.mkstemp(prefix=f".{candidate}.", suffix=".part", dir=folder)
            try:
                with os.fdopen(fd, "wb") as out, open(src, "rb") as data:
                    shutil.copyfileobj(data, out)
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            return target, created
    raise InputError("too many uploads with this name; rename the file", path=original_name)


def add_files(index: Index, files: Iterable[tuple[Path, str]], *,
              progress: Callable[[int, int], None] | None = None,
              folder: Path | None = None) -> UploadReport:
    """Keep, read and index uploaded files given as (temporary path, name as uploaded)."""
    report = UploadReport()
    docs, kept_files, new_files = [], [], []
    for src, name in files:
        if Path(safe_name(name)).suffix.lower() not in SUFFIXES:
            report.errors.append(f"{safe_name(name)}: unsupported file type; use .txt, .md, "
                                 ".html or .jsonl")
            continue
        kept = None
        try:
            kept, created = keep_new(Path(src), name, folder)
            if created:
                new_files.append(kept)
            line_errors: list[InputError] = []
            found = read_file(kept, doc_id=f"upload/{kept.name}", errors=line_errors)
            report.errors.extend(_short(e, kept, name) for e in line_errors)
            if not found:
                raise InputError("no text to index in this file", path=str(kept))
        except QAError as e:
            report.errors.append(_short(e, kept, name))
            if kept is not None and kept in new_files:
                kept.unlink(missing_ok=True)
                new_files.remove(kept)
            continue
        docs.extend(found)
        kept_files.append(kept)
    if not docs:
        return report
    with _changes:
        try:  # embedded and committed together, or not at all
            with index.transaction():
                result = index.add(docs, progress=progress)
                index.save()
        except QAError as e:  # two articles with one id, a full disk: nothing was added
            for path in new_files:
                path.unlink(missing_ok=True)
            if not isinstance(e, InputError):
                raise  # the index could not be saved: the caller says so
            report.errors.append(str(e))
            return report
    report.added = result.added + result.updated
    log.info("uploaded: %d articles added, %d sentences embedded", len(report.added),
             result.sentences)
    report.unchanged = result.unchanged
    report.errors.extend(f"{d}: no sentence to index" for d in result.empty)
    return report


def remove(index: Index, doc_ids: Iterable[str], folder: Path | None = None) -> list[str]:
    """Remove articles from the index (saved at once) and their uploaded files when no other
    indexed article came from the same file."""
    folder = (folder or uploads_dir()).resolve()
    with _changes, index.transaction():  # removed and committed together, or not at all
        origins = {d.id: d.origin for d in index.documents}
        removed = index.remove(list(doc_ids))
        if not removed:
            return []
        index.save()
        log.info("removed %d articles: %s", len(removed), ", ".join(removed))
        still = {_file_of(d.origin) for d in index.documents}
    for doc_id in removed:
        path = _file_of(origins.get(doc_id))
        if path is not None and path.parent == folder and path not in still:
            path.unlink(missing_ok=True)
    return removed


def _file_of(origin: str | None) -> Path | None:
    if not origin:
        return None
    path = re.sub(r":\d+$", "", origin)  # JSONL articles are "path:line"
    return Path(path).resolve()


def _short(error: QAError, kept: Path | None, name: str) -> str:
    """The error with the upload folder's path replaced by the name the person uploaded."""
    text = str(error)
    if kept is not None:
        text = text.replace(str(kept), safe_name(name))
    return text

