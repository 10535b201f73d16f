"""The index: articles split into sentences, embedded, searchable, saved to a folder."""
from __future__ import annotations

import hashlib
import logging
import os
import sys
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from . import fit, rerank, store
from .encoders import Encoder, device_name, ingest_encoder, load_encoder, model_name
from .errors import IndexFileError, InputError, QAError
from .speakers import attribute
from .splitter import SPLITTER_VERSION, split_document
from .ranker import Ranked, Ranker
from .store import Snapshot, StoredDoc
from .types import Answer, Document, Hit, Span
from .vectors import RawRows, RowBlocks, VectorStore

log = logging.getLogger(__name__)

ProgressFn = Callable[[int, int], None]  # (sentences embedded so far, total)
CONTEXT_SENTENCES = 2  # neighbours on each side in Hit.context
# Up to this many sentences every question is ranked over all of them with every feature
# (qa/ranker.py: lexical, article, neighbour and speaker evidence; prepared on the first question,
# a full scan per question), with the vectors in memory. Larger indexes keep their vectors on
# disk, search an approximate graph in memory (qa/vectors.py) and rank its candidates with the
# same features from data stored at ingest (qa/corpus.py).
RANK_ALL_MAX = 150_000
ENCODE_CHUNK = 256


@dataclass
class AddReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    empty: list[str] = field(default_factory=list)  # no sentence to index: not added
    sentences: int = 0  # newly embedded


@dataclass(frozen=True)
class Commit:
    """What this process last read from, or wrote to, its folder: the generation, each article's
    content hash in it, and its extra settings. A save applies what changed since then on top of
    the folder's newest commit."""

    generation: str | None = None
    hashes: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)


# What an Index holds, copied and swapped whole by refresh, save and transactions.
_STATE = ("path", "_docs", "_vectors", "extra", "backend", "_ranked", "_flat", "_saved",
          "_base", "_changed")


def content_hash(doc: Document) -> str:
    """What the vectors depend on: the text, and the title (used as context), and how it splits."""
    h = hashlib.sha256()
    for part in (SPLITTER_VERSION, doc.title or "", doc.text):
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    return h.hexdigest()


class Index:
    """Sentences of news articles in a FAISS index. Build with ``Index.build``, load with
    ``Index.open``; ``search`` and ``ask`` answer questions."""

    def __init__(self, path: str | Path | None = None, *, model: str | None = None,
                 encoder: Encoder | None = None):
        self.path = Path(path) if path is not None else None
        self._encoder = encoder
        self._reranker = None  # loaded on the first question
        self.model = encoder.name if encoder is not None else (model or model_name())
        self._docs: dict[str, StoredDoc] = {}
        # each article's vectors: a slice of one array, or rows of the saved file (RawRows)
        self._vectors: dict[str, np.ndarray | RawRows] = {}
        self.extra: dict = {}
        # the encoder backend that embedded the vectors (None: unknown; "mixed": several)
        self.backend: str | None = None
        self._lock = threading.RLock()  # held briefly: swapping state, building caches
        self._commit_lock = threading.RLock()  # held by changes, saves and refreshes
        self._base = Commit()  # the folder's commit this state is based on
        self._changed: dict[str, str | None] = {}  # since _base: id -> new hash, None: removed
        self._manifest_seen = None  # (inode, mtime, size) of the manifest last looked at
        self._following = None  # the thread reading a newer commit, while it does
        self._ranked = None  # (Ranker or CandidateRanker, row -> doc id, docs), built lazily
        self._flat = None  # (VectorStore, row_doc, row_sentence, docs), built lazily after changes
        self._saved = None  # (doc ids, all their rows, corpus data) as opened, while unchanged
        self._warned_backend = False

    # ---- construction -------------------------------------------------------------------
    @classmethod
    def build(cls, docs: Iterable[Document], path: str | Path | None = None, *,
              model: str | None = None, encoder: Encoder | None = None,
              progress: bool | ProgressFn | None = None) -> "Index":
        """Embed ``docs``; save to ``path`` when given (``None`` keeps it in memory)."""
        index = cls(path, model=model, encoder=encoder)
        index.add(docs, progress=progress)
        if index.path is not None:
            index.save(replace=True)
        return index

    @classmethod
    def open(cls, path: str | Path, *, model: str | None = None,
             encoder: Encoder | None = None) -> "Index":
        """Load a saved index without re-embedding. The configured model must be the one it was
        built with."""
        path = Path(path)
        seen = _stat_key(path / store.MANIFEST)  # before reading: a later commit is noticed
        snap = store.load(path)
        index = cls(path, model=model, encoder=encoder)
        index._manifest_seen = seen
        if snap.model != index.model:
            raise IndexFileError(f"index at {path} was built with model {snap.model!r}, this run "
                                 f"uses {index.model!r}: run `qa ingest --rebuild --index {path} "
                                 f"PATH...` to re-embed, or set QA_MODEL={snap.model}")
        if encoder is not None and encoder.dim != snap.dim:
            raise IndexFileError(f"index at {path} holds {snap.dim}-dimensional vectors, model "
                                 f"{index.model!r} gives {encoder.dim}: run `qa ingest --rebuild "
                                 f"--index {path} PATH...` to re-embed")
        large = len(snap.vectors) > RANK_ALL_MAX
        # A large index's vectors stay on disk (rows read as questions need them); a small
        # one's are read once into one array that the ranker uses as it is.
        rows = snap.vectors if large else np.asarray(snap.vectors, np.float32)
        row = 0
        for d in snap.docs:
            index._docs[d.document.id] = d
            index._vectors[d.document.id] = rows.view(row, d.size) if large \
                else rows[row:row + d.size]
            row += d.size
        index.extra = snap.extra
        index.backend = snap.backend
        index._base = Commit(snap.generation, {d.document.id: d.hash for d in snap.docs},
                             dict(snap.extra))
        corpus = None
        if large:
            from .corpus import CorpusData

            corpus = CorpusData.from_files(snap.side, len(snap.docs), len(snap.vectors),
                                           snap.dim)
        index._saved = (list(index._docs), rows, corpus)
        if snap.search is not None and large:  # the approximate search, saved with it
            index._rows(snap.search)
        if encoder is not None:
            index._check_backend(encoder)
        return index

    @property
    def encoder(self) -> Encoder:
        if self._encoder is None:
            self._encoder = load_encoder(self.model)
            self._check_backend(self._encoder)
        return self._encoder

    def _check_backend(self, encoder: Encoder) -> None:
        """Backends of one model give vectors that agree to cosine > 0.99 (BENCHMARKS.md), so
        an index embedded with one is searched with another; say so once, with the fix."""
        mine = getattr(encoder, "backend", None)
        if self.backend and mine and mine != self.backend and not self._warned_backend:
            self._warned_backend = True
            log.warning("index at %s was embedded with the %s backend, questions are encoded "
                        "with %s: answers may differ slightly. Set QA_BACKEND=%s, or run `qa "
                        "ingest --rebuild --index %s PATH...` to re-embed", self.path,
                        self.backend, mine, self.backend, self.path)

    @property
    def reranker(self):
        """The cross-encoder that re-orders the ranker's best candidates (qa/rerank.py), or None
        when it is off for this index (``QA_RERANK``; by default on up to ``rerank.RERANK_MAX``
        sentences)."""
        return self._reranker_for(len(self))

    def _reranker_for(self, sentences: int):
        if self._reranker is False or not rerank.enabled(sentences):
            return None
        if self._reranker is None:
            self._reranker = rerank.load()
        return self._reranker

    # ---- contents -----------------------------------------------------------------------
    def __len__(self) -> int:
        return sum(d.size for d in self._docs.values())

    @property
    def documents(self) -> list[Document]:
        return [d.document for d in self._docs.values()]

    def catalogue(self) -> list[tuple[Document, int]]:
        """Every article with its number of sentences, read from one state (a refresh may swap
        the state in between two other calls)."""
        docs = self._docs
        return [(d.document, d.size) for d in list(docs.values())]

    def sentence_count(self, doc_id: str) -> int:
        return self._docs[doc_id].size

    def add(self, docs: Iterable[Document], *, progress: bool | ProgressFn | None = None) -> AddReport:
        """Add or replace documents. A document whose id and content are already indexed is not
        embedded again. The change is this process's until ``save()`` commits it."""
        docs = list(docs)
        report = AddReport()
        batch: dict[str, Document] = {}
        for doc in docs:
            _check_document(doc)
            prior = batch.get(doc.id)
            if prior is not None and content_hash(prior) != content_hash(doc):
                raise InputError(f"two different articles have the id {doc.id!r} "
                                 f"({prior.origin or 'first'} and {doc.origin or 'second'}); "
                                 "ids must be unique, nothing was added")
            batch[doc.id] = doc
        with self._commit_lock:
            return self._add(batch, report, progress)

    def _add(self, batch: dict[str, Document], report: AddReport, progress) -> AddReport:
        pending: list[tuple[Document, str, list[Span]]] = []
        relabelled = []
        for doc in batch.values():
            digest = content_hash(doc)
            known = self._docs.get(doc.id)
            if known is not None and known.hash == digest:
                if known.document != doc:  # metadata changed; vectors have not
                    relabelled.append(replace(known, document=doc))
                report.unchanged.append(doc.id)
                continue
            spans, _ = split_document(doc.text)
            if not spans:
                report.empty.append(doc.id)
                log.warning("article %r has no sentence to index; skipped", doc.id)
                continue
            pending.append((doc, digest, spans))
        texts = [doc.text[s.start:s.end] for doc, _, spans in pending for s in spans]
        vectors = self._encode(texts, progress)
        stored = []
        row = 0
        for doc, digest, spans in pending:  # who says each sentence: computed once, stored
            stored.append(StoredDoc.of(doc, digest, spans, attribute(texts[row:row + len(spans)])))
            row += len(spans)
        row = 0
        with self._lock:
            self._note_backend(bool(texts))
            for d in relabelled:
                self._docs[d.document.id] = d
                self._changed[d.document.id] = d.hash
            if relabelled:
                self._ranked = None  # hits carry the new metadata
            for d in stored:
                doc = d.document
                (report.updated if doc.id in self._docs else report.added).append(doc.id)
                self._docs.pop(doc.id, None)  # a replaced article moves to the end
                self._docs[doc.id] = d
                self._vectors[doc.id] = vectors[row:row + d.size]
                self._changed[doc.id] = d.hash
                row += d.size
            if stored:
                self._ranked = None
                self._saved = None
                self._flat = None if report.updated else self._appended(pending, vectors)
        report.sentences = len(texts)
        return report

    def remove(self, doc_ids: Iterable[str]) -> list[str]:
        """Remove documents by id; returns the ids that were there. The change is this
        process's until ``save()`` commits it."""
        removed = []
        with self._commit_lock, self._lock:
            for doc_id in doc_ids:
                if self._docs.pop(doc_id, None) is not None:
                    self._vectors.pop(doc_id, None)
                    self._changed[doc_id] = None
                    removed.append(doc_id)
            if removed:
                self._ranked = None
                self._flat = None
                self._saved = None
        return removed

    def save(self, path: str | Path | None = None, *, replace: bool = False) -> Path:
        """Commit to ``path`` (default: where it was opened or built), atomically.

        Saving to the index's own folder is a commit: under the folder's lock, this process's
        changes since it last read or saved the folder (articles added, replaced, removed) are
        applied on top of the newest state there, so articles that other processes committed
        meanwhile are kept; when another process changed the same article, this commit's
        version wins and the log says so. Afterwards this index holds the committed state.
        ``replace=True`` writes this index as the whole folder instead (``qa ingest
        --rebuild``); saving to another folder writes a copy. If the save fails, nothing
        changes, on disk or in memory."""
        target = Path(path) if path is not None else self.path
        if target is None:
            raise InputError("this index lives in memory; give save() a folder")
        own = self.path is None or _same_folder(target, self.path)
        with self._commit_lock, store.locked(target):
            with self._lock:
                view = self._copy()
            if own and not replace:
                newest = store.current_generation(target)
                if newest is not None and newest != view._base.generation:
                    view = view._on_top_of(self._open_latest(target))
            generation = store.write(target, view._snapshot())
            if own:
                view.path = target
                view._base = Commit(generation, {i: d.hash for i, d in view._docs.items()},
                                    dict(view.extra))
                view._changed = {}
                with self._lock:
                    self._adopt(view)
        return target

    def refresh(self) -> bool:
        """Switch to the newest commit in the index's folder, keeping this process's own
        changes that are not saved yet on top. True when there was a newer commit. Questions
        start this by themselves, on a background thread (a ``stat`` of the manifest each);
        questions under way finish on the state they started with, and the new state is ready
        to answer when it is swapped in."""
        if self.path is None:
            return False
        with self._commit_lock:
            newest = store.current_generation(self.path)
            if newest is None or newest == self._base.generation:
                return False
            fresh = self._copy()._on_top_of(self._open_latest(self.path))
            fresh._ranker()  # ready to answer before it is swapped in
            with self._lock:
                self._adopt(fresh)
            log.info("index at %s: now at %s (%d articles)", self.path, newest, len(self._docs))
            return True

    @contextmanager
    def transaction(self):
        """Changes made in the block happen together or not at all: when it raises (a save
        that failed on a full or read-only disk, say), this index is put back as it was.

            with index.transaction():
                index.add(docs)
                index.save()
        """
        with self._commit_lock:
            with self._lock:
                before = self._copy()
            try:
                yield self
            except BaseException:
                with self._lock:
                    self._adopt(before)
                raise

    # ---- following other writers ---------------------------------------------------------
    def _follow(self) -> None:
        """When the folder's manifest changed since last looked at (one ``stat``), read the new
        commit on a background thread and swap it in when it is ready to answer: no question
        waits for it, and the questions after the swap answer from it."""
        if self.path is None:
            return
        seen = _stat_key(self.path / store.MANIFEST)
        if seen is None:
            return
        with self._lock:
            if seen == self._manifest_seen or self._following is not None:
                return
            self._manifest_seen = seen
            self._following = threading.Thread(target=self._follow_in_background,
                                               name="qa-follow", daemon=True)
            self._following.start()

    def _follow_in_background(self) -> None:
        try:
            self.refresh()
        except QAError as e:  # e.g. rebuilt with another model: keep answering from this state
            log.warning("index at %s changed on disk but cannot be read (%s); answering from "
                        "the state read before", self.path, e)
        except Exception:  # a bug: say so, and keep answering
            log.exception("index at %s: reading a newer commit failed", self.path)
        finally:
            with self._lock:
                self._following = None

    def _open_latest(self, path: Path) -> "Index":
        return Index.open(path, model=self.model, encoder=self._encoder)

    def _on_top_of(self, latest: "Index") -> "Index":
        """``latest`` (just opened from the folder) with this index's uncommitted changes
        applied; what another writer changed too is logged, and this process's version kept."""
        for doc_id, digest in self._changed.items():
            theirs = latest._base.hashes.get(doc_id)
            if theirs != self._base.hashes.get(doc_id) and theirs != digest:
                log.warning("article %r was also changed by another writer since this process "
                            "read %s; keeping this process's %s", doc_id, latest.path,
                            "removal" if digest is None else "version")
        # only new articles: a large index's search graph is extended, not built again
        appended = [self._docs[i] for i, h in self._changed.items()
                    if h is not None and i not in latest._docs]
        only_new = len(appended) == len(self._changed)
        for doc_id, digest in self._changed.items():
            latest._docs.pop(doc_id, None)
            latest._vectors.pop(doc_id, None)
            if digest is not None:
                latest._docs[doc_id] = self._docs[doc_id]
                latest._vectors[doc_id] = self._vectors[doc_id]
        if self._changed:
            flat = None
            if only_new and latest._flat is not None:
                flat = latest._appended([(d.document, d.hash, d.spans) for d in appended],
                                        np.concatenate([np.asarray(self._vectors[d.document.id])
                                                        for d in appended]))
            latest._ranked = latest._saved = None
            latest._flat = flat
        for key, value in self.extra.items():  # settings this process changed
            if self._base.extra.get(key) != value:
                latest.extra[key] = value
        if any(d is not None for d in self._changed.values()) and self.backend != latest.backend:
            others = set(latest._docs) - set(self._changed)
            latest.backend = "mixed" if others and latest.backend else self.backend
        latest._changed = dict(self._changed)
        latest._encoder = latest._encoder or self._encoder
        latest._reranker = self._reranker
        latest._warned_backend = self._warned_backend
        return latest

    def _copy(self) -> "Index":
        """A private copy of this index's state (the arrays are shared, never changed in place)."""
        other = object.__new__(Index)
        other.__dict__.update(self.__dict__)
        other._docs, other._vectors = dict(self._docs), dict(self._vectors)
        other.extra, other._changed = dict(self.extra), dict(self._changed)
        other._lock, other._commit_lock = threading.RLock(), threading.RLock()
        return other

    def _adopt(self, other: "Index") -> None:
        """Take ``other``'s state, whole (the caller holds ``_lock``)."""
        for name in _STATE:
            setattr(self, name, getattr(other, name))
        self._encoder = self._encoder or other._encoder

    def _snapshot(self) -> Snapshot:
        large = len(self) > RANK_ALL_MAX
        docs = list(self._docs.values())
        vectors = self._row_source()
        return Snapshot(model=self.model, dim=self._dim(), docs=docs, vectors=vectors,
                        extra=dict(self.extra), backend=self.backend,
                        search=self._rows()[0] if large else None,
                        side=self._corpus(docs, vectors).to_files() if large else {})

    # ---- questions ----------------------------------------------------------------------
    def search(self, question: str, k: int = 5, *, doc_ids: Sequence[str] | None = None) -> list[Hit]:
        """The ``k`` sentences that best answer ``question``, best first."""
        return self._search(question, k, doc_ids)[0]

    def ask(self, question: str, k: int | None = None, *, doc_ids: Sequence[str] | None = None,
            since=None, until=None, sources: Sequence[str] | str | None = None) -> Answer:
        """The answer to ``question`` (qa/asking.py): the best ``k`` sentences (``None``: 5); for
        "what did X say" questions every statement of X's (``k`` caps them; ``None``: all). Only
        articles published ``since``/``until`` (dates) by ``sources`` are searched; a time phrase
        in the question ("last week") sets the dates when they are not given."""
        from .asking import ask

        return ask(self, question, k, doc_ids=doc_ids, since=since, until=until, sources=sources)

    def stored(self) -> dict[str, StoredDoc]:
        """Every article as stored (sentence offsets, speakers), from one state."""
        return dict(self._docs)

    def _plain_ask(self, question: str, k: int, doc_ids: Sequence[str] | None) -> Answer:
        from .answer import decide

        hits, evidence = self._search(question, k, doc_ids)
        return Answer(question=_check_question(question), hits=hits,
                      answered=decide(hits, evidence=evidence))

    def _search(self, question: str, k: int, doc_ids: Sequence[str] | None
                ) -> tuple[list[Hit], float | None]:
        """(the hits, the evidence that anything answers: that of the ranker's best candidate,
        before re-ranking; None when there is no candidate)."""
        question = _check_question(question)
        k = _check_k(k)
        self._follow()
        with self._lock:  # a consistent view: later adds and removes build a new one
            ranker, row_doc, docs = self._ranker()
        if not len(row_doc):
            return [], None
        query = self.encoder.encode([question])[0]
        rows = None
        if doc_ids is not None:
            rows = _rows_of(docs, doc_ids)
            if not len(rows):
                return [], None
        reranker = self._reranker_for(len(row_doc))
        found = ranker.search(question, query, max(k, fit.DEPTH, rerank.DEPTH), rows)
        ranked = fit.rescore(question, found, ranker.texts)
        # the evidence is the ranker's best candidate's, as the answer-kind check adjusted it
        evidence = next(r.evidence for r in ranked if r.row == found[0].row) if found else None
        if reranker is not None and rerank.wanted(question, ranked):
            ranked = rerank.rerank(reranker, question, ranked, ranker.texts)
        ranked = ranked[:k]
        return [_hit(docs[row_doc[r.row]], int(ranker.row_sent[r.row]), r)
                for r in ranked], evidence

    # ---- internals ----------------------------------------------------------------------
    def _encode(self, texts: list[str], progress: bool | ProgressFn | None) -> np.ndarray:
        if not texts:
            return np.zeros((0, self._dim() if self._docs or self._encoder else 0), np.float32)
        encoder = self._ingest_encoder()
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # similar lengths batch well
        out = np.zeros((len(texts), encoder.dim), dtype=np.float32)
        bar = None
        if progress is True or (progress is None and len(texts) >= 2000 and sys.stderr.isatty()):
            from tqdm import tqdm

            bar = tqdm(total=len(texts), unit="sentence", desc="Embedding")
        for lo in range(0, len(texts), ENCODE_CHUNK):
            idx = order[lo:lo + ENCODE_CHUNK]
            out[idx] = encoder.encode([texts[i] for i in idx])
            if bar is not None:
                bar.update(len(idx))
            if callable(progress):
                progress(min(lo + ENCODE_CHUNK, len(texts)), len(texts))
        if bar is not None:
            bar.close()
        return out

    def _ingest_encoder(self) -> Encoder:
        """The question encoder, or the same model on a GPU (``QA_DEVICE``; an encoder given to
        the index is always used as it is)."""
        if self._encoder is None and device_name() != "cpu":
            encoder = ingest_encoder(self.model)
            self._embedded_with = encoder
            return encoder
        return self.encoder

    def _dim(self) -> int:
        for v in self._vectors.values():
            return int(v.shape[1])
        return self.encoder.dim

    def _note_backend(self, embedded: bool) -> None:
        """Record which backend embedded the vectors ("mixed" once a second one adds some)."""
        encoder = getattr(self, "_embedded_with", None) or self._encoder
        if not embedded or encoder is None:
            return
        mine = getattr(encoder, "backend", None)
        if not self._docs:
            self.backend = mine
        elif mine != self.backend and self.backend != "mixed":
            log.warning("adding vectors of the %s backend to an index embedded with %s; it is "
                        "now recorded as mixed. `qa ingest --rebuild` re-embeds it with one",
                        mine, self.backend)
            self.backend = "mixed"

    def _row_source(self):
        """Every sentence vector in row order, without copying: the saved file or array while
        unchanged since opening, else the articles' blocks one after another."""
        ids = list(self._docs)
        if self._saved is not None and self._saved[0] == ids:
            return self._saved[1]
        return RowBlocks([self._vectors[d] for d in ids], self._dim() if ids else 1)

    def _matrix(self) -> np.ndarray:
        """Every vector in one float32 array (for the full ranker: small indexes)."""
        rows = self._row_source()
        if isinstance(rows, np.ndarray):
            return rows
        return np.ascontiguousarray(np.asarray(rows), np.float32).reshape(
            -1, self._dim() if self._docs else 1)

    def _corpus(self, docs: list[StoredDoc], vectors):
        """The large-index ranking data: as saved, or computed from the articles."""
        from .corpus import CorpusData

        same = self._saved is not None and self._saved[0] == [d.document.id for d in docs]
        if same and self._saved[2] is not None:
            return self._saved[2]
        log.info("computing ranking data for %d sentences", len(vectors))
        data = CorpusData.build(docs, vectors, self._dim())
        if same:
            self._saved = (self._saved[0], self._saved[1], data)
        return data

    def _ranker(self):
        """(the ranker, row -> doc id, doc id -> stored document), rebuilt after a change,
        never changed in place: qa.ranker.Ranker over every sentence up to RANK_ALL_MAX, above
        it qa.corpus.CandidateRanker over the vector store's candidates."""
        if self._ranked is None:
            ids = list(self._docs)
            row_doc = [d for d in ids for _ in range(self._docs[d].size)]
            if len(self) > RANK_ALL_MAX:
                from .corpus import CandidateRanker

                store, vectors = self._rows()[0], self._row_source()
                docs = [self._docs[d] for d in ids]
                ranker = CandidateRanker(docs, store, vectors, self._corpus(docs, vectors))
            else:
                docs = [(self._docs[d].document.title or "", self._docs[d].document.text,
                         self._docs[d].bounds.tolist()) for d in ids]
                matrix = self._matrix() if ids else np.zeros((0, 1), np.float32)
                row = 0
                for d in ids:  # articles' vectors become views of it: each vector held once
                    self._vectors[d] = matrix[row:row + self._docs[d].size]
                    row += self._docs[d].size
                speakers = [self._docs[d].speakers for d in ids]
                ranker = Ranker(docs, matrix, speakers if all(s is not None for s in speakers)
                                else None)
            self._ranked = (ranker, row_doc, dict(self._docs))
        return self._ranked

    def _appended(self, pending: list, vectors: np.ndarray):
        """The search rows with new articles appended, or None (rebuild on next use). A large
        index adds the new vectors to a copy of its graph instead of building it again."""
        if self._flat is None or not pending:
            return self._flat
        store, row_doc, row_sent, _ = self._flat
        if store.kind == "flat":
            return None  # cheap to build again
        store = store.extended(vectors, self._row_source())
        row_doc = row_doc + [doc.id for doc, _, spans in pending for _ in spans]
        row_sent = np.concatenate([row_sent] + [np.arange(len(spans)) for _, _, spans in pending])
        return store, row_doc, row_sent, dict(self._docs)

    def _rows(self, search: VectorStore | None = None):
        """(vector store over all sentences - exact or approximate by size, row -> doc id,
        row -> sentence no., doc id -> stored document), rebuilt after a change, never changed
        in place. Its re-scoring reads the vectors where they are (on disk for a large index)."""
        if self._flat is None:
            ids = list(self._docs)
            if search is None:
                search = VectorStore.build(self._matrix(), self._dim() if ids else 1,
                                           keep_exact=False)
                if search.kind != "flat":
                    search.exact = self._row_source()
            row_doc = [d for d in ids for _ in range(self._docs[d].size)]
            row_sent = np.concatenate([np.arange(self._docs[d].size) for d in ids]) if ids \
                else np.zeros(0, np.int64)
            self._flat = (search, row_doc, row_sent, dict(self._docs))
        return self._flat


def _stat_key(f: Path) -> tuple | None:
    """What changes when a file is replaced: (inode, modification time, size)."""
    try:
        st = os.stat(f)
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size


def _same_folder(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return a == b


def _rows_of(docs: dict[str, StoredDoc], doc_ids: Sequence[str]) -> np.ndarray:
    """The rows of the articles ``doc_ids`` (unknown ids are ignored), sorted."""
    starts, row = {}, 0
    for d, stored in docs.items():
        starts[d] = row
        row += stored.size
    parts = [np.arange(starts[d], starts[d] + docs[d].size) for d in dict.fromkeys(doc_ids)
             if d in docs]
    return np.sort(np.concatenate(parts)) if parts else np.zeros(0, np.int64)


def _hit(stored: StoredDoc, i: int, ranked: Ranked) -> Hit:
    doc, bounds = stored.document, stored.bounds
    start, end = int(bounds[i][0]), int(bounds[i][1])
    lo = int(bounds[max(0, i - CONTEXT_SENTENCES)][0])
    hi = int(bounds[min(len(bounds) - 1, i + CONTEXT_SENTENCES)][1])
    return Hit(text=doc.text[start:end], score=ranked.score, doc_id=doc.id,
               title=doc.title, sentence=i, start=start, end=end, context=doc.text[lo:hi],
               context_start=lo, published=doc.published, source=doc.source, url=doc.url,
               speaker=ranked.speaker, evidence=ranked.evidence)


def _check_document(doc: Document) -> None:
    if not isinstance(doc, Document):
        raise InputError(f"expected qa.Document, got {type(doc).__name__}")
    if not isinstance(doc.id, str) or not doc.id.strip():
        raise InputError("a document needs a non-empty string id")
    if not isinstance(doc.text, str):
        raise InputError(f"document {doc.id!r}: text must be a string")


MAX_QUESTION_CHARS = 2000


def _check_question(question: str) -> str:
    if not isinstance(question, str) or not question.strip():
        raise InputError("the question is empty; ask something, e.g. \"What did Galuzin say?\"")
    question = " ".join(question.split())
    return question[:MAX_QUESTION_CHARS]


def _check_k(k: int) -> int:
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise InputError(f"k must be a whole number of at least 1, not {k!r}")
    return min(k, 1000)
