"""``qa.Index`` over a Milvus engine (qa/storage/milvus.py says where what is kept).

The same front as a folder index - ``add``, ``remove``, ``save``, ``search``, ``ask``, ``len``,
``documents``, and the CLI - with the engine as the source of truth:

- ``add``/``remove`` are this process's until ``save()`` commits them to the engine (articles
  whose content hash the engine holds already are not embedded or written again); questions are
  answered from what is committed.
- Each process keeps the articles (text, offsets, speakers: what a hit is made of, and BM25 of
  articles and titles) in memory, read from the engine when it opens and again whenever another
  writer's commit changes the engine's generation (polled at most every ``FOLLOW_SECONDS``, on a
  background thread). The sentence vectors stay in the engine: a question's candidates are the
  engine's nearest sentences (``ranking.sources.EngineCandidates``), ranked by the one ranking
  core as a folder index's are.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Iterable

import numpy as np

from .errors import IndexFileError, InputError
from .index import Index
from .ranking.corpusdata import CorpusData
from .ranking.sources import EngineCandidates, RowMap
from .state import Commit, Prepared, State
from .storage import milvus
from . import commits

log = logging.getLogger("qa.index")

FOLLOW_SECONDS = 1.0  # a question looks for another writer's commit at most this often
EXACT_ROWS = 2_000  # a search restricted to at most this many sentences scores them all
# (Milvus Lite's filtered HNSW search returns fewer than asked when the filter keeps few rows)


class EngineRows:
    """The engine seen as rows of one ``RowMap``: its nearest rows to a query, and rows'
    vectors. Engine results for an article version this row map does not hold (being written,
    or left by a killed writer) are dropped."""

    def __init__(self, rowmap: RowMap, engine: milvus.Engine, dim: int, articles: int,
                 exact_rows: int = EXACT_ROWS):
        """``articles``: besides the nearest sentences, every sentence of this many articles
        whose centroids are nearest (what the article-level features favour: a whole-corpus
        ranker finds them without their sentences being among the nearest)."""
        self.rowmap, self.engine, self.dim, self.exact_rows = rowmap, engine, dim, exact_rows
        self.articles = articles

    def _row(self, doc_id: str, digest: str, sent: int) -> int | None:
        at = self.rowmap.positions.get(doc_id)
        if at is None or self.rowmap.docs[at].hash != digest or sent >= self.rowmap.docs[at].size:
            return None
        return int(self.rowmap.doc_start[at] + sent)

    def candidates(self, query: np.ndarray, n: int, only: np.ndarray | None) -> np.ndarray:
        """The ``n`` nearest rows, best first (among ``only`` when given)."""
        doc_ids = None
        if only is not None:
            docs = self.rowmap.docs
            doc_ids = [docs[i].document.id for i in np.unique(self.rowmap.row_doc[only])]
            if len(only) <= self.exact_rows:
                return self._exact(query, n, doc_ids)
        rows = []
        for doc_id, digest, sent, _ in self.engine.search(query, n, doc_ids):
            row = self._row(doc_id, digest, sent)
            if row is not None:
                rows.append(row)
        rm = self.rowmap
        for doc_id, digest in self.engine.nearest_articles(query, self.articles, doc_ids):
            at = rm.positions.get(doc_id)
            if at is not None and rm.docs[at].hash == digest:
                rows.extend(range(int(rm.doc_start[at]), int(rm.doc_start[at + 1])))
        return np.array(list(dict.fromkeys(rows)), np.int64)

    def _exact(self, query: np.ndarray, n: int, doc_ids: list[str]) -> np.ndarray:
        """Every sentence of ``doc_ids``, read from the engine by a filter, scored exactly."""
        found = self.engine.of_articles(doc_ids, self.dim)
        rows, vectors = [], []
        for doc_id, digest, sent, vector in found:
            row = self._row(doc_id, digest, sent)
            if row is not None:
                rows.append(row)
                vectors.append(vector)
        if not rows:
            return np.zeros(0, np.int64)
        scores = np.asarray(vectors, np.float32) @ query
        order = np.argsort(-scores, kind="stable")[:n]
        return np.asarray(rows, np.int64)[order]

    def __getitem__(self, rows: np.ndarray) -> np.ndarray:
        rm, docs = self.rowmap, self.rowmap.docs
        keys = []
        for row in np.asarray(rows, np.int64).tolist():
            d = docs[rm.row_doc[row]]
            keys.append(milvus.sentence_key(d.document.id, d.hash, int(rm.row_sent[row])))
        return self.engine.vectors(keys, self.dim)


class MilvusIndex(Index):
    """An index in a Milvus engine: ``Index.open("milvus+lite:///srv/news.db")``,
    ``Index.build(docs, path="milvus+http://milvus:19530?collection=news")``."""

    def __init__(self, location: str, *, model: str | None = None, encoder=None, sizes=None):
        super().__init__(None, model=model, encoder=encoder, sizes=sizes)
        self.location = milvus.Location.parse(location)
        self._engine: milvus.Engine | None = None
        self._dimension: int | None = encoder.dim if encoder is not None else None
        self._centroids: dict[tuple[str, str], np.ndarray] = {}  # (id, hash) -> centroid
        self._looked = 0.0  # when a question last looked for another writer's commit

    # ---- construction -----------------------------------------------------------------------
    @classmethod
    def build(cls, docs: Iterable, path: str | None = None, *, model=None, encoder=None,
              progress=None, sizes=None) -> "MilvusIndex":
        """Embed ``docs`` into the collections at ``path``, replacing what they held."""
        index = cls(path, model=model, encoder=encoder, sizes=sizes)
        index.add(docs, progress=progress)
        index.save(replace=True)
        return index

    @classmethod
    def open(cls, path: str, *, model=None, encoder=None, sizes=None) -> "MilvusIndex":
        index = cls(path, model=model, encoder=encoder, sizes=sizes)
        read = index._read()
        if read is None:
            raise IndexFileError(f"no index at {index.location}: build one with `qa ingest "
                                 f"--index {index.location} PATH...`")
        index._state = index._state_of(read)
        if encoder is not None:
            index._check_backend(encoder)
        return index

    @classmethod
    def open_or_new(cls, path: str, *, model=None, encoder=None, sizes=None) -> "MilvusIndex":
        """The index at ``path``, or a new empty one there (written on the first save)."""
        try:
            return cls.open(path, model=model, encoder=encoder, sizes=sizes)
        except IndexFileError:
            index = cls(path, model=model, encoder=encoder, sizes=sizes)
            if index.engine.exists() and index.engine.meta() is not None:
                raise
            return index

    @property
    def engine(self) -> milvus.Engine:
        if self._engine is None:
            self._engine = milvus.Engine(self.location)
        return self._engine

    @property
    def path(self) -> str:  # type: ignore[override]
        """The index's location, as given (never holds a token)."""
        return str(self.location)

    def _read(self) -> milvus.Read | None:
        if not self.engine.exists():
            return None
        self.engine.load()  # a reopened collection is "released" until loaded
        read = self.engine.read()
        if read is None:
            return None
        if read.meta.model != self.model:
            raise self._other_model(read.meta.model)
        if self._encoder is not None and self._encoder.dim != read.meta.dim:
            raise IndexFileError(f"index at {self.location} holds {read.meta.dim}-dimensional "
                                 f"vectors, model {self.model!r} gives {self._encoder.dim}: run "
                                 f"`qa ingest --rebuild --index {self.location} PATH...`")
        self._dimension = read.meta.dim
        return read

    def _other_model(self, model: str) -> IndexFileError:
        return IndexFileError(f"index at {self.location} was built with model {model!r}, this "
                              f"run uses {self.model!r}: run `qa ingest --rebuild --index "
                              f"{self.location} PATH...` to re-embed, or set QA_MODEL={model}")

    def _state_of(self, read: milvus.Read) -> State:
        docs = {d.document.id: d for d in read.docs}
        for d, c in zip(read.docs, read.centroids):
            self._centroids[(d.document.id, d.hash)] = c
        return State(path=None, docs=docs, extra=dict(read.meta.extra), backend=read.meta.backend,
                     base=Commit(read.meta.generation, {i: d.hash for i, d in docs.items()},
                                 dict(read.meta.extra)), sizes=self.sizes)

    # ---- committing -----------------------------------------------------------------------------
    def save(self, path=None, *, replace: bool = False, derived: bool = True):
        """Commit this process's changes to the engine. Articles other processes committed
        meanwhile stay (each article is written on its own); ``replace=True`` empties the
        collections first (``qa ingest --rebuild``). ``derived``: ignored (the engine keeps
        its own search structures)."""
        if path is not None and str(path) not in (self.location.text, str(self.location)):
            raise InputError(f"this index lives in {self.location}; it saves there only (build "
                             "another with `qa ingest --index LOCATION PATH...`)")
        with self._commit_lock:
            view = self._state
            dim = self._dim(view)
            engine = self.engine
            with engine.write_lock:
                if replace:
                    engine.drop()
                    missing = [i for i in view.docs if i not in view.vectors]
                    if missing:
                        raise InputError(f"cannot replace {self.location} with articles whose "
                                         f"vectors are only in it ({missing[0]!r}): add them "
                                         "again first")
                    upserts = list(view.docs)
                    removals: list[str] = []
                else:
                    upserts = [i for i, h in view.changed.items() if h is not None]
                    removals = [i for i, h in view.changed.items() if h is None]
                if not engine.exists():
                    engine.create(dim)
                engine.load()
                meta = engine.meta()
                if meta is not None and meta.model != self.model:
                    raise self._other_model(meta.model)
                extra = dict(meta.extra) if meta is not None else {}
                for key, value in view.extra.items():  # settings this process changed
                    if replace or view.base.extra.get(key) != value:
                        extra[key] = value
                others = meta is not None and meta.generation != view.base.generation \
                    and not replace
                pairs = [(view.docs[i], view.vectors[i]) for i in upserts if i in view.vectors]
                relabelled = [(view.docs[i], self._centroids[(i, view.docs[i].hash)])
                              for i in upserts if i not in view.vectors]
                generation = engine.commit(pairs, removals, model=self.model, dim=dim,
                                           backend=view.backend, extra=extra,
                                           relabelled=relabelled)
            self._dimension = dim
            for d, vectors in pairs:
                self._centroids[(d.document.id, d.hash)] = milvus.centroid(vectors, dim)
            with self._lock:
                base = Commit(generation, {i: d.hash for i, d in view.docs.items()}, dict(extra))
                self._state = view.derive(changed={}, vectors={}, extra=extra, lazy=view.lazy,
                                          base=base)
            if self._rollback_to is not None:  # committed: a later failure keeps it
                self._rollback_to = self._state
            if others:  # another writer committed since this process read: take theirs too
                self.refresh(force=True)
        return self.location.text

    # ---- following other writers ----------------------------------------------------------------
    def refresh(self, force: bool = False) -> bool:
        """Switch to the engine's newest commit, keeping this process's unsaved changes on top.
        True when there was a newer commit."""
        with self._commit_lock:
            newest = self.engine.generation()
            if newest is None or (newest == self._state.base.generation and not force):
                return False
            read = self._read()
            if read is None:
                return False
            latest = self._state_of(read)
            mine = self._state
            fresh = commits.on_top_of(mine, latest) if mine.changed else latest
            self._prepared(fresh)  # ready to answer before it is swapped in
            with self._lock:
                self._state = fresh
            log.info("index at %s: now at generation %s (%d articles)", self.location,
                     newest, len(fresh.docs))
            return True

    def _follow(self) -> None:
        now = time.monotonic()
        with self._lock:
            if now - self._looked < FOLLOW_SECONDS or self._following is not None:
                return
            self._looked = now
            self._following = threading.Thread(target=self._follow_in_background,
                                               name="qa-follow", daemon=True)
            self._following.start()

    # ---- questions --------------------------------------------------------------------------------
    def _dim(self, state: State) -> int:
        for v in state.vectors.values():
            return int(v.shape[1])
        if self._dimension is None:
            self._dimension = self.encoder.dim
        return self._dimension

    def _prepared(self, state: State) -> Prepared:
        """The row source over the engine: the articles this state holds, BM25 of them and
        their centroids in memory; the sentence vectors in the engine."""
        with state.lazy.lock:
            if state.lazy.prepared is None:
                dim = self._dim(state)
                docs = list(state.docs.values())
                rowmap = RowMap.of(docs)
                centroids = np.zeros((len(docs), dim), np.float32)
                for i, d in enumerate(docs):
                    c = self._centroids.get((d.document.id, d.hash))
                    if c is None and d.document.id in state.vectors:  # not committed yet
                        c = milvus.centroid(state.vectors[d.document.id], dim)
                    if c is not None:
                        centroids[i] = c
                data = CorpusData.build(docs, None, dim, centroids=centroids)
                source = EngineCandidates(rowmap, EngineRows(rowmap, self.engine, dim,
                                                                    self.sizes.articles), data,
                                          self.sizes.candidates, self.sizes.articles)
                state.lazy.prepared = Prepared(rowmap, source)
            return state.lazy.prepared

    def vector_store(self):
        raise InputError(f"the index at {self.location} keeps its vectors in Milvus: search it "
                         "with search() or ask()")

    def _open_latest(self, path) -> State:  # used by Index.save only, which this replaces
        read = self._read()
        if read is None:
            raise IndexFileError(f"no index at {self.location}")
        return self._state_of(read)
