"""The answer phrase (qa/phrases.py): found when clearly there, nothing when unsure, and carried
through Hit offsets, JSON and the chat's <mark>."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fakes import FakeEncoder
from qa import Document, Index
from qa import phrases
from qa.app.render import hit_html
from qa.types import Hit


@pytest.mark.parametrize("question, sentence, phrase", [
    ("Who is the Kremlin spokesman?",
     "Kremlin Spokesman Dmitry Peskov branded such information as groundless.", "Dmitry Peskov"),
    ("When was Gordon Brown born?", "Gordon Brown was born on 20 February 1951 in Glasgow.",
     "20 February 1951"),
    ("How many people lost money in the Parmalat collapse?",
     "About 135,000 people lost money when Parmalat collapsed.", "135,000"),
    ("How much did United get for selling Stam to Lazio?",
     "United sold Stam to Lazio for £16.5m in 2001.", "£16.5m"),
    ("Where was the summit held?", "The summit was held in Helsinki on Friday.", "Helsinki"),
    ("Where was the summit held?", "The summit was held at the Palais des Nations.",
     "Palais des Nations"),
    ("Who met the minister?", "Tony Blair and Gordon Brown met the minister.",
     "Tony Blair and Gordon Brown"),  # a list is the answer
    ("How much did it cost?", "It cost $336m (£178m) in all.", "$336m (£178m)"),
    ("How many jobs will go?", "Of its 46 plants, 3 will shut and 800 jobs will go.", "800"),
    ("Which company bought the airline?", "The airline was bought by Lufthansa last year.",
     "Lufthansa"),
])
def test_the_phrase_that_answers(question, sentence, phrase):
    span = phrases.find(question, sentence)
    assert span is not None and sentence[span[0]:span[1]] == phrase


@pytest.mark.parametrize("question, sentence", [
    ("What did Galuzin say?", "Galuzin said 3 things."),  # not a question with a phrase
    ("Who is the Kremlin spokesman?", "The Kremlin spokesman declined to comment."),  # no name
    # two names as near the question's words: unsure, so nothing
    ("Who chaired the meeting?", "Anna Lee, the meeting chair, thanked Tom Hart."),
    ("When did it happen?", "It happened."),
])
def test_nothing_is_marked_when_unsure(question, sentence):
    assert phrases.find(question, sentence) is None


@pytest.mark.parametrize("question, kind", [
    ("Who is X?", "person"), ("whom did she call", "person"), ("When did it open?", "date"),
    ("What year did it open?", "date"), ("Where is it?", "place"), ("How many jobs?", "amount"),
    ("By how much did sales fall?", "amount"), ("Which club won?", "which"),
    ("Why did it fall?", None), ("What did Galuzin say?", None)])
def test_question_kinds(question, kind):
    assert phrases.kind(question) == kind


@pytest.fixture
def index():
    docs = [Document(id="k", title="Kremlin", source="TASS", text=(
        "The talks went on. Kremlin spokesman Dmitry Peskov said the Kremlin spokesman job "
        "is hard. The weather in Moscow was cold."))]
    return Index.build(docs, encoder=FakeEncoder())


def test_hit_offsets_mark_the_phrase_in_the_article(index):
    answer = index.ask("Who is the Kremlin spokesman?")
    assert answer.answered
    best = answer.hits[0]
    text = index.stored()["k"].document.text
    assert text[best.answer_start:best.answer_end] == "Dmitry Peskov"
    assert answer.to_dict()["hits"][0]["answer_start"] == best.answer_start
    assert all(h.answer_start is None for h in index.ask("What did Peskov say?").hits)


def test_the_chat_marks_the_phrase_escaped():
    text = "Spokesman <b>Dmitry</b> Peskov & co said so."
    a = text.index("<b>Dmitry</b> Peskov")
    hit = Hit(text=text, score=0.9, doc_id="d", title="t", sentence=0, start=0, end=len(text),
              context=text, context_start=0, answer_start=a, answer_end=a + 20)
    html = hit_html(hit)
    assert '<mark class="qa-answer-phrase">&#60;b&#62;Dmitry&#60;&#47;b&#62; Peskov</mark>' in html
    assert "<b>" not in html


@given(st.sampled_from(["Who is X?", "How many jobs?", "When did it?", "Where is it?",
                        "Which firm won?", "How much did it cost?"]),
       st.lists(st.sampled_from(list("Ab1 ,.-£$%()’'\n") + ["Mr Smith ", "£5m ", "in Paris ",
                                                            "May "]), max_size=40).map("".join))
@settings(max_examples=300, deadline=None)
def test_any_sentence_gives_a_span_inside_it_or_none(question, sentence):
    span = phrases.find(question, sentence)
    assert span is None or 0 <= span[0] < span[1] <= len(sentence)
