"""The answer-kind check on the ranker's best candidates (qa/ranking/kinds.py)."""
import pytest

from qa.ranking.kinds import fit, holds_asked, rescore, wants
from qa.tuning import KIND_FOUND as FOUND
from qa.tuning import KIND_MISSING as MISSING
from qa.ranking.fuse import Ranked


@pytest.mark.parametrize("question, kind", [
    ("When was the Duchy of Cornwall set up?", "date"),
    ("In what year did the war end?", "date"),
    ("How many Wales caps has Gareth Llewellyn won?", "count"),
    ("In how many locations has Tata used laser links?", "count"),
    ("What figure did the ONS cut its estimate to?", "count"),
    ("How much did Manchester United get for Jaap Stam?", "amount"),
    ("By how much did US retail sales fall?", "amount"),
    ("Why has the next James Bond film been pushed back?", "cause"),
    ("What did Galuzin say?", None),
    ("Who is the Kremlin spokesman?", None),
])
def test_wants_reads_the_kind_of_answer_from_the_question(question, kind):
    assert wants(question) == kind


def test_a_date_question_wants_a_date_not_any_number():
    q = "When did comedian Cyril Fletcher first appear on television?"
    assert fit(q, ["Cyril Fletcher has died aged 91 at his home.",
                   "Fletcher made his first TV appearance in 1937."]) == [0.0, 1.0]


def test_numbers_and_dates_the_question_holds_do_not_count():
    assert fit("When did sales fall in 2004?", ["Sales fell in 2004.", "Sales fell in March."]) == [0.0, 1.0]
    assert fit("How many of the 16 dancers are British?", ["There are 16 dancers."]) == [0.0]


def test_a_count_question_prefers_a_number_of_what_it_counts():
    q = "How many Lufthansa flights were cancelled?"
    assert fit(q, ["Lufthansa has six out of every 10 planes at the airport.",
                   "It had to cancel 77 short and medium-distance flights.",
                   "The airline was founded by pilots."]) == [0.5, 1.0, 0.0]
    assert fit("How many Wales caps has he won?", ["It ends his 92-cap Wales career."]) == [1.0]


def test_an_amount_question_prefers_money_or_a_share():
    q = "How much did United get for selling Stam?"
    assert fit(q, ["He was sold for £16.5m.", "Stam played 3 games."]) == [1.0, 0.5]


def test_a_why_question_prefers_a_cause():
    q = "Why has the film been pushed back?"
    assert fit(q, ["It is the 21st film.", "It was delayed due to a takeover."]) == [0.0, 1.0]


def test_rescore_moves_a_fitting_candidate_up_and_keeps_scores_between_0_and_1():
    texts = ["The estate covers 25 counties.", "It was set up in 1337 by King Edward III."]
    ranked = [Ranked(0, 0.45, None, 1.2), Ranked(1, 0.43, None, 1.1)]
    out = rescore("When was the Duchy of Cornwall set up?", ranked, texts)
    assert [r.row for r in out] == [1, 0]
    assert all(0.0 <= r.score <= 1.0 for r in out)
    assert out[0].evidence == pytest.approx(1.1 + FOUND)  # a date, as asked: more evidence
    assert out[1].evidence == pytest.approx(1.2 - MISSING)  # no date at all: less evidence


def test_rescore_leaves_questions_of_no_known_kind_alone():
    ranked = [Ranked(0, 0.45, None, 1.2), Ranked(1, 0.43, None, 1.1)]
    assert rescore("What did Galuzin say?", ranked, ["a", "b"]) == ranked


def test_holds_asked_wants_a_name_the_question_does_not_hold():
    q = "Who is the Kremlin spokesman?"
    assert holds_asked(q, "Peskov said the reports were false.")  # at the sentence's start too
    assert holds_asked(q, "The spokesman, Dmitry Peskov, said so.")
    assert not holds_asked(q, "The Kremlin spokesman declined to comment.")  # only the question's
    assert not holds_asked(q, "the spokesman declined to comment.")
    assert holds_asked("Where was JFK buried?", "He lies in Arlington National Cemetery.")


def test_holds_asked_reads_the_fine_kinds_and_nothing_else():
    q = "When did comedian Cyril Fletcher first appear on television?"
    assert not holds_asked(q, "Cyril Fletcher has died aged 91 at his home.")
    assert holds_asked(q, "Fletcher made his first TV appearance in 1937.")
    assert not holds_asked("How many flights were cancelled in 2005?", "Flights in 2005 were hit.")
    assert holds_asked("What did Galuzin say?", "Galuzin said so.") is None
