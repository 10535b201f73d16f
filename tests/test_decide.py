"""The answer/abstain rule (qa/ranking/decide.py): its signals, its log-odds, a hit's own odds,
and the rule at work in a small index with the fake encoder."""
import math

import numpy as np
import pytest

from qa.ranking import decide
from qa.tuning import ANSWER_MODEL


def signals(**over):
    base = dict(question="When did the mill at Ashford close?", evidence=1.2,
                scores=[0.6, 0.5, 0.1], best_dense=0.7,
                texts=["The Ashford mill closed in 1998.", "It employed 300.", "Rain fell."],
                dense_mean=0.1, dense_std=0.2, rows=1000)
    base.update(over)
    return decide.signals(**base)


def test_signals_read_the_questions_own_candidates():
    s = signals()
    assert s["evidence"] == 1.2
    assert s["score"] == 0.6 and s["margin"] == pytest.approx(0.1)
    assert s["zscore"] == pytest.approx(3.0)  # (0.7 - 0.1) / 0.2
    assert s["coverage"] == pytest.approx(2 / 3)  # mill, ashford held; close is not ("closed")
    assert s["log_rows"] == pytest.approx(3.0)
    assert s["terms"] == 3.0


def test_signals_of_a_lone_candidate_and_a_flat_corpus_stay_finite():
    s = signals(scores=[0.4], texts=["x"], dense_std=0.0, rows=1)
    assert s["margin"] == 0.0 and s["zscore"] == 0.0 and s["log_rows"] == 0.0
    assert all(math.isfinite(v) for v in s.values())


def test_the_corpus_answers_exactly_from_the_models_cut():
    cut = -ANSWER_MODEL["bias"] / ANSWER_MODEL["evidence"]
    other = {n: w for n, w in ANSWER_MODEL.items()
             if n not in ("bias", "evidence", "unseen", "margin")}
    assert not any(other.values()), "this test reads the cut off an evidence (+ unseen, margin) model"
    level = [0.6, 0.6, 0.1]  # the best two candidates alike: no margin
    assert decide.logit(signals(evidence=cut + 1e-6, scores=level)) >= 0.0
    assert decide.logit(signals(evidence=cut - 1e-3, scores=level)) < 0.0
    # the same evidence decides the same at every corpus size
    assert [decide.logit(signals(evidence=cut + 0.01, rows=n, scores=level)) >= 0
            for n in (5, 10**6)] == [True, True]
    # a name the best article never mentions asks for more evidence
    assert decide.logit(signals(evidence=cut + 0.01, unseen=1, scores=level)) < 0.0
    more = cut - ANSWER_MODEL["unseen"] / ANSWER_MODEL["evidence"]
    assert decide.logit(signals(evidence=more + 1e-6, unseen=1, scores=level)) >= 0.0


def test_a_best_candidate_that_stands_out_from_the_next_needs_less_evidence():
    cut = -ANSWER_MODEL["bias"] / ANSWER_MODEL["evidence"]
    assert ANSWER_MODEL["margin"] > 0
    apart = signals(evidence=cut - 0.05, scores=[0.7, 0.5, 0.1])  # margin 0.2
    alike = signals(evidence=cut - 0.05, scores=[0.7, 0.7, 0.1])
    assert apart["margin"] == pytest.approx(0.2) and alike["margin"] == 0.0
    assert decide.logit(apart) >= 0.0 and decide.logit(alike) < 0.0
    least = cut - ANSWER_MODEL["margin"] * 0.2 / ANSWER_MODEL["evidence"]
    assert decide.logit({**apart, "evidence": least - 1e-3}) < 0.0


def test_the_kind_asked_is_read_but_no_longer_decides():
    """``asked_absent`` still tells a best sentence without the kind asked for (bench.cvfit
    compares it), but it was retired from the rule in session 19: it no longer carried out of
    fold, so the same evidence decides the same either way."""
    cut = -ANSWER_MODEL["bias"] / ANSWER_MODEL["evidence"]
    q = "Which actor was chosen to succeed Pierce Brosnan as James Bond?"
    near = signals(question=q, evidence=cut + 0.01,
                   texts=["Pierce Brosnan said he had been told he would not play James Bond again.",
                          "x", "y"])
    told = signals(question=q, evidence=cut + 0.01,
                   texts=["Daniel Craig will succeed Pierce Brosnan as James Bond.", "x", "y"])
    assert near["asked_absent"] == 1.0 and told["asked_absent"] == 0.0
    assert decide.logit(near) == pytest.approx(decide.logit(told))
    # a question of no known kind never has it
    assert signals(question="What did Galuzin say?", texts=["No names here."])["asked_absent"] == 0.0


def test_named_reads_names_and_numbers_not_the_first_word():
    assert decide.named("What did Kishida say?") == ["kishida"]
    assert decide.named("Who won the 2005 FA Cup final?") == ["2005", "fa", "cup"]
    assert decide.named("How much did News Corporation pay for MySpace?") == \
        ["new", "corporation", "myspace"]  # as lexical.terms spells them ("news" -> "new")
    assert decide.named("george galloway election result") == []  # no capitals: nothing named


def test_unseen_counts_what_the_question_names_and_the_article_never_mentions():
    from qa.ranking.lexical import BM25, terms

    articles = BM25([terms("News Corporation buys a stake in a TV network") + terms("Fox deal"),
                     terms("MySpace was bought by News Corporation for $580m")])
    q = "How much did News Corporation pay for MySpace?"
    assert decide.unseen(q, articles, 0) == 1.0  # MySpace
    assert decide.unseen(q, articles, 1) == 0.0
    assert decide.unseen("Who bought Bebo in 2008?", articles, 1) == 2.0  # Bebo, 2008


def test_a_model_weighs_each_signal_it_names():
    model = {"bias": -1.0, "evidence": 1.0, "coverage": 2.0}
    s = signals(evidence=0.5)
    assert decide.logit(s, model) == pytest.approx(-1.0 + 0.5 + 2.0 * s["coverage"])


def test_a_hits_odds_fall_with_its_evidence_below_the_best():
    odds = 0.4
    assert decide.hit_odds(odds, 1.3, 1.3) == pytest.approx(odds)
    lower = decide.hit_odds(odds, 1.0, 1.3)
    assert lower == pytest.approx(odds - ANSWER_MODEL["evidence"] * 0.3) and lower < 0


def test_decide_reads_a_hits_odds_else_the_naive_cosine_rule():
    from qa.types import Hit

    def hit(score, evidence=None):
        return Hit(text="x", score=score, doc_id="a", title="", sentence=0, start=0, end=1,
                   context="x", context_start=0, evidence=evidence)

    assert decide.decide([hit(0.1, evidence=0.2)]) and not decide.decide([hit(0.9, -0.2)])
    assert decide.decide([hit(0.5)]) and not decide.decide([hit(0.2)]) and not decide.decide([])


def test_an_index_answers_what_it_holds_and_abstains_on_the_rest(fake_encoder):
    from qa.index import Index
    from qa.types import Document

    text = ("The Ashford paper mill closed in 1998 after 140 years. It employed 300 people at "
            "its peak. The site is now a park. Local historians keep its records.")
    index = Index.build([Document(id="mill", text=text, title="Ashford mill")],
                        encoder=fake_encoder)
    held = index.ask("When was the Ashford paper mill closed after 140 years?")
    assert held.answered and "1998" in held.hits[0].text
    assert held.hits[0].evidence >= 0  # the best hit carries the question's log-odds
    assert not index.ask("Which striker scored twice for Brazil?").answered


def test_the_other_signals_are_gathered_only_when_the_model_weighs_one():
    asked = []

    def gather():
        asked.append(1)
        return signals(evidence=1.2)

    alone = {"bias": -1.0, "evidence": 1.0, "coverage": 0.0}
    assert decide.question_odds(1.2, gather, alone) == pytest.approx(0.2) and not asked
    model = {**alone, "coverage": 2.0}
    assert decide.question_odds(1.2, gather, model) == pytest.approx(
        decide.logit(signals(evidence=1.2), model)) and asked == [1]
