"""The vector store: the sentence vectors in a FAISS index whose kind is chosen by size.

    flat      exact inner product over float32 vectors: small corpora (up to FLAT_MAX sentences),
              where a scan takes a few milliseconds and nothing approximate is worth its error
    hnsw-sq8  HNSW graph over 8-bit scalar-quantized vectors: large corpora. A quarter of the
              memory of float32 for the vectors; the best RERANK candidates are re-scored with
              the exact float32 vectors when the caller has them (in memory, or read from disk
              with ``OnDiskVectors``): recall@10 against exact search 0.99 at 1M sentences for
              questions about the corpus (bench/speed.py, BENCHMARKS.md)

Why not IVF: questions sit far from the sentence clusters. On the 41.8k BBC sentences an inverted
file with a quarter of its cells probed had recall@10 0.92 (BBC and WikiQA questions, measured).

Every store is one FAISS index, saved with FAISS's own format (no pickle); its kind and search
setting travel inside that file. The interface is small on purpose - ``build``, ``search``,
``save``, ``load`` - so another engine (README, "Beyond one machine") is a new class, not a rewrite.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

from .errors import IndexFileError

log = logging.getLogger(__name__)

FLAT_MAX = 50_000
HNSW_M = 32  # graph degree: 16 saves 128 bytes a sentence and needs a larger search for recall
EF_CONSTRUCTION = 160  # 1M: built in 670 s, not 450 s as with 80; off-topic recall 0.92 -> 0.99
SQ_TRAIN = 20_000  # sample for the 8-bit quantizer's per-dimension ranges
RERANK = 40  # candidates re-scored exactly, at least; 4 k when k is larger
SEED = 1234


def choose_kind(n: int) -> str:
    return "flat" if n <= FLAT_MAX else "hnsw-sq8"


def ef_search_for(n: int) -> int:
    """Graph search breadth: recall@10 >= 0.98 after re-scoring for questions about the corpus
    at 100k and 1M sentences (BENCHMARKS.md)."""
    return 512 if n <= 300_000 else 1536


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

        matrix = np.ascontiguousarray(matrix, dtype=np.float32)
        dim = int(matrix.shape[1]) if matrix.ndim == 2 and matrix.shape[1] else int(dim or 1)
        kind = kind or choose_kind(len(matrix))
        if kind == "flat":
            index = faiss.IndexFlatIP(dim)
        elif kind == "hnsw-sq8":
            index = faiss.IndexHNSWSQ(dim, faiss.ScalarQuantizer.QT_8bit, HNSW_M,
                                      faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = EF_CONSTRUCTION
            index.hnsw.efSearch = ef_search_for(len(matrix))
            index.train(_sample(matrix, SQ_TRAIN))
        else:
            raise ValueError(f"unknown vector store kind {kind!r}")
        if len(matrix):
            index.add(matrix)
        log.info("vector store %s: %d vectors of dimension %d", kind, len(matrix), dim)
        return cls(index, kind, matrix if keep_exact and kind != "flat" else None)

    @classmethod
    def load(cls, path: Path, exact: np.ndarray | None = None) -> "VectorStore":
        import faiss

        try:
            index = faiss.read_index(str(path))
        except RuntimeError as e:
            raise IndexFileError(f"{path} is not a readable FAISS index ({_last_line(e)}); "
                                 "rebuild the index with `qa ingest --rebuild`") from None
        return cls(index, _kind_of(index), exact)

    @classmethod
    def from_bytes(cls, data: bytes, exact: np.ndarray | None = None) -> "VectorStore":
        import faiss

        try:
            index = faiss.deserialize_index(np.frombuffer(data, dtype=np.uint8))
        except RuntimeError as e:
            raise IndexFileError(f"the saved search index is not readable ({_last_line(e)}); "
                                 "rebuild the index with `qa ingest --rebuild`") from None
        return cls(index, _kind_of(index), exact)

    def to_bytes(self) -> bytes:
        import faiss

        return faiss.serialize_index(self.index).tobytes()

    def save(self, path: Path) -> None:
        import faiss

        faiss.write_index(self.index, str(path))

    def extended(self, vectors: np.ndarray, exact: np.ndarray | None = None) -> "VectorStore":
        """A copy with ``vectors`` appended as the next rows (this store is left as it is, so
        searches running on it are not disturbed)."""
        import faiss

        index = faiss.clone_index(self.index)
        if len(vectors):
            index.add(np.ascontiguousarray(vectors, dtype=np.float32))
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
        if self.kind == "flat":
            return self.ntotal * self.dim * 4
        links = int(self.index.hnsw.neighbors.size()) * 4 + self.ntotal * 12  # + offsets, levels
        return self.ntotal * self.dim + links

    def search(self, queries: np.ndarray, k: int, rows: np.ndarray | None = None):
        """(scores, row numbers), each (len(queries), k), best first; only among ``rows`` when
        given. Row -1 (score -inf) pads when fewer rows than k exist."""
        import faiss

        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        k = min(k, self.ntotal if rows is None else len(rows))
        if k <= 0:
            empty = np.zeros((len(queries), 0))
            return empty.astype(np.float32), empty.astype(np.int64)
        if rows is not None and self.kind != "flat" and self.exact is not None:
            rows = np.asarray(rows, dtype=np.int64)
            return _best(queries @ np.asarray(self.exact[rows]).T, rows, k)
        params = None
        if rows is not None:
            sel = faiss.IDSelectorBatch(np.asarray(rows, dtype=np.int64))
            params = faiss.SearchParameters(sel=sel) if self.kind == "flat" else \
                faiss.SearchParametersHNSW(sel=sel, efSearch=self.index.hnsw.efSearch * 2)
        if self.kind == "flat" or self.exact is None:
            return _search(self.index, queries, k, params)
        _, candidates = _search(self.index, queries, max(RERANK, 4 * k), params)
        scores = np.full((len(queries), k), -np.inf, np.float32)
        ids = np.full((len(queries), k), -1, np.int64)
        for q, cand in enumerate(candidates):
            cand = np.sort(cand[cand >= 0])  # sorted rows read a memory map in order
            s, i = _best(queries[q:q + 1] @ np.asarray(self.exact[cand]).T, cand, k)
            scores[q, :s.shape[1]], ids[q, :s.shape[1]] = s[0], i[0]
        return scores, ids


class OnDiskVectors:
    """Rows of a float32 ``.npy`` matrix read from disk on demand (``pread``), for re-scoring:
    a few dozen rows a question, so the matrix needs no memory (unlike a memory map, whose
    pages, with the kernel's fault-around, stay in the process's resident set)."""

    def __init__(self, path: Path):
        with open(path, "rb") as fh:
            version = np.lib.format.read_magic(fh)
            read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else \
                np.lib.format.read_array_header_2_0
            shape, fortran, dtype = read_header(fh)
            self.offset = fh.tell()
        if fortran or dtype != np.float32 or len(shape) != 2:
            raise IndexFileError(f"{path} is not a float32 matrix; rebuild the index")
        self.shape = shape
        self.path = path
        self._fd = os.open(path, os.O_RDONLY)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, rows) -> np.ndarray:
        rows = np.atleast_1d(np.asarray(rows, dtype=np.int64))
        width = self.shape[1] * 4
        out = np.empty((len(rows), self.shape[1]), np.float32)
        for n, r in enumerate(rows):
            out[n] = np.frombuffer(os.pread(self._fd, width, self.offset + int(r) * width), np.float32)
        return out

    def __del__(self):
        fd = getattr(self, "_fd", None)
        if fd is not None:
            os.close(fd)


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
        return matrix
    pick = np.random.default_rng(SEED).choice(len(matrix), n, replace=False)
    return matrix[np.sort(pick)]


def _kind_of(index) -> str:
    import faiss

    if isinstance(index, faiss.IndexFlat):
        return "flat"
    if isinstance(index, faiss.IndexHNSWSQ):
        return "hnsw-sq8"
    raise IndexFileError(f"unexpected FAISS index type {type(index).__name__}; rebuild the index "
                         "with `qa ingest --rebuild`")


def _last_line(e: Exception) -> str:
    lines = str(e).strip().splitlines()
    return lines[-1][:200] if lines else type(e).__name__
