"""The index: articles split into sentences, embedded, searchable, saved to a folder.

``Index`` is the front: it checks input, embeds, and keeps one ``qa.state.State`` that it swaps
whole on every change. The parts behind it: qa/storage/ (the folder, the vector store),
qa/commits.py (how changes make new states, also on top of another writer's commit),
qa/ranking/question.py (the path of a question).
"""
from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from itertools import chain
from pathlib import Path
from types import MappingProxyType
from typing import Iterable, Mapping, Sequence

import numpy as np

from . import articles, commits
from .articles import AddReport, content_hash  # noqa: F401  (public names)
from .encoders import Encoder, ProgressFn, device_name, ingest_encoder, load_encoder, model_name
from .encoders.overlap import embed_while_split
from .errors import IndexFileError, InputError
from .following import Following
from .ranking import crossencoder
from .ranking.question import answer, check_k, clean
from .state import Sizes, State
from .storage import folder, milvus
from .tuning import CONTEXT_SENTENCES
from .types import Answer, Document, Hit

log = logging.getLogger(__name__)


class Index(Following):
    """Sentences of news articles in a FAISS index. Build with ``Index.build``, load with
    ``Index.open``; ``search`` and ``ask`` answer questions.

    Public switches: ``encoder`` (the model that encodes questions; settable), ``rerank``
    (None: ``QA_RERANK`` and the index's size decide; False: never; True: always), ``sizes``
    (where the index changes machinery, qa.state.Sizes)."""

    def __init__(self, path: str | Path | None = None, *, model: str | None = None,
                 encoder: Encoder | None = None, sizes: Sizes | None = None):
        self._encoder = encoder
        self.model = encoder.name if encoder is not None else (model or model_name())
        self.rerank: bool | None = None
        self._state = State(path=Path(path) if path is not None else None, sizes=sizes or Sizes())
        self._lock = threading.RLock()  # held briefly: swapping state
        self._commit_lock = threading.RLock()  # held by changes, saves and refreshes
        self._rollback_to: State | None = None  # in a transaction: what a failure goes back to
        self._warned_backend = False
        super().__init__()

    # ---- construction -------------------------------------------------------------------
    @classmethod
    def build(cls, docs: Iterable[Document], path: str | Path | None = None, *,
              model: str | None = None, encoder: Encoder | None = None,
              progress: bool | ProgressFn | None = None, sizes: Sizes | None = None) -> "Index":
        """Embed ``docs``; save to ``path`` when given (``None`` keeps it in memory). ``path``
        may be a Milvus location (qa/storage/milvus.py: ``milvus+lite:///PATH/news.db``,
        ``milvus+http://HOST:PORT``)."""
        if milvus.is_location(path) and cls is Index:
            from .milvusindex import MilvusIndex

            return MilvusIndex.build(docs, path, model=model, encoder=encoder,
                                     progress=progress, sizes=sizes)
        index = cls(path, model=model, encoder=encoder, sizes=sizes)
        index.add(docs, progress=progress)
        if index.path is not None:
            index.save(replace=True)
        return index

    @classmethod
    def open(cls, path: str | Path, *, model: str | None = None,
             encoder: Encoder | None = None, sizes: Sizes | None = None) -> "Index":
        """Load a saved index without re-embedding. The configured model must be the one it was
        built with. ``path``: a folder or a Milvus location."""
        if milvus.is_location(path) and cls is Index:
            from .milvusindex import MilvusIndex

            return MilvusIndex.open(path, model=model, encoder=encoder, sizes=sizes)
        path = Path(path)
        index = cls(path, model=model, encoder=encoder, sizes=sizes)
        seen = index._manifest_key()  # before reading: a later commit is noticed
        snap = folder.load(path)
        index._manifest_seen = seen
        if snap.model != index.model:
            raise IndexFileError(f"index at {path} was built with model {snap.model!r}, this run "
                                 f"uses {index.model!r}: run `qa ingest --rebuild --index {path} "
                                 f"PATH...` to re-embed, or set QA_MODEL={snap.model}")
        if encoder is not None and encoder.dim != snap.dim:
            raise IndexFileError(f"index at {path} holds {snap.dim}-dimensional vectors, model "
                                 f"{index.model!r} gives {encoder.dim}: run `qa ingest --rebuild "
                                 f"--index {path} PATH...` to re-embed")
        index._state = State.from_snapshot(snap, path, index.sizes)
        if encoder is not None:
            index._check_backend(encoder)
        return index

    # ---- settings and contents ------------------------------------------------------------
    @property
    def encoder(self) -> Encoder:
        if self._encoder is None:
            self._encoder = load_encoder(self.model)
            self._check_backend(self._encoder)
        return self._encoder

    @encoder.setter
    def encoder(self, encoder: Encoder) -> None:
        self._encoder = encoder

    @property
    def state(self) -> State:
        """What the index holds now (a frozen value: later changes make a new one)."""
        return self._state

    @property
    def path(self) -> Path | None:
        return self._state.path

    @property
    def sizes(self) -> Sizes:
        return self._state.sizes

    @property
    def extra(self) -> dict:
        """Settings saved in the manifest with the index (a dict; change it in place)."""
        return self._state.extra

    @property
    def backend(self) -> str | None:
        """The encoder backend that embedded the vectors (None: unknown; "mixed": several)."""
        return self._state.backend

    @property
    def reranker(self):
        """The cross-encoder that re-orders the ranker's best candidates, or None when it is off
        for this index (``rerank``, ``QA_RERANK``; by default on up to ``tuning.RERANK_MAX``
        sentences)."""
        return self._reranker_for(len(self))

    def _reranker_for(self, sentences: int):
        on = crossencoder.enabled(sentences) if self.rerank is None else self.rerank
        return crossencoder.load() if on else None

    def __len__(self) -> int:
        return len(self._state)

    @property
    def documents(self) -> list[Document]:
        return [d.document for d in self._state.docs.values()]

    def catalogue(self) -> list[tuple[Document, int]]:
        """Every article with its number of sentences, read from one state (a refresh may swap
        the state in between two other calls)."""
        return [(d.document, d.size) for d in self._state.docs.values()]

    def listing_key(self) -> tuple:
        """What changes when the articles held change: (commit, articles) of the current state
        (a page lists the articles again when it differs)."""
        state = self._state
        return state.base.generation, len(state.docs)

    def sentence_count(self, doc_id: str) -> int:
        try:
            return self._state.docs[doc_id].size
        except KeyError:
            raise InputError(f"no article {doc_id!r} in this index") from None

    def vector_store(self):
        """The vector store over every sentence (built on first use)."""
        state = self._state
        return state.search_store(self._dim(state))

    def row_source(self):
        """Where questions take the rows they rank from (qa/ranking/sources.py: every row in
        memory, or candidates from the graph), prepared on first use."""
        return self._prepared(self._state).source

    def _prepared(self, state: State):
        """What ``state`` needs to answer (built on first use; qa.state.Prepared)."""
        return state.prepared(self._dim(state))

    # ---- changes --------------------------------------------------------------------------
    def add(self, docs: Iterable[Document], *, progress: bool | ProgressFn | None = None) -> AddReport:
        """Add or replace documents. A document whose id and content are already indexed is not
        embedded again. The change is this process's until ``save()`` commits it."""
        report = AddReport()
        batch: dict[str, Document] = {}
        for doc in articles.documents(docs):
            articles.check(doc)
            prior = batch.get(doc.id)
            if prior is not None and content_hash(prior) != content_hash(doc):
                raise InputError(f"two different articles have the id {doc.id!r} "
                                 f"({prior.origin or 'first'} and {doc.origin or 'second'}); "
                                 "ids must be unique, nothing was added")
            batch[doc.id] = doc
        with self._commit_lock:
            return self._add(batch, report, progress)

    def _add(self, batch: dict[str, Document], report: AddReport, progress) -> AddReport:
        batch = articles.new_or_changed(batch, self._state.docs, report)
        vectors = self._encode(batch.split(report), progress)  # split while embedding
        stored = batch.stored()
        with self._lock:
            state = self._state
            backend = self._backend_after(state, bool(batch.texts))
            self._state, updated = commits.added(state, stored, vectors, batch.relabelled,
                                                 backend)
        report.updated = updated + [d.document.id for d in batch.relabelled]
        report.added = [d.document.id for d in stored if d.document.id not in updated]
        report.sentences = len(batch.texts)
        return report

    def remove(self, doc_ids: Iterable[str]) -> list[str]:
        """Remove documents by id; returns the ids that were there. The change is this
        process's until ``save()`` commits it."""
        doc_ids = articles.ids(doc_ids)
        with self._commit_lock, self._lock:
            self._state, gone = commits.removed(self._state, doc_ids)
        return gone

    def save(self, path: str | Path | None = None, *, replace: bool = False,
             derived: bool = True) -> Path:
        """Commit to ``path`` (default: where it was opened or built), atomically.

        Saving to the index's own folder is a commit: under the folder's lock, this process's
        changes since it last read or saved the folder (articles added, replaced, removed) are
        applied on top of the newest state there, so articles that other processes committed
        meanwhile are kept; when another process changed the same article, this commit's
        version wins and the log says so. Afterwards this index holds the committed state.
        ``replace=True`` writes this index as the whole folder instead (``qa ingest
        --rebuild``); saving to another folder writes a copy. If the save fails, nothing
        changes, on disk or in memory.

        ``derived=False`` leaves a large index's search graph and ranking data out of this
        commit: a long ingest's commits before its last, which would otherwise build them over
        the whole index again each time (a reader of such a commit builds them itself, once).
        After a large index's commit its vectors are read from the folder, not held in memory."""
        target = Path(path) if path is not None else self.path
        if target is None:
            raise InputError("this index lives in memory; give save() a folder")
        own = self.path is None or _same_folder(target, self.path)
        with self._commit_lock, folder.locked(target):
            view = self._state
            if own and not replace:
                newest = folder.current_generation(target)
                if newest is not None and newest != view.base.generation:
                    view = commits.on_top_of(view, self._open_latest(target))
            generation = folder.write(target, view.snapshot(self.model, self._dim(view),
                                                            derived))
            if own:
                view = commits.committed(view, generation, target)
                if view.large:
                    view = view.on_disk(target / generation, self._dim(view))
                with self._lock:
                    self._state = view
                if self._rollback_to is not None:  # committed: a failure later in the
                    self._rollback_to = view.derive(lazy=view.lazy)  # block keeps it
        return target

    @contextmanager
    def transaction(self):
        """Changes made in the block happen together or not at all: when it raises (a save
        that failed on a full or read-only disk, say), this index is put back as it was - or, if
        a save in the block committed, as that save left it (what is committed stays so).

            with index.transaction():
                index.add(docs)
                index.save()
        """
        with self._commit_lock:
            # a copy: settings in ``extra`` are changed in place, and come back too
            outer = self._rollback_to
            self._rollback_to = self._state.derive(lazy=self._state.lazy)
            try:
                yield self
            except BaseException:
                with self._lock:  # back to the state before the block, or as its last save
                    self._state = self._rollback_to  # committed it
                raise
            finally:
                self._rollback_to = outer

    # ---- questions ----------------------------------------------------------------------
    def search(self, question: str, k: int = 5, *, doc_ids: Sequence[str] | None = None) -> list[Hit]:
        """The ``k`` sentences that best answer ``question``, best first."""
        only = None if doc_ids is None else articles.ids(doc_ids)
        return self._plain_ask(question, k, only).hits

    def ask(self, question: str, k: int | None = None, *, doc_ids: Sequence[str] | None = None,
            since=None, until=None, sources: Sequence[str] | str | None = None) -> Answer:
        """The answer to ``question`` (qa/asking.py): the best ``k`` sentences (``None``: 5); for
        "what did X say" questions every statement of X's (``k`` caps them; ``None``: all). Only
        articles published ``since``/``until`` (dates) by ``sources`` are searched; a time phrase
        in the question ("last week") sets the dates when they are not given."""
        from .asking import ask

        return ask(self, question, k, doc_ids=doc_ids, since=since, until=until, sources=sources)

    def stored(self) -> Mapping:
        """Every article as stored (sentence offsets, speakers: qa.storage.stored.StoredDoc),
        from one state: a read-only view, no copy (a state is never changed once in use)."""
        return MappingProxyType(self._state.docs)

    def _plain_ask(self, question: str, k: int, doc_ids: Sequence[str] | None = None) -> Answer:
        """The ``k`` sentences that best answer ``question``, and whether any does: the ranking
        alone (qa/ranking/question.py), no statements, no date limits."""
        question, k = clean(question), check_k(k)
        self._follow()
        state = self._state  # one consistent state to the end: later changes make a new one
        prepared = self._prepared(state)
        sentences = len(prepared.rowmap)  # (len(state) sums over every article: not per question)
        if not sentences:
            return Answer(question=question, hits=[], answered=False)
        only = None
        if doc_ids is not None:
            only = prepared.rowmap.rows_of(doc_ids)
            if not len(only):
                return Answer(question=question, hits=[], answered=False)
        result = answer(question, k, prepared.source, self.encoder,
                        self._reranker_for(sentences), only, CONTEXT_SENTENCES)
        return Answer(question=question, hits=result.hits, answered=result.answered)

    # ---- internals ----------------------------------------------------------------------
    def _encode(self, articles: Iterable[list[str]],
                progress: bool | ProgressFn | None) -> np.ndarray:
        """The vectors of every sentence of ``articles`` (each article's sentences, split as
        they are iterated: the first are embedded while the rest are split)."""
        articles = iter(articles)
        first = next(articles, None)
        if first is None:
            state = self._state
            return np.zeros((0, self._dim(state) if state.docs or self._encoder else 0),
                            np.float32)
        encoder = self._ingest_encoder()
        self._embedded_with = encoder
        return embed_while_split(encoder, chain([first], articles), progress)[1]

    def _ingest_encoder(self) -> Encoder:
        """The question encoder, or the same model on a GPU (``QA_DEVICE``; an encoder given to
        the index is always used as it is)."""
        if self._encoder is None and device_name() != "cpu":
            return ingest_encoder(self.model)
        return self.encoder

    def _dim(self, state: State) -> int:
        for v in state.vectors.values():
            return int(v.shape[1])
        return self.encoder.dim

    def _backend_after(self, state: State, embedded: bool) -> str | None:
        """The backend to record once this process's encoder embedded vectors ("mixed" once a
        second one adds some)."""
        encoder = getattr(self, "_embedded_with", None) or self._encoder
        if not embedded or encoder is None:
            return state.backend
        mine = getattr(encoder, "backend", None)
        if not state.docs:
            return mine
        if mine != state.backend and state.backend != "mixed":
            log.warning("adding vectors of the %s backend to an index embedded with %s; it is "
                        "now recorded as mixed. `qa ingest --rebuild` re-embeds it with one",
                        mine, state.backend)
            return "mixed"
        return state.backend

    def _check_backend(self, encoder: Encoder) -> None:
        """Backends of one model give vectors that agree to cosine > 0.99 (BENCHMARKS.md), so
        an index embedded with one is searched with another; say so once, with the fix."""
        mine, theirs = getattr(encoder, "backend", None), self.backend
        if theirs and mine and mine != theirs and not self._warned_backend:
            self._warned_backend = True
            log.warning("index at %s was embedded with the %s backend, questions are encoded "
                        "with %s: answers may differ slightly. Set QA_BACKEND=%s, or run `qa "
                        "ingest --rebuild --index %s PATH...` to re-embed", self.path,
                        theirs, mine, theirs, self.path)

    def _open_latest(self, path: Path) -> State:
        return Index.open(path, model=self.model, encoder=self._encoder, sizes=self.sizes)._state


def _same_folder(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return a == b
