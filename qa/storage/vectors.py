"""The vector store: the sentence vectors in a FAISS index whose kind is chosen by size.

    flat      exact inner product over float32 vectors: small corpora (up to qa.tuning.FLAT_MAX sentences),
              where a scan takes a few milliseconds and nothing approximate is worth its error
    hnsw-sq4  HNSW graph over 4-bit scalar-quantized vectors: large corpora. An eighth of the
              memory of float32 for the vectors; the best EXACT_RESCORE (qa.tuning) candidates are re-scored with
              the exact float32 vectors when the caller has them (in memory, or read from disk
              with ``RawRows``). At 100k sentences 4-bit codes gave the same recall@10 after
              re-scoring as 8-bit ones (1.000 on-topic, 0.994 / 0.989 off-topic) for 192 bytes
              a sentence less, which is what keeps a 1M-sentence index under 1 GB
              (BENCHMARKS.md, "Speed and scale")
    hnsw-sq8  the same graph over 8-bit codes (the kind before; still read and built on request)

Why not IVF: questions sit far from the sentence clusters. On the 41.8k BBC sentences an inverted
file with a quarter of its cells probed had recall@10 0.92 (BBC and WikiQA questions, measured).

Every store is one FAISS index, saved with FAISS's own format (no pickle); its kind and search
setting travel inside that file. The interface is small on purpose - ``build``, ``search``,
``save``, ``load`` - so another engine (README, "Beyond one machine") is a new class, not a rewrite.
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from ..errors import IndexFileError
from ..tuning import (EF_CONSTRUCTION, EF_SEARCH_LARGE, EF_SEARCH_SMALL, EF_SEARCH_SPLIT,
                      EXACT_RESCORE, EXACT_ROWS, FLAT_MAX, HNSW_M, SQ_TRAIN)
from .files import last_line

log = logging.getLogger(__name__)

SEED = 1234
CHUNK = 8192  # rows added to a graph at a time
QUANTIZERS = {"hnsw-sq4": "QT_4bit", "hnsw-sq8": "QT_8bit"}


def choose_kind(n: int, flat_max: int = FLAT_MAX) -> str:
    """The store for ``n`` vectors: exact up to ``flat_max``, else the 4-bit graph."""
    return "flat" if n <= flat_max else "hnsw-sq4"


def ef_search_for(n: int) -> int:
    """Graph search breadth: recall@10 >= 0.98 after re-scoring for questions about the corpus
    at 100k and 1M sentences (BENCHMARKS.md)."""
    return EF_SEARCH_SMALL if n <= EF_SEARCH_SPLIT else EF_SEARCH_LARGE


class VectorStore:
    """Unit vectors in rows 0..n-1; ``search`` gives the best rows by inner product (cosine).

    ``exact``: the same vectors in float32 (an (n, dim) array, or ``OnDiskVectors``), used to
    re-score an approximate index's candidates and for searches restricted to a few rows;
    optional."""

    def __init__(self, index, kind: str, exact: np.ndarray | None = None):
        self.index = index
        self.kind = kind
        self.exact = exact

    # ---- construction -------------------------------------------------------------------
    @classmethod
    def build(cls, matrix: np.ndarray, dim: int | None = None, *, kind: str | None = None,
              keep_exact: bool = True) -> "VectorStore":
        import faiss

        kind = kind or choose_kind(len(matrix))
        if not (kind in QUANTIZERS and hasattr(matrix, "chunks")):
            matrix = np.ascontiguousarray(matrix, dtype=np.float32)
        # else ``matrix`` is row blocks (qa/storage/rows.py): a graph keeps codes, not floats, so
        # they are added a chunk at a time and the float rows are never copied whole
        dim = int(matrix.shape[1]) if matrix.ndim == 2 and matrix.shape[1] else int(dim or 1)
        if kind == "flat":
            index = faiss.IndexFlatIP(dim)
        elif kind in QUANTIZERS:
            index = faiss.IndexHNSWSQ(dim, getattr(faiss.ScalarQuantizer, QUANTIZERS[kind]),
                                      HNSW_M, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = EF_CONSTRUCTION
            index.hnsw.efSearch = ef_search_for(len(matrix))
            index.train(_sample(matrix, SQ_TRAIN))
        else:
            raise ValueError(f"unknown vector store kind {kind!r}")
        for chunk in matrix.chunks() if hasattr(matrix, "chunks") else [matrix]:
            if len(chunk):
                index.add(chunk)
        log.info("vector store %s: %d vectors of dimension %d", kind, len(matrix), dim)
        return cls(index, kind, matrix if keep_exact and kind != "flat" else None)

    @classmethod
    def load(cls, path: Path, exact: np.ndarray | None = None) -> "VectorStore":
        import faiss

        try:
            index = faiss.read_index(str(path))
        except RuntimeError as e:
            raise IndexFileError(f"{path} is not a readable FAISS index ({last_line(e)}); "
                                 "rebuild the index with `qa ingest --rebuild`") from None
        return cls(index, _kind_of(index), exact)

    def save(self, path: Path) -> None:
        import faiss

        faiss.write_index(self.index, str(path))

    def extended(self, vectors, exact=None, *, start: int = 0) -> "VectorStore":
        """A copy with ``vectors[start:]`` appended as the next rows, added a bounded number at
        a time (an array, or rows read from disk); this store is left as it is, so searches
        running on it are not disturbed."""
        import faiss

        index = faiss.clone_index(self.index)
        for lo in range(start, len(vectors), CHUNK):
            index.add(np.ascontiguousarray(vectors[lo:lo + CHUNK], dtype=np.float32))
        return VectorStore(index, self.kind, exact if exact is not None else self.exact)

    # ---- use ----------------------------------------------------------------------------
    @property
    def ntotal(self) -> int:
        return int(self.index.ntotal)

    @property
    def dim(self) -> int:
        return int(self.index.d)

    @property
    def nbytes(self) -> int:
        """Memory the index takes: vectors or codes, and graph links (not ``exact``)."""
        import faiss

        if self.kind == "flat":
            return self.ntotal * self.dim * 4
        links = int(self.index.hnsw.neighbors.size()) * 4 + self.ntotal * 12  # + offsets, levels
        return self.ntotal * int(faiss.downcast_index(self.index.storage).code_size) + links

    def candidates(self, query: np.ndarray, n: int, rows: np.ndarray | None = None) -> np.ndarray:
        """Up to ``n`` rows nearest ``query`` by the store's own scores (approximate for a graph:
        the caller re-scores them), nearest first; only among ``rows`` when given."""
        query = np.ascontiguousarray(np.atleast_2d(query)[:1], dtype=np.float32)
        n = min(n, self.ntotal if rows is None else len(rows))
        if n <= 0:
            return np.zeros(0, np.int64)
        if rows is not None and self.exact is not None and len(rows) <= EXACT_ROWS:
            rows = np.asarray(rows, dtype=np.int64)
            return _best(query @ np.asarray(self.exact[rows]).T, rows, n)[1][0]
        _, ids = _search(self.index, query, n, self._params(rows))
        return ids[0][ids[0] >= 0]

    def _params(self, rows: np.ndarray | None):
        import faiss

        if rows is None:
            return None
        sel = faiss.IDSelectorBatch(np.asarray(rows, dtype=np.int64))
        return faiss.SearchParameters(sel=sel) if self.kind == "flat" else \
            faiss.SearchParametersHNSW(sel=sel, efSearch=self.index.hnsw.efSearch * 2)

    def search(self, queries: np.ndarray, k: int, rows: np.ndarray | None = None):
        """(scores, row numbers), each (len(queries), k), best first; only among ``rows`` when
        given. Row -1 (score -inf) pads when fewer rows than k exist."""
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        k = min(k, self.ntotal if rows is None else len(rows))
        if k <= 0:
            empty = np.zeros((len(queries), 0))
            return empty.astype(np.float32), empty.astype(np.int64)
        if rows is not None and self.kind != "flat" and self.exact is not None:
            rows = np.asarray(rows, dtype=np.int64)
            return _best(queries @ np.asarray(self.exact[rows]).T, rows, k)
        params = self._params(rows)
        if self.kind == "flat" or self.exact is None:
            return _search(self.index, queries, k, params)
        _, candidates = _search(self.index, queries, max(EXACT_RESCORE, 4 * k), params)
        scores = np.full((len(queries), k), -np.inf, np.float32)
        ids = np.full((len(queries), k), -1, np.int64)
        for q, cand in enumerate(candidates):
            cand = np.sort(cand[cand >= 0])  # sorted rows read a memory map in order
            s, i = _best(queries[q:q + 1] @ np.asarray(self.exact[cand]).T, cand, k)
            scores[q, :s.shape[1]], ids[q, :s.shape[1]] = s[0], i[0]
        return scores, ids


def _search(index, queries: np.ndarray, k: int, params):
    """``index.search``; one question runs on one thread. FAISS parallelises over questions, so
    for one the other OpenMP threads only wait - and on a busy CPU their waiting costs more than
    the search (measured: 10k flat, p50 20 ms with 2 threads, 0.6 ms with 1)."""
    import faiss

    if len(queries) > 1:
        return index.search(queries, k, params=params)
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        return index.search(queries, k, params=params)
    finally:
        faiss.omp_set_num_threads(threads)


def _best(scores: np.ndarray, rows: np.ndarray, k: int):
    """Top ``k`` of each row of ``scores`` (columns are ``rows``), best first."""
    k = min(k, scores.shape[1])
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    top = np.take_along_axis(scores, part, 1)
    order = np.argsort(-top, axis=1, kind="stable")
    return np.take_along_axis(top, order, 1).astype(np.float32), rows[np.take_along_axis(part, order, 1)]


def _sample(matrix: np.ndarray, n: int) -> np.ndarray:
    if len(matrix) <= n:
        return matrix if isinstance(matrix, np.ndarray) else matrix[np.arange(len(matrix))]
    pick = np.random.default_rng(SEED).choice(len(matrix), n, replace=False)
    return matrix[np.sort(pick)]


def _kind_of(index) -> str:
    import faiss

    if isinstance(index, faiss.IndexFlat):
        return "flat"
    if isinstance(index, faiss.IndexHNSWSQ):
        qtype = faiss.downcast_index(index.storage).sq.qtype
        for kind, name in QUANTIZERS.items():
            if qtype == getattr(faiss.ScalarQuantizer, name):
                return kind
    raise IndexFileError(f"unexpected FAISS index type {type(index).__name__}; rebuild the index "
                         "with `qa ingest --rebuild`")
