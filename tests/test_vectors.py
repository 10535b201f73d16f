"""The vector store: exact and approximate kinds agree on small data, and survive a save."""
from __future__ import annotations

import numpy as np
import pytest

from qa.encoders import normalise
from qa.errors import IndexFileError
from qa.vectors import FLAT_MAX, VectorStore, cells_for, choose_kind


def clustered(n: int, dim: int = 32, seed: int = 0) -> np.ndarray:
    """Unit vectors around 50 topics, as sentence vectors are."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(50, dim))
    return normalise(centres[rng.integers(0, 50, n)] + 0.4 * rng.normal(size=(n, dim)))


def test_kind_is_chosen_by_size():
    assert choose_kind(10) == "flat"
    assert choose_kind(FLAT_MAX) == "flat"
    assert choose_kind(FLAT_MAX + 1) == "ivf-sq8"
    assert cells_for(1_000_000) == 4096


def test_approximate_search_agrees_with_exact_on_small_data():
    data = clustered(4000)
    queries = normalise(data[:40] + 0.05 * np.random.default_rng(1).normal(size=(40, 32)))
    exact = VectorStore.build(data, kind="flat")
    approx = VectorStore.build(data, kind="ivf-sq8")
    assert approx.kind == "ivf-sq8" and approx.ntotal == 4000
    _, want = exact.search(queries, 10)
    _, got = approx.search(queries, 10)
    assert (got[:, 0] == want[:, 0]).mean() >= 0.95
    recall = np.mean([len(set(g) & set(w)) / 10 for g, w in zip(got, want)])
    assert recall >= 0.9
    assert approx.nbytes < exact.nbytes


def test_rows_filter_keeps_results_inside_the_rows():
    data = clustered(3000)
    rows = np.arange(100, 200)
    for kind in ("flat", "ivf-sq8"):
        store = VectorStore.build(data, kind=kind)
        _, ids = store.search(data[150], 5, rows=rows)
        assert ids[0][0] == 150 and set(ids[0]) <= set(rows.tolist())


@pytest.mark.parametrize("kind", ["flat", "ivf-sq8"])
def test_save_and_load_give_the_same_results(tmp_path, kind):
    data = clustered(3000)
    store = VectorStore.build(data, kind=kind)
    store.save(tmp_path / "v.faiss")
    loaded = VectorStore.load(tmp_path / "v.faiss")
    assert (loaded.kind, loaded.ntotal, loaded.dim) == (kind, 3000, 32)
    s1, i1 = store.search(data[:5], 7)
    s2, i2 = loaded.search(data[:5], 7)
    assert (i1 == i2).all() and np.allclose(s1, s2)


def test_empty_store_searches_to_nothing():
    store = VectorStore.build(np.zeros((0, 8), np.float32), 8)
    scores, ids = store.search(np.ones(8, np.float32), 3)
    assert ids.shape == (1, 0)


def test_damaged_file_is_a_readable_error(tmp_path):
    (tmp_path / "v.faiss").write_bytes(b"not faiss")
    with pytest.raises(IndexFileError, match="rebuild"):
        VectorStore.load(tmp_path / "v.faiss")
