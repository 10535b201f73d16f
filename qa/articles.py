"""From articles to what an index stores: each article's content hash (what its vectors depend
on), its sentences, and who says each; only new or changed articles are split and embedded."""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from functools import cached_property
from typing import Iterator

from .display import not_text
from .errors import InputError
from .ingest.speakers import attribute
from .ingest.splitter import SPLITTER_VERSION, split_document
from .storage.stored import StoredDoc
from .types import Document, Span

log = logging.getLogger("qa.index")


@dataclass
class AddReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    empty: list[str] = field(default_factory=list)  # no sentence to index: not added
    sentences: int = 0  # newly embedded


def content_hash(doc: Document) -> str:
    """What the vectors depend on: the text, and the title (used as context), and how it splits."""
    h = hashlib.sha256()
    for part in (SPLITTER_VERSION, doc.title or "", doc.text):
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    return h.hexdigest()


@dataclass
class Batch:
    """The articles of one ``add`` that need embedding: ``waiting`` to be split (article,
    hash), then ``pending`` (article, hash, sentence spans); and those whose metadata alone
    changed (``relabelled``)."""

    waiting: list[tuple[Document, str]] = field(default_factory=list)
    pending: list[tuple[Document, str, list[Span]]] = field(default_factory=list)
    relabelled: list[StoredDoc] = field(default_factory=list)

    def split(self, report: AddReport) -> Iterator[list[str]]:
        """Split the waiting articles one by one, yielding each one's sentences (embedding
        starts before the last is split); an article without a sentence is noted in
        ``report`` and skipped."""
        waiting, self.waiting = self.waiting, []
        for doc, digest in waiting:
            spans, _ = split_document(doc.text)
            if not spans:
                report.empty.append(doc.id)
                log.warning("article %r has no sentence to index; skipped", doc.id)
                continue
            self.pending.append((doc, digest, spans))
            yield [doc.text[s.start:s.end] for s in spans]

    @cached_property
    def texts(self) -> list[str]:
        """Every sentence to embed, article after article (once ``split``)."""
        return [doc.text[s.start:s.end] for doc, _, spans in self.pending for s in spans]

    def stored(self) -> list[StoredDoc]:
        """The pending articles as stored, with who says each sentence (computed once)."""
        texts, out, row = self.texts, [], 0
        for doc, digest, spans in self.pending:
            out.append(StoredDoc.of(doc, digest, spans, attribute(texts[row:row + len(spans)])))
            row += len(spans)
        return out


def new_or_changed(docs: dict[str, Document], known: dict[str, StoredDoc],
                   report: AddReport) -> Batch:
    """What of ``docs`` needs embedding (``Batch.split`` splits it), given the ``known``
    stored articles; the unchanged ones are noted in ``report``."""
    batch = Batch()
    for doc in docs.values():
        digest = content_hash(doc)
        old = known.get(doc.id)
        if old is not None and old.hash == digest:
            if old.document != doc:  # metadata changed (a date, a source); vectors have not:
                batch.relabelled.append(replace(old, document=doc))  # updated, not embedded
            else:
                report.unchanged.append(doc.id)
            continue
        batch.waiting.append((doc, digest))
    return batch


def check(doc: Document) -> None:
    """A document fit to index, or an InputError naming what to fix. A ``published`` date or
    datetime becomes its ISO text (what a reader would have written)."""
    if not isinstance(doc, Document):
        raise InputError(f"expected qa.Document, got {type(doc).__name__}")
    if not isinstance(doc.id, str) or not doc.id.strip():
        raise InputError("a document needs a non-empty string id")
    if not isinstance(doc.text, str):
        raise InputError(f"document {doc.id!r}: text must be a string")
    if isinstance(doc.published, (date, datetime)):
        doc.published = doc.published.isoformat()[:10]
    for name in ("title", "published", "source", "url", "place", "origin"):
        value = getattr(doc, name)
        if value is not None and not isinstance(value, str):
            raise InputError(f"document {doc.id!r}: {name} must be text (or None), not "
                             f"{type(value).__name__}")
    for name in ("id", "text", "title", "source", "url"):
        value = getattr(doc, name)
        if value and not_text(value):
            raise InputError(f"document {doc.id!r}: its {name} is not valid Unicode (a lone "
                             "surrogate, as from a name decoded with errors='surrogateescape'); "
                             "decode it properly first")


def documents(docs) -> list[Document]:
    """``docs`` as a list: one Document, or any iterable of them; else an InputError."""
    if isinstance(docs, Document):
        return [docs]
    if docs is None or isinstance(docs, (str, bytes, dict)) or not hasattr(docs, "__iter__"):
        raise InputError(f"expected qa.Document objects (a list of them, or one), not "
                         f"{type(docs).__name__}")
    return list(docs)


def ids(values, what: str = "doc_ids", noun: str = "article ids") -> list[str]:
    """Article ids (or other names, ``noun``) as a list: one (a string), or any iterable of
    strings; else an InputError (a string is never read letter by letter)."""
    if isinstance(values, str):
        return [values]
    if values is None or isinstance(values, (bytes, dict)) or not hasattr(values, "__iter__"):
        raise InputError(f"{what} takes {noun} (a list of strings, or one), not "
                         f"{type(values).__name__}")
    out = list(values)
    bad = next((v for v in out if not isinstance(v, str)), None)
    if bad is not None:
        raise InputError(f"{what} takes {noun} as strings, not {type(bad).__name__}")
    return out
