"""What an index holds, as one frozen value: its articles and vectors, the commit they came from,
this process's changes since, and - built once, on the first question - what it needs to answer.

``qa.Index`` keeps one ``State`` and replaces it whole on every change (``add``, ``remove``, a
save, a refresh from another writer's commit); a question takes the state once and answers from
it to the end, whatever is swapped in meanwhile. Nothing is ever cleared by hand: a new state
starts with nothing prepared, except what a change can carry over (an approximate search graph
extended by new articles instead of built again).
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from .ranking.corpusdata import CorpusData
from .ranking.sources import AllRows, GraphCandidates, RowMap, RowSource
from .storage.rows import RawRows, RowBlocks
from .storage.stored import Snapshot, StoredDoc
from .storage.vectors import VectorStore, choose_kind
from . import tuning

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Commit:
    """What this process last read from, or wrote to, its folder: the generation, each article's
    content hash in it, and its extra settings. A save applies what changed since then on top of
    the folder's newest commit."""

    generation: str | None = None
    hashes: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)


def _tuned(name: str):
    return field(default_factory=lambda: getattr(tuning, name))


@dataclass(frozen=True)
class Sizes:
    """Where an index changes machinery (defaults: qa.tuning, read when an index is made, which
    says why). Public so that benchmarks and tests can run a small corpus the way a large one
    runs: ``Index.build(docs, sizes=Sizes(rank_all_max=0, flat_max=0))``."""

    rank_all_max: int = _tuned("RANK_ALL_MAX")  # past it: graph candidates, vectors on disk
    flat_max: int = _tuned("FLAT_MAX")  # past it: the vector store is an approximate graph
    candidates: int = _tuned("CANDIDATES")  # graph candidates a question ranks ...
    articles: int = _tuned("ARTICLES")  # ... with every sentence of this many of their articles


@dataclass(frozen=True)
class Opened:
    """The vectors as read from the folder, usable as they are while the articles are those read
    (their row order is the file's), and the ranking data stored with them."""

    ids: tuple[str, ...]
    rows: Any  # RawRows (large) or an array
    corpus: CorpusData | None


@dataclass(frozen=True)
class Prepared:
    """Ready to answer: which row is which sentence, and where a question's rows come from."""

    rowmap: RowMap
    source: RowSource


class _Lazy:
    """What a state builds on first use and keeps: it belongs to one state only, so it is never
    out of date."""

    def __init__(self, search: VectorStore | None = None, grow_from: VectorStore | None = None):
        self.lock = threading.RLock()
        self.search = search
        # an earlier state's graph over this state's first rows: ``search`` is that graph with
        # the rest added, on first use (not a copy of the graph at every ``add`` of an ingest)
        self.grow_from = grow_from
        self.corpus: CorpusData | None = None
        self.prepared: Prepared | None = None


@dataclass(frozen=True)
class State:
    path: Path | None = None
    docs: dict[str, StoredDoc] = field(default_factory=dict)  # row order: article after article
    vectors: dict[str, Any] = field(default_factory=dict)  # id -> its rows (array or RawRows)
    extra: dict = field(default_factory=dict)  # settings saved in the manifest (editable)
    backend: str | None = None  # the encoder backend that embedded the vectors; "mixed"
    base: Commit = Commit()  # the folder's commit this state is based on
    changed: dict[str, str | None] = field(default_factory=dict)  # since base: id -> hash/None
    opened: Opened | None = None
    sizes: Sizes = field(default_factory=Sizes)
    lazy: _Lazy = field(default_factory=_Lazy, compare=False, repr=False)

    @classmethod
    def from_snapshot(cls, snap: Snapshot, path: Path, sizes: Sizes) -> "State":
        """The state of an index just read from ``path``. A large index's vectors stay on disk
        (rows read as questions need them); a small one's are read once into one array that
        the ranker uses as it is."""
        large = len(snap.vectors) > sizes.rank_all_max
        rows = snap.vectors if large else np.asarray(snap.vectors, np.float32)
        docs, vectors, row = {}, {}, 0
        for d in snap.docs:
            docs[d.document.id] = d
            vectors[d.document.id] = rows.view(row, d.size) if large else rows[row:row + d.size]
            row += d.size
        corpus = CorpusData.from_files(snap.side, len(snap.docs), len(snap.vectors),
                                       snap.dim) if large else None
        return cls(path=path, docs=docs, vectors=vectors, extra=snap.extra, backend=snap.backend,
                   base=Commit(snap.generation, {d.document.id: d.hash for d in snap.docs},
                               dict(snap.extra)),
                   opened=Opened(tuple(docs), rows, corpus), sizes=sizes,
                   lazy=_Lazy(search=snap.search if large else None))

    def derive(self, **changes) -> "State":
        """A new state: this one's mappings copied (never shared), ``changes`` applied, nothing
        prepared unless ``lazy`` is given."""
        fields = dict(docs=dict(self.docs), vectors=dict(self.vectors), extra=dict(self.extra),
                      changed=dict(self.changed), lazy=_Lazy())
        fields.update(changes)
        return replace(self, **fields)

    def __len__(self) -> int:
        return sum(d.size for d in self.docs.values())

    @property
    def large(self) -> bool:
        return len(self) > self.sizes.rank_all_max

    def dim(self, default: int) -> int:
        for v in self.vectors.values():
            return int(v.shape[1])
        return default

    # ---- the vectors, in row order ----------------------------------------------------------
    def rows(self, dim: int):
        """Every sentence vector in row order, without copying: the saved file or array while
        the articles are those opened, else their blocks one after another."""
        ids = tuple(self.docs)
        if self.opened is not None and self.opened.ids == ids:
            return self.opened.rows
        return RowBlocks([self.vectors[d] for d in ids], self.dim(dim) if ids else 1)

    def matrix(self, dim: int) -> np.ndarray:
        """Every vector in one float32 array."""
        rows = self.rows(dim)
        if isinstance(rows, np.ndarray):
            return rows
        return np.ascontiguousarray(np.asarray(rows), np.float32).reshape(
            -1, self.dim(dim) if self.docs else 1)

    # ---- built on first use -------------------------------------------------------------------
    def search_store(self, dim: int) -> VectorStore:
        """The vector store over every sentence (exact or approximate by size); its re-scoring
        reads the vectors where they are (on disk for a large index)."""
        with self.lazy.lock:
            base = self.lazy.grow_from
            if self.lazy.search is None and base is not None:
                rows = self.rows(dim)
                self.lazy.search = base.extended(rows, rows, start=base.ntotal)
            if self.lazy.search is None:
                kind = choose_kind(len(self), self.sizes.flat_max)
                rows = self.matrix(dim) if kind == "flat" else self.rows(dim)  # (a graph: no copy)
                store = VectorStore.build(rows, self.dim(dim) if self.docs else 1,
                                          kind=kind, keep_exact=False)
                if store.kind != "flat":
                    store.exact = self.rows(dim)
                self.lazy.search = store
            return self.lazy.search

    def corpus(self, dim: int) -> CorpusData:
        """A large index's ranking data (postings): as saved, or computed from the articles."""
        with self.lazy.lock:
            if self.opened is not None and self.opened.ids == tuple(self.docs) \
                    and self.opened.corpus is not None:
                return self.opened.corpus
            if self.lazy.corpus is None:
                log.info("computing ranking data for %d sentences", len(self))
                self.lazy.corpus = CorpusData.build(list(self.docs.values()), self.rows(dim),
                                                    self.dim(dim), postings=True)
            return self.lazy.corpus

    def prepared(self, dim: int) -> Prepared:
        """The row source for questions: every row in memory up to ``sizes.rank_all_max``
        sentences, graph candidates above."""
        with self.lazy.lock:
            if self.lazy.prepared is None:
                docs = list(self.docs.values())
                rowmap = RowMap.of(docs)
                if self.large:
                    source = GraphCandidates(rowmap, self.search_store(dim), self.rows(dim),
                                             self.corpus(dim), self.sizes.candidates,
                                             self.sizes.articles)
                else:
                    matrix = self.matrix(dim) if docs else np.zeros((0, 1), np.float32)
                    row = 0
                    for d in docs:  # articles' vectors become views of it: each held once
                        self.vectors[d.document.id] = matrix[row:row + d.size]
                        row += d.size
                    source = AllRows(rowmap, matrix, CorpusData.build(docs, matrix,
                                                                      self.dim(dim)))
                self.lazy.prepared = Prepared(rowmap, source)
            return self.lazy.prepared

    def snapshot(self, model: str, dim: int, derived: bool = True) -> Snapshot:
        """What a save writes: a large index's search graph and ranking data too, unless
        ``derived`` is False (a long ingest's commits before its last: see ``Index.save``)."""
        vectors = self.rows(dim)
        derived = derived and self.large
        return Snapshot(model=model, dim=self.dim(dim), docs=list(self.docs.values()),
                        vectors=vectors, extra=dict(self.extra), backend=self.backend,
                        search=self.search_store(dim) if derived else None,
                        side=self.corpus(dim).to_files() if derived else {})

    def on_disk(self, gen_dir: Path, dim: int) -> "State":
        """This (large) state as just written to the generation folder ``gen_dir``: its vectors
        read from there (``RawRows``) instead of held in memory, as ``from_snapshot`` opens
        them, so a long ingest holds each batch's vectors only until its commit. What was built
        on first use is kept, its float rows read from disk too."""
        n, width = len(self), self.dim(dim)
        rows = RawRows(gen_dir / "vectors.f32", (n, width), "<f4",
                       checksums=np.fromfile(gen_dir / "vectors.sum", "<u8"))
        vectors, row = {}, 0
        for doc_id, d in self.docs.items():
            vectors[doc_id] = rows.view(row, d.size)
            row += d.size
        lazy = _Lazy(*(VectorStore(s.index, s.kind, rows if s.kind != "flat" else None)
                       if s is not None else None
                       for s in (self.lazy.search, self.lazy.grow_from)))
        lazy.corpus = self.lazy.corpus
        ids = tuple(self.docs)
        corpus = self.opened.corpus if self.opened is not None and self.opened.ids == ids \
            else None
        return replace(self, vectors=vectors, opened=Opened(ids, rows, corpus), lazy=lazy)
