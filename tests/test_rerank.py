"""The re-ranking stage: how the cross-encoder's scores combine with the ranker's (a scorer
with known scores stands in for the model here; tests/test_rerank_model.py runs the real one)."""
from __future__ import annotations

import numpy as np
import pytest

from qa.encoders import crossencoder as model
from qa.errors import ModelError
from qa.ranking import crossencoder as rerank
from qa.ranking.fuse import Ranked


class KnownScores:
    """Scores sentences by a table: the logit the cross-encoder would give."""

    def __init__(self, table: dict[str, float]):
        self.table = table
        self.asked: list[list[str]] = []

    def scores(self, question, sentences):
        self.asked.append(list(sentences))
        return np.array([self.table.get(s, 0.0) for s in sentences], np.float32)


def ranked(*scores):
    return [Ranked(i, s, None, 1.0 + s) for i, s in enumerate(scores)]


def test_a_strong_cross_encoder_score_lifts_a_lower_candidate():
    texts = ["on topic", "the answer", "also on topic"]
    out = rerank.rerank(KnownScores({"the answer": 8.0, "on topic": -8.0, "also on topic": -8.0}),
                        "q?", ranked(0.6, 0.55, 0.5), texts)
    assert [r.row for r in out] == [1, 0, 2]


def test_equal_cross_encoder_scores_keep_the_rankers_order():
    texts = ["a", "b", "c"]
    out = rerank.rerank(KnownScores({}), "q?", ranked(0.6, 0.5, 0.4), texts)
    assert [r.row for r in out] == [0, 1, 2]
    assert all(0.0 <= r.score <= 1.0 for r in out)


def test_only_the_top_depth_candidates_are_scored_and_the_rest_stay_below():
    texts = ["a", "b", "c", "d"]
    model = KnownScores({"d": 50.0})
    out = rerank.rerank(model, "q?", ranked(0.9, 0.8, 0.7, 0.6), texts, depth=2)
    assert model.asked == [["a", "b"]]
    assert [r.row for r in out] == [0, 1, 2, 3]
    assert out[1].score >= out[2].score


def test_no_candidates_asks_nothing():
    model = KnownScores({})
    assert rerank.rerank(model, "q?", [], []) == []
    assert model.asked == []


@pytest.mark.parametrize("value,small,large", [("0", False, False), ("off", False, False),
                                               ("1", True, True), ("", True, False),
                                               ("auto", True, False)])
def test_qa_rerank_switches_it_and_by_default_only_below_the_size_limit(monkeypatch, value,
                                                                        small, large):
    monkeypatch.setenv("QA_RERANK", value)
    assert rerank.enabled(1000) is small
    assert rerank.enabled(rerank.RERANK_MAX + 1) is large


def test_an_index_past_the_size_limit_answers_without_loading_the_re_ranker(monkeypatch,
                                                                             fake_encoder):
    from qa.index import Index
    from qa.types import Document

    monkeypatch.delenv("QA_RERANK", raising=False)
    monkeypatch.setattr(rerank, "RERANK_MAX", 2)
    monkeypatch.setattr(rerank, "load", lambda: pytest.fail("the re-ranker was loaded"))
    index = Index.build([Document(id="a", title="A", text="One cat sat. Two dogs ran. Three owls flew.")],
                        encoder=fake_encoder)
    assert index.reranker is None
    assert index.ask("Which owls flew?", k=2).hits


def test_damaged_weights_are_refused_with_the_fix(tmp_path):
    bad = tmp_path / "w.safetensors"
    bad.write_bytes(b"not the weights")
    with pytest.raises(ModelError, match="QA_RERANK=0"):
        model.Reranker(bad, "0" * 64)
    with pytest.raises(ModelError, match="missing"):
        model.Reranker(tmp_path / "none.safetensors", "0" * 64)


def test_statements_of_the_person_asked_about_are_left_in_the_rankers_order():
    galuzin = [Ranked(0, 0.9, "Mikhail Galuzin", 1.2), Ranked(1, 0.8, None, 1.0)]
    assert not rerank.wanted("What did Galuzin say about NATO?", galuzin)
    assert rerank.wanted("When did Kishida and Biden talk?", galuzin)
    assert rerank.wanted("What did Peskov say?", galuzin)  # the ranker found no Peskov statement first
    assert rerank.wanted("What did Galuzin say?", [])  is True
