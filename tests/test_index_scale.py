"""A large index (here: past a lowered size threshold) searches approximately and saves its
approximate search index with it."""
from __future__ import annotations

import pytest

import qa.vectors
from qa import Document, Index
from qa.store import SEARCH_FILE

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
    monkeypatch.setattr(qa.vectors, "FLAT_MAX", 300)


def test_large_index_is_approximate_and_reopens_without_rebuilding(tmp_path, fake_encoder,
                                                                  small_threshold):
    docs = corpus()
    index = Index.build(docs, tmp_path / "ix", encoder=fake_encoder)
    assert len(index) == 960 and index._rows()[0].kind == "hnsw-sq8"
    assert list((tmp_path / "ix").glob(f"g*/{SEARCH_FILE}"))
    question = sentence(57, 3)
    before = index.search(question, 5)
    assert before[0].doc_id == "d57" and before[0].sentence == 3
    reopened = Index.open(tmp_path / "ix", encoder=fake_encoder)
    assert reopened._flat is not None and reopened._flat[0].kind == "hnsw-sq8"
    after = reopened.search(question, 5)
    assert [(h.doc_id, h.sentence) for h in after] == [(h.doc_id, h.sentence) for h in before]
    only = reopened.search(question, 3, doc_ids=["d12"])
    assert only and {h.doc_id for h in only} == {"d12"}


def test_small_index_saves_no_approximate_file(tmp_path, fake_encoder):
    Index.build(corpus(5), tmp_path / "ix", encoder=fake_encoder)
    assert not list((tmp_path / "ix").glob(f"g*/{SEARCH_FILE}"))
