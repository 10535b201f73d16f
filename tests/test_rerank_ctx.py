"""bench/rerank_ctx.py: what the context-reading re-ranker reads, and which candidates become its
training pairs (no model needed)."""
from __future__ import annotations

from bench import rerank_ctx as rc


def pool(q, texts, before, labels, type_="fact", title=None):
    return {"set": "bbc-dev", "q": q, "fold": 0, "type": type_, "texts": texts,
            "before": before, "title": [title] * len(texts), "labels": labels}


def test_the_sentence_is_read_first_and_its_predecessor_only_in_ctx_mode():
    assert rc.pair_text("It runs at 3km/h.", "Asimo can run.", "ctx") == \
        "It runs at 3km/h. [SEP] Asimo can run."
    assert rc.pair_text("It runs at 3km/h.", "Asimo can run.", "alone") == "It runs at 3km/h."
    assert rc.pair_text("Asimo can run.", None, "ctx") == "Asimo can run."  # an article's first


def test_title_mode_reads_the_article_title_after_the_sentence_and_never_the_sentence_before():
    assert rc.pair_text("It runs at 3km/h.", "Asimo can run.", "title", "Honda's robot runs") == \
        "It runs at 3km/h. [SEP] Honda's robot runs"
    assert rc.pair_text("It runs at 3km/h.", "Asimo can run.", "title", None) == "It runs at 3km/h."
    assert rc.pair_text("It runs at 3km/h.", "Asimo can run.", "ctx", "Honda's robot runs") == \
        "It runs at 3km/h. [SEP] Asimo can run."
    (_, cands), = rc.groups([pool("q", ["a", "b"], [None, "a"], [1, 0], title="T")], "title")
    assert cands == [("a [SEP] T", 1), ("b [SEP] T", 0)]


def test_answers_and_the_best_other_candidates_become_pairs_none_questions_negatives_only():
    texts = [f"s{i}" for i in range(20)]
    labels = [0] * 20
    labels[4] = 1
    (q, cands), = rc.groups([pool("q", texts, [None] * 20, labels)], "alone")
    assert [t for t, y in cands if y] == ["s4"]
    assert [t for t, y in cands if not y] == [f"s{i}" for i in range(13) if i != 4]  # 12
    (_, cands), = rc.groups([pool("n", texts, ["b"] * 20, [0] * 20, "none")], "ctx")
    assert cands == [(f"s{i} [SEP] b", 0) for i in range(6)]
    # an answerable question whose answer is not among its candidates teaches nothing
    assert rc.groups([pool("m", texts, [None] * 20, [0] * 20)], "alone") == []
