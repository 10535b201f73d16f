"""The vector store: exact and approximate kinds agree on small data, and survive a save."""
from __future__ import annotations

import numpy as np
import pytest

from qa.encoders import normalise
from qa.errors import IndexFileError
from qa.storage.vectors import VectorStore, choose_kind
from qa.tuning import FLAT_MAX, SQ_TRAIN


def clustered(n: int, dim: int = 32, seed: int = 0) -> np.ndarray:
    """Unit vectors around 50 topics, as sentence vectors are."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(50, dim))
    return normalise(centres[rng.integers(0, 50, n)] + 0.4 * rng.normal(size=(n, dim)))


def test_kind_is_chosen_by_size():
    assert choose_kind(10) == "flat"
    assert choose_kind(FLAT_MAX) == "flat"
    assert choose_kind(FLAT_MAX + 1) == "hnsw-sq4"


@pytest.mark.parametrize("kind, rerank", [("hnsw-sq4", True), ("hnsw-sq8", True),
                                          ("hnsw-sq8", False)])
def test_approximate_search_agrees_with_exact_on_small_data(kind, rerank):
    data = clustered(4000)
    queries = normalise(data[:40] + 0.05 * np.random.default_rng(1).normal(size=(40, 32)))
    exact = VectorStore.build(data, kind="flat")
    approx = VectorStore.build(data, kind=kind, keep_exact=rerank)
    assert approx.kind == kind and approx.ntotal == 4000
    want_scores, want = exact.search(queries, 10)
    scores, got = approx.search(queries, 10)
    assert (got[:, 0] == want[:, 0]).mean() >= 0.95
    recall = np.mean([len(set(g) & set(w)) / 10 for g, w in zip(got, want)])
    assert recall >= (0.98 if rerank else 0.9)
    if rerank:  # re-scored with the float vectors: the exact scores
        assert np.allclose(scores[:, 0], want_scores[:, 0], atol=1e-5)


def test_compressed_store_is_smaller_at_sentence_dimension():
    data = clustered(2000, dim=384)
    flat, approx = VectorStore.build(data, kind="flat"), VectorStore.build(data, kind="hnsw-sq8")
    assert approx.nbytes < 0.5 * flat.nbytes
    sq4 = VectorStore.build(data, kind="hnsw-sq4")
    assert sq4.nbytes == approx.nbytes - 2000 * 192  # 4-bit codes: half the bytes of 8-bit


def test_rows_filter_keeps_results_inside_the_rows():
    data = clustered(3000)
    rows = np.arange(100, 200)
    for kind, keep in (("flat", True), ("hnsw-sq8", True), ("hnsw-sq8", False)):
        store = VectorStore.build(data, kind=kind, keep_exact=keep)
        _, ids = store.search(data[150], 5, rows=rows)
        assert ids[0][0] == 150 and set(ids[0]) <= set(rows.tolist())


@pytest.mark.parametrize("kind", ["flat", "hnsw-sq8", "hnsw-sq4"])
def test_save_and_load_give_the_same_results(tmp_path, kind):
    data = clustered(3000)
    store = VectorStore.build(data, kind=kind)
    store.save(tmp_path / "v.faiss")
    np.save(tmp_path / "v.npy", data)
    loaded = VectorStore.load(tmp_path / "v.faiss", exact=np.load(tmp_path / "v.npy", mmap_mode="r"))
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


def test_rescoring_from_disk_reads_the_same_rows(tmp_path):
    from qa.storage.rows import OnDiskVectors

    data = clustered(3000)
    np.save(tmp_path / "v.npy", data)
    on_disk = OnDiskVectors(tmp_path / "v.npy")
    assert len(on_disk) == 3000 and np.array_equal(on_disk[[5, 2999, 0]], data[[5, 2999, 0]])
    store = VectorStore.build(data, kind="hnsw-sq8")
    store.save(tmp_path / "v.faiss")
    loaded = VectorStore.load(tmp_path / "v.faiss", exact=on_disk)
    assert np.array_equal(loaded.search(data[:5], 5)[1], store.search(data[:5], 5)[1])


def test_a_graph_is_built_from_row_blocks_without_copying_them_whole(monkeypatch):
    from qa.storage.rows import RowBlocks

    data = clustered(SQ_TRAIN + 4000)  # more than the quantizer's training sample
    blocks = RowBlocks([data[:15000], data[15000:22600], data[22600:]], 32)
    monkeypatch.setattr(RowBlocks, "__array__", None)  # a whole copy would fail here
    store = VectorStore.build(blocks, kind="hnsw-sq4", keep_exact=False)
    store.exact = blocks
    assert store.ntotal == len(data)
    queries = normalise(data[:40] + 0.05 * np.random.default_rng(1).normal(size=(40, 32)))
    _, want = VectorStore.build(data, kind="flat").search(queries, 10)
    whole = VectorStore.build(data, kind="hnsw-sq4", keep_exact=False)
    whole.exact = data

    def recall(store):
        _, got = store.search(queries, 10)
        return np.mean([len(set(g) & set(w)) / 10 for g, w in zip(got, want)])

    assert recall(store) >= recall(whole) - 0.02  # as good as the graph built from one array
