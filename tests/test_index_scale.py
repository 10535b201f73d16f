"""A large index (here: past lowered size thresholds) searches approximately, ranks the
candidates with the ranker's features, saves its search index and ranking data with it, and keeps
its vectors on disk once reopened."""
from __future__ import annotations

import pytest

import qa.storage.vectors
from fakes import FakeEncoder
from qa import Document, Index
from qa.storage import SEARCH_FILE
from qa.storage.rows import RawRows

WORDS = ("budget minister election striker goal court ruling vaccine market shares film award "
         "storm river harvest bank strike rail airline merger oil tariff").split()


def sentence(d: int, s: int) -> str:
    return (f"Report {d} line {s}: the {WORDS[(d + s) % len(WORDS)]} and the "
            f"{WORDS[(d * 3 + s * 7) % len(WORDS)]} story number {d * 10 + s}.")


def corpus(n_docs: int = 120) -> list[Document]:
    return [Document(id=f"d{d}", text=" ".join(sentence(d, s) for s in range(8)),
                     title=f"Report {d}") for d in range(n_docs)]


@pytest.fixture
def small_threshold(monkeypatch):
    """Indexes made in the test (qa.state.Sizes reads these defaults then) are large past 300
    sentences."""
    import qa.tuning

    monkeypatch.setattr(qa.tuning, "FLAT_MAX", 300)
    monkeypatch.setattr(qa.tuning, "RANK_ALL_MAX", 300)


def test_large_index_is_approximate_and_reopens_without_rebuilding(tmp_path, fake_encoder,
                                                                  small_threshold):
    docs = corpus()
    index = Index.build(docs, tmp_path / "ix", encoder=fake_encoder)
    assert len(index) == 960 and index.vector_store().kind == "hnsw-sq4"
    assert list((tmp_path / "ix").glob(f"g*/{SEARCH_FILE}"))
    assert len(list((tmp_path / "ix").glob("g*/rank.*"))) == 5
    question = sentence(57, 3)
    before = index.search(question, 5)
    assert before[0].doc_id == "d57" and before[0].sentence == 3
    reopened = Index.open(tmp_path / "ix", encoder=fake_encoder)
    assert reopened.state.lazy.search is not None  # read with it, not built again
    assert reopened.vector_store().kind == "hnsw-sq4"
    assert all(isinstance(v, RawRows) for v in reopened.state.vectors.values())  # left on disk
    after = reopened.search(question, 5)
    assert [(h.doc_id, h.sentence) for h in after] == [(h.doc_id, h.sentence) for h in before]
    assert [h.evidence for h in after] == pytest.approx([h.evidence for h in before], abs=1e-5)
    only = reopened.search(question, 3, doc_ids=["d12"])
    assert only and {h.doc_id for h in only} == {"d12"}


def test_small_index_saves_no_approximate_file(tmp_path, fake_encoder):
    Index.build(corpus(5), tmp_path / "ix", encoder=fake_encoder)
    assert not list((tmp_path / "ix").glob(f"g*/{SEARCH_FILE}"))


def test_adding_an_article_to_a_large_index_extends_its_graph(tmp_path, fake_encoder,
                                                              small_threshold):
    index = Index.build(corpus(), encoder=fake_encoder)
    before = index.vector_store()
    embedded = fake_encoder.encoded
    new = Document(id="new", text="The harbour reopened after the storm. Ferries sailed again.")
    report = index.add([new])
    assert report.added == ["new"] and fake_encoder.encoded == embedded + 2
    store = index.vector_store()
    assert store is not before and store.kind == "hnsw-sq4"
    assert (before.ntotal, store.ntotal) == (960, 962)
    hit = index.search("Ferries sailed again.", 1)[0]
    assert (hit.doc_id, hit.sentence, hit.text) == ("new", 1, "Ferries sailed again.")
    assert index.search(sentence(57, 3), 1)[0].doc_id == "d57"  # old rows still line up


def test_replacing_an_article_rebuilds_the_graph(fake_encoder, small_threshold):
    index = Index.build(corpus(), encoder=fake_encoder)
    index.vector_store()
    index.add([Document(id="d3", text="A new text for report three. It has two sentences.")])
    assert index.state.lazy.search is None  # a replaced article: the graph is built again
    assert index.search("A new text for report three.", 1)[0].doc_id == "d3"


def test_a_reopened_large_index_takes_new_articles_and_saves_them(tmp_path, fake_encoder,
                                                                   small_threshold):
    Index.build(corpus(), tmp_path / "ix", encoder=fake_encoder)
    index = Index.open(tmp_path / "ix", encoder=fake_encoder)
    index.add([Document(id="new", text="The harbour reopened after the storm. Ferries sailed.")])
    assert index.search("Ferries sailed.", 1)[0].doc_id == "new"
    index.remove(["d5"])
    assert "d5" not in {h.doc_id for h in index.search(sentence(5, 2), 5)}
    index.save()
    again = Index.open(tmp_path / "ix", encoder=fake_encoder)
    assert len(again) == 960 - 8 + 2
    hit = again.search(sentence(57, 3), 1)[0]
    assert (hit.doc_id, hit.sentence, hit.text) == ("d57", 3, sentence(57, 3))


def test_large_index_ranking_data_is_checksummed(tmp_path, fake_encoder, small_threshold):
    import json

    from qa import IndexFileError

    Index.build(corpus(), tmp_path / "ix", encoder=fake_encoder)
    lexicon = next((tmp_path / "ix").glob("g*/rank.lexicon.json"))
    data = json.loads(lexicon.read_text())
    data["terms"][0], data["terms"][1] = data["terms"][1], data["terms"][0]
    lexicon.write_text(json.dumps(data))
    with pytest.raises(IndexFileError, match="rank.lexicon.json.*checksum"):
        Index.open(tmp_path / "ix", encoder=fake_encoder)


class BackendEncoder(FakeEncoder):
    def __init__(self, backend: str):
        super().__init__()
        self.backend = backend


def test_the_manifest_records_the_backend_and_a_mismatch_is_said(tmp_path, caplog):
    import json
    import logging

    path = tmp_path / "ix"
    Index.build(corpus(3), path, encoder=BackendEncoder("onnx-int8"))
    assert json.loads((path / "manifest.json").read_text())["backend"] == "onnx-int8"
    with caplog.at_level(logging.WARNING, logger="qa.index"):
        same = Index.open(path, encoder=BackendEncoder("onnx-int8"))
    assert same.backend == "onnx-int8" and not caplog.records
    with caplog.at_level(logging.WARNING, logger="qa.index"):
        other = Index.open(path, encoder=BackendEncoder("torch"))
    assert "embedded with the onnx-int8 backend" in caplog.text and "QA_BACKEND=onnx-int8" in caplog.text
    assert other.search(sentence(1, 2), 1)[0].doc_id == "d1"  # it still answers
    other.add([Document(id="new", text="A torch-embedded article.")])
    other.save()
    assert json.loads((path / "manifest.json").read_text())["backend"] == "mixed"


def test_a_small_index_holds_each_vector_once(tmp_path, fake_encoder):
    import numpy as np

    index = Index.build(corpus(10), tmp_path / "ix", encoder=fake_encoder)
    index.add([Document(id="new", text="The harbour reopened after the storm.")])
    index.search("harbour", 1)
    ranker = index.row_source()
    assert all(np.shares_memory(v, ranker.matrix) for v in index.state.vectors.values())
    reopened = Index.open(tmp_path / "ix", encoder=fake_encoder)
    reopened.search("harbour", 1)
    matrix = reopened.row_source().matrix
    assert all(np.shares_memory(v, matrix) for v in reopened.state.vectors.values())


def _flip_last_row(path) -> None:
    f = next(path.glob("g*/vectors.f32"))
    data = bytearray(f.read_bytes())
    data[-16:] = b"\x3f" * 16  # the last sentence's vector: wrong, yet readable floats
    f.write_bytes(bytes(data))


def test_a_large_vectors_file_is_checked_row_by_row_as_it_is_read(tmp_path, fake_encoder,
                                                                    small_threshold, monkeypatch):
    from qa import IndexFileError
    from qa.storage import folder as store

    import qa.tuning

    monkeypatch.setattr(store, "EAGER_HASH_MAX", 0)  # every vectors file counts as large
    monkeypatch.setattr(qa.tuning, "CANDIDATES", 3)  # so a question reads few rows
    monkeypatch.setattr(qa.tuning, "ARTICLES", 1)
    Index.build(corpus(), tmp_path / "ix", encoder=fake_encoder)
    _flip_last_row(tmp_path / "ix")
    index = Index.open(tmp_path / "ix", encoder=fake_encoder)  # not hashed whole: opens
    assert index.search(sentence(3, 1), 1)[0].doc_id == "d3"  # intact rows answer
    with pytest.raises(IndexFileError, match="vectors.f32 is damaged: row 959 .*qa ingest --rebuild"):
        index.search(sentence(119, 7), 1)  # the damaged row is read: refused, not ranked


def test_a_small_index_with_a_damaged_row_is_refused_on_open(tmp_path, fake_encoder, monkeypatch):
    from qa import IndexFileError
    from qa.storage import folder as store

    monkeypatch.setattr(store, "EAGER_HASH_MAX", 0)
    Index.build(corpus(5), tmp_path / "ix", encoder=fake_encoder)
    _flip_last_row(tmp_path / "ix")
    with pytest.raises(IndexFileError, match="checksum"):
        Index.open(tmp_path / "ix", encoder=fake_encoder)  # its vectors are all read on open


def test_two_writers_on_a_large_index_keep_both_and_extend_the_graph(tmp_path, fake_encoder,
                                                                     small_threshold,
                                                                     monkeypatch):
    """A commit on top of another writer's, adding new articles only, extends the newest
    search graph instead of building one; both writers' articles are found."""
    docs = corpus(80)
    Index.build(docs[:60], tmp_path / "ix", encoder=fake_encoder)
    first = Index.open(tmp_path / "ix", encoder=fake_encoder)
    second = Index.open(tmp_path / "ix", encoder=fake_encoder)
    first.add(docs[60:70])
    second.add(docs[70:80])
    first.save()
    built = []
    real = qa.storage.vectors.VectorStore.build
    monkeypatch.setattr(qa.storage.vectors.VectorStore, "build",
                        staticmethod(lambda *a, **kw: built.append(1) or real(*a, **kw)))
    second.save()
    assert not built
    reader = Index.open(tmp_path / "ix", encoder=fake_encoder)
    assert len(reader.documents) == 80
    for d in (65, 75, 5):
        assert reader.search(sentence(d, 2), 1)[0].doc_id == f"d{d}"
