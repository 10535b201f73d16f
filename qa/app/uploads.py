"""Articles uploaded from the chat: kept in an upload folder, added to (and removed from) the
default index.

An uploaded file is copied into ``uploads/`` (``QA_UPLOADS``) under a cleaned name that cannot
leave that folder, read with ``qa.ingest.readers``, embedded and saved, so it is searchable at once and
after a restart. The index is shared by every chat session: changes to it go through one lock.
A file that cannot be read is named in the report and not kept; the others still go in.

An upload never replaces what it did not create. Its articles' ids start with ``upload/`` (the
file's cleaned name, or ``upload/`` + a JSONL line's id), so they cannot be the ids of seeds/
or ``qa ingest`` articles; an id that is already indexed (with other text) is refused, unless
the person asks to replace uploaded articles, and never when the article came from elsewhere.
One upload holds at most ``QA_MAX_UPLOAD_SENTENCES`` sentences, none longer than
``QA_MAX_SENTENCE_CHARS`` characters: counted before anything is embedded.
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

from .. import config
from ..background import background
from ..default import home
from ..errors import InputError, QAError
from ..hashing import sha256_file
from ..index import Index, content_hash
from ..ingest.readers import SUFFIXES, origin_file, read_file
from ..ingest.splitter import paragraphs
from ..types import Document

log = logging.getLogger(__name__)

MAX_NAME = 100
PREFIX = "upload/"  # every uploaded article's id starts with it
MAX_UPLOAD_SENTENCES = 20_000  # defaults; QA_MAX_UPLOAD_SENTENCES / QA_MAX_SENTENCE_CHARS
MAX_SENTENCE_CHARS = 10_000  # (read when used) set others


def max_upload_sentences() -> int:
    return config.max_upload_sentences(MAX_UPLOAD_SENTENCES)


def max_sentence_chars() -> int:
    return config.max_sentence_chars(MAX_SENTENCE_CHARS)
_changes = threading.Lock()  # one change to the shared index at a time


def uploads_dir() -> Path:
    return config.folder("QA_UPLOADS") or home() / "uploads"


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
    replaced: list[str] = field(default_factory=list)     # ids whose earlier upload was replaced
    errors: list[str] = field(default_factory=list)       # one line per refused file or line

    def message(self) -> str:
        parts = []
        new = [a for a in self.added if a not in self.replaced]
        if new:
            parts.append(f"Added {len(new)} article(s): {', '.join(new)}.")
        if self.replaced:
            parts.append(f"Replaced {len(self.replaced)} article(s) uploaded before: "
                         f"{', '.join(self.replaced)}.")
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
              folder: Path | None = None, replace: bool = False) -> UploadReport:
    """Keep, read and index uploaded files given as (temporary path, name as uploaded).

    An article whose id is already indexed with other text is refused, unless ``replace`` is
    set and the indexed one was uploaded too (it is then named in ``report.replaced``)."""
    folder = (folder or uploads_dir()).resolve()
    report = UploadReport()
    docs, kept_files, new_files = [], [], []
    budget = max_upload_sentences()
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
            found = read_file(kept, doc_id=PREFIX + safe_name(name), errors=line_errors)
            report.errors.extend(_short(e, kept, name) for e in line_errors)
            if not found:
                raise InputError("no text to index in this file", path=str(kept))
            for doc in found:
                if kept.suffix.lower() == ".jsonl":
                    doc.id = PREFIX + doc.id
                budget -= _check_sentences(doc, budget)
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
        origins = {d.id: d.origin for d in index.documents}
        docs = _not_replacing(index, docs, folder, replace, report)
        if not docs:  # every article refused
            _drop_unused(new_files, index)
            return report
        try:  # embedded and committed together, or not at all
            with index.transaction():
                with background():  # people asking meanwhile come first (qa/background.py)
                    result = index.add(docs, progress=progress)
                index.save()
        except QAError as e:  # two articles with one id, a full disk: nothing was added
            for path in new_files:
                path.unlink(missing_ok=True)
            if not isinstance(e, InputError):
                raise  # the index could not be saved: the caller says so
            report.errors.append(str(e))
            return report
        # Files no indexed article came from: refused ones, and those of replaced articles.
        _drop_unused(new_files + [_file_of(origins[i]) for i in report.replaced], index)
    report.added = result.added + result.updated
    log.info("uploaded: %d articles added (%d replaced), %d sentences embedded",
             len(report.added), len(report.replaced), result.sentences)
    report.unchanged = result.unchanged
    report.errors.extend(f"{d}: no sentence to index" for d in result.empty)
    return report


def _check_sentences(doc: Document, budget: int) -> int:
    """How many sentences ``doc`` has, counted lazily: an InputError as soon as it is more than
    ``budget`` or one of them is longer than MAX_SENTENCE_CHARS (before anything is embedded)."""
    import syntok.segmenter as segmenter

    count = 0
    for para in paragraphs(doc.text):
        for sentences in segmenter.analyze(doc.text[para.start:para.end]):
            for tokens in sentences:
                real = [t for t in tokens if t.value]
                if not real:
                    continue
                length = real[-1].offset + len(real[-1].value) - real[0].offset
                if length > max_sentence_chars():
                    raise InputError(f"article {doc.id!r}: sentence {count + 1} is {length:,} "
                                     f"characters long, over the {max_sentence_chars():,} an upload "
                                     "may hold (QA_MAX_SENTENCE_CHARS); split it, or add the "
                                     "file with `qa ingest`")
                count += 1
                if count > budget:
                    raise InputError(f"over the {max_upload_sentences():,} sentences one upload may "
                                     f"hold (QA_MAX_UPLOAD_SENTENCES), at article {doc.id!r}; "
                                     "upload fewer files at a time, or add them with `qa ingest`")
    return count


def _not_replacing(index: Index, docs: list[Document], folder: Path, replace: bool,
                   report: UploadReport) -> list[Document]:
    """The uploaded articles that may go in: new ids, unchanged ones, and (with ``replace``)
    ids of earlier uploads. The others are named in ``report.errors``."""
    indexed = {d.id: d for d in index.documents}
    allowed = []
    for doc in docs:
        old = indexed.get(doc.id)
        if old is None:
            allowed.append(doc)
        elif not _is_upload(old, folder):
            report.errors.append(f"{doc.id}: an article with this id came from seeds/ or "
                                 "`qa ingest`; an upload cannot replace it. Rename the file or "
                                 "the JSONL id")
        elif content_hash(old) == content_hash(doc):
            allowed.append(doc)
        elif replace:
            allowed.append(doc)
            report.replaced.append(doc.id)
        else:
            report.errors.append(f"{doc.id}: already indexed from an earlier upload, with other "
                                 "text; nothing was replaced. Tick “Replace articles uploaded "
                                 "before” to replace it, or rename the file")
    return allowed


def _is_upload(doc: Document, folder: Path) -> bool:
    path = _file_of(doc.origin)
    return doc.id.startswith(PREFIX) and path is not None and path.parent == folder


def _drop_unused(kept_files: list[Path], index: Index) -> None:
    """Delete kept files that no indexed article came from (refused, or a failed add)."""
    known = {_file_of(d.origin) for d in index.documents}
    for path in kept_files:
        if path.resolve() not in known:
            path.unlink(missing_ok=True)


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
    path = origin_file(origin)
    return path.resolve() if path is not None else None


def _short(error: QAError, kept: Path | None, name: str) -> str:
    """The error with the upload folder's path replaced by the name the person uploaded."""
    text = str(error)
    if kept is not None:
        text = text.replace(str(kept), safe_name(name))
    return text

