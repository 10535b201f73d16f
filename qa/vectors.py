"""The vector store: the sentence vectors in a FAISS index whose kind is chosen by size.

    flat      exact inner product over float32 vectors: small corpora (up to FLAT_MAX sentences),
              where a scan takes a few milliseconds and nothing approximate is worth its error
    ivf-sq8   inverted file (k-means cells, ``nprobe`` of them searched) over 8-bit scalar-
              quantized residuals: large corpora; a quarter of the memory of float32 and a small
              share of the scan, recall@10 >= 0.98 against exact search (bench/speed.py)

Every store is one FAISS index, saved with FAISS's own format (no pickle); its kind and search
setting travel inside that file. The interface is small on purpose - ``build``, ``search``,
``save``, ``load`` - so another engine (docs/scale.md) is a new class, not a rewrite.
"""
from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np

from .errors import IndexFileError

log = logging.getLogger(__name__)

FLAT_MAX = 50_000
TRAIN_PER_CELL = 40  # k-means sample size per cell; FAISS warns below 39
MAX_TRAIN = 200_000
NPROBE_MIN = 24  # measured: recall@10 >= 0.98 at 100k and 1M with cells = 4 sqrt(n) (BENCHMARKS.md)
SEED = 1234


def choose_kind(n: int) -> str:
    return "flat" if n <= FLAT_MAX else "ivf-sq8"


def cells_for(n: int) -> int:
    """k-means cells for ``n`` vectors: about 4 sqrt(n), a power of two."""
    return 2 ** max(4, round(math.log2(4 * math.sqrt(max(n, 1)))))


def nprobe_for(cells: int) -> int:
    return max(NPROBE_MIN, cells // 64)


class VectorStore:
    """Unit vectors in rows 0..n-1; ``search`` gives the best rows by inner product (cosine)."""

    def __init__(self, index, kind: str):
        self.index = index
        self.kind = kind

    # ---- construction -------------------------------------------------------------------
    @classmethod
    def build(cls, matrix: np.ndarray, dim: int | None = None, *, kind: str | None = None) -> "VectorStore":
        import faiss

        matrix = np.ascontiguousarray(matrix, dtype=np.float32)
        dim = int(matrix.shape[1]) if matrix.ndim == 2 and matrix.shape[1] else int(dim or 1)
        kind = kind or choose_kind(len(matrix))
        if kind == "flat":
            index = faiss.IndexFlatIP(dim)
        elif kind == "ivf-sq8":
            cells = cells_for(len(matrix))
            quantizer = faiss.IndexFlatIP(dim)
            index = faiss.IndexIVFScalarQuantizer(quantizer, dim, cells, faiss.ScalarQuantizer.QT_8bit,
                                                  faiss.METRIC_INNER_PRODUCT)
            index.train(_sample(matrix, min(MAX_TRAIN, cells * TRAIN_PER_CELL)))
            index.nprobe = nprobe_for(cells)
        else:
            raise ValueError(f"unknown vector store kind {kind!r}")
        if len(matrix):
            index.add(matrix)
        log.info("vector store %s: %d vectors of dimension %d", kind, len(matrix), dim)
        return cls(index, kind)

    @classmethod
    def load(cls, path: Path) -> "VectorStore":
        import faiss

        try:
            index = faiss.read_index(str(path))
        except RuntimeError as e:
            raise IndexFileError(f"{path} is not a readable FAISS index ({_last_line(e)}); "
                                 "rebuild the index with `qa ingest --rebuild`") from None
        return cls(index, _kind_of(index))

    def save(self, path: Path) -> None:
        import faiss

        faiss.write_index(self.index, str(path))

    # ---- use ----------------------------------------------------------------------------
    @property
    def ntotal(self) -> int:
        return int(self.index.ntotal)

    @property
    def dim(self) -> int:
        return int(self.index.d)

    @property
    def nbytes(self) -> int:
        """Memory the vectors take: codes and ids (approximate for IVF lists)."""
        import faiss

        if self.kind == "flat":
            return self.ntotal * self.dim * 4
        ivf = faiss.extract_index_ivf(self.index)
        return self.ntotal * (ivf.code_size + 8) + ivf.nlist * self.dim * 4

    def search(self, queries: np.ndarray, k: int, rows: np.ndarray | None = None):
        """(scores, row numbers), each (len(queries), <= k), best first; only among ``rows``
        when given. Missing results (fewer rows than k) are dropped for a single query."""
        import faiss

        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        k = min(k, self.ntotal if rows is None else len(rows))
        if k <= 0:
            empty = np.zeros((len(queries), 0))
            return empty.astype(np.float32), empty.astype(np.int64)
        params = None
        if rows is not None:
            sel = faiss.IDSelectorBatch(np.asarray(rows, dtype=np.int64))
            if self.kind == "flat":
                params = faiss.SearchParameters(sel=sel)
            else:  # a filter empties many cells: search more of them
                ivf = faiss.extract_index_ivf(self.index)
                params = faiss.SearchParametersIVF(sel=sel, nprobe=min(ivf.nlist, ivf.nprobe * 4))
        scores, ids = self.index.search(queries, k, params=params)
        return scores, ids


def _sample(matrix: np.ndarray, n: int) -> np.ndarray:
    if len(matrix) <= n:
        return matrix
    pick = np.random.default_rng(SEED).choice(len(matrix), n, replace=False)
    return matrix[np.sort(pick)]


def _kind_of(index) -> str:
    import faiss

    if isinstance(index, faiss.IndexFlat):
        return "flat"
    if isinstance(index, faiss.IndexIVFScalarQuantizer):
        return "ivf-sq8"
    raise IndexFileError(f"unexpected FAISS index type {type(index).__name__}; rebuild the index "
                         "with `qa ingest --rebuild`")


def _last_line(e: Exception) -> str:
    lines = str(e).strip().splitlines()
    return lines[-1][:200] if lines else type(e).__name__
