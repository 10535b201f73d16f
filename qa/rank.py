"""The ranking core: plain functions over arrays and FAISS indexes. Nothing here loads a model or
touches disk."""
from __future__ import annotations

import numpy as np


def flat_index(matrix: np.ndarray, dim: int):
    """Exact inner-product FAISS index over unit vectors (inner product = cosine)."""
    import faiss

    index = faiss.IndexFlatIP(dim)
    if len(matrix):
        index.add(np.ascontiguousarray(matrix, dtype=np.float32))
    return index


def search_flat(index, query: np.ndarray, k: int, rows: np.ndarray | None = None):
    """Best ``k`` (scores, row numbers) for one unit query vector, optionally only among ``rows``."""
    import faiss

    params = None
    if rows is not None:
        params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(rows.astype(np.int64)))
    k = min(k, index.ntotal if rows is None else len(rows))
    scores, ids = index.search(query.reshape(1, -1).astype(np.float32), k, params=params)
    keep = ids[0] >= 0
    return scores[0][keep], ids[0][keep]


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` highest scores, best first (ties: lower index first)."""
    k = min(k, len(scores))
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    part = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
    return part[np.lexsort((part, -scores[part]))]
