"""bench/rerank_folds.py: which dev candidates become training pairs, and which model's
probabilities each question is judged with (no model needed)."""
from __future__ import annotations

import json

import numpy as np

from bench import rerank_folds as rf


def pool(q, fold, texts, labels, gold=(), type_="fact"):
    return {"set": "bbc-dev", "id": q, "q": q, "type": type_, "fold": fold, "texts": texts,
            "labels": labels, "gold": list(gold)}


def test_gold_and_the_candidates_that_find_it_are_answers_the_best_others_negatives():
    texts = [f"sentence {i}" for i in range(30)]
    labels = [0] * 30
    labels[3] = 1
    got = rf.dev_groups([pool("q", 0, texts, labels, gold=["The gold sentence."])], repeat=1,
                        hard=5)
    (q, cands), = got
    assert q == "q"
    assert [t for t, l in cands if l] == ["The gold sentence.", "sentence 3"]
    assert [t for t, l in cands if not l] == ["sentence 0", "sentence 1", "sentence 2",
                                              "sentence 4", "sentence 5"]


def test_a_question_without_answer_gives_negatives_only_and_repeat_repeats():
    got = rf.dev_groups([pool("n", 1, ["a", "b", "c"], [0, 0, 0], type_="none")], repeat=2,
                        unanswered=2)
    assert got == [("n", [("a", 0), ("b", 0)])] * 2


def test_a_gold_found_inside_a_candidate_is_not_counted_twice():
    got = rf.dev_groups([pool("q", 0, ["The Gold sentence"], [1], gold=["The gold sentence."])],
                        repeat=1)
    assert got[0][1] == [("The gold sentence.", 1)]


def test_out_of_fold_probabilities_come_from_the_model_that_did_not_see_the_question(tmp_path):
    def write(variant, run, probs):
        (tmp_path / f"probs-{variant}-{run}.json").write_text(json.dumps(
            {"variant": variant, "run": run, "probs": probs}))

    write("dev", "all", {"q0\x00a": 0.9, "q1\x00b": 0.8})
    write("dev", "0", {"q0\x00a": 0.2})
    write("dev", "1", {"q1\x00b": 0.3})
    write("base", "all", {"q0\x00a": 0.5})
    got = rf.read_probs(tmp_path)
    assert got["dev"]["oof"] == {"q0\x00a": 0.2, "q1\x00b": 0.3}
    assert got["dev"]["all"] == {"q0\x00a": 0.9, "q1\x00b": 0.8}
    assert got["base"]["oof"] == got["base"]["all"]  # trained on no dev question

    class Fallback:
        def probs(self, question, texts):
            return np.full(len(texts), -1.0)

    probs = rf.Probs(got["dev"]["oof"], Fallback())
    assert probs.probs("q0", ["a"]).tolist() == [0.2]
    assert probs.probs("q0", ["unknown"]).tolist() == [-1.0] and probs.missing == 1


def test_out_of_fold_probabilities_fall_back_to_the_model_that_saw_no_dev_question(tmp_path):
    from bench.cvoof import OutOfFold

    (tmp_path / "probs-dev-0.json").write_text(json.dumps(
        {"variant": "dev", "run": "0", "probs": {"q\x00seen": 0.9}}))
    (tmp_path / "probs-dev-all.json").write_text(json.dumps(  # in fold: never read
        {"variant": "dev", "run": "all", "probs": {"q\x00seen": 0.1, "q\x00new": 0.1}}))
    (tmp_path / "base-fallback.json").write_text(json.dumps({"q\x00new": 0.3}))
    ce = OutOfFold(tmp_path)
    assert ce.probs("q", ["seen", "new"]).tolist() == [0.9, 0.3]
    assert ce.fallbacks == 1 and ce.model is None
