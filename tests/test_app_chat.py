"""Follow-up questions and "what else?" in a conversation, on the fake encoder."""
import re
from html import unescape

import pytest

from fakes import FakeEncoder
from qa import Document, Index
from qa.app.chat import (Conversation, answer_name, next_conversation, reply, subject_of,
                         understand)


@pytest.fixture
def index():
    docs = [Document(id="a", title="Envoy speaks", source="TASS", published="2022-02-02",
                     text="Galuzin warned NATO. Galuzin praised the tea ceremony in Kyoto."),
            Document(id="b", title="Alliance", source="Reuters",
                     text="Stoltenberg spoke about NATO. The summit ended late.")]
    return Index.build(docs, encoder=FakeEncoder())


def quoted(html):
    return [unescape(q) for q in re.findall(r"<blockquote><bdi>(.*?)</bdi></blockquote>", html)]


def talk(messages, conversation=None):
    conversation = conversation or Conversation()
    turns = []
    for m in messages:
        turn = understand(m, conversation)
        conversation = next_conversation(conversation, turn, 3)
        turns.append(turn)
    return turns, conversation


@pytest.mark.parametrize("question, subject", [
    ("What did Galuzin say?", "Galuzin"),
    ("What did Mikhail Galuzin say about NATO?", "Mikhail Galuzin"),
    ("Who is the Kremlin spokesman?", "the Kremlin spokesman"),
    ("What did the Russian ambassador say?", "the Russian ambassador"),
    ("What is the population of Tokyo?", "Tokyo"),
    ("what did he say?", None),
    ("how are you", None),
])
def test_subject_of_a_question(question, subject):
    assert subject_of(question) == subject


def test_pronoun_follow_up_is_about_the_earlier_subject():
    turns, conv = talk(["What did Galuzin say?", "and what did he say about NATO?"])
    assert turns[1].query == "What did Galuzin say about NATO?" and turns[1].rewritten
    assert conv.subject == "Galuzin"
    turns, _ = talk(["Who is the Kremlin spokesman?", "what did he say?"])
    assert turns[1].query == "What did the Kremlin spokesman say?"
    turns, _ = talk(["What did Galuzin say?", "what did his colleagues say?"])
    assert turns[1].query == "What did Galuzin’s colleagues say?"
    turns, _ = talk(["What did Galuzin say?", "who is he?"])
    assert turns[1].query == "Who is Galuzin?"


def test_what_about_switches_subject_and_about_narrows():
    turns, conv = talk(["What did Galuzin say?", "what about Peskov?", "and about NATO?"])
    assert [t.query for t in turns[1:]] == ["What did Peskov say?", "What did Peskov say about NATO?"]
    assert conv.subject == "Peskov"


def test_a_time_phrase_alone_asks_the_same_question_of_that_period():
    turns, conv = talk(["What did Aalto say about the bonus?", "What about in March?"])
    assert turns[1].query == "What did Aalto say about the bonus in March?"
    assert conv.subject == "Aalto"  # not "in March"
    turns, _ = talk(["What did Kessler say in February?", "and last week?"])
    assert turns[1].query == "What did Kessler say last week?"  # the period replaced


def test_he_after_a_who_question_is_the_name_that_answered_it():
    from qa import Answer, Hit

    text = "Kremlin Spokesman Dmitry Peskov branded such information as empty."
    at = text.index("Dmitry Peskov")
    hit = Hit(text=text, score=0.8, doc_id="d", title="t", sentence=0, start=100,
              end=100 + len(text), context=text, context_start=100, answer_start=100 + at,
              answer_end=100 + at + len("Dmitry Peskov"))
    question = "Who is the Kremlin spokesman?"
    named = answer_name(question, Answer(question, [hit], True), [hit])
    conv = next_conversation(Conversation(), understand(question, Conversation()), 1, named)
    assert conv.named == "Dmitry Peskov" and conv.subject == "the Kremlin spokesman"
    turn = understand("what did he say?", conv)
    assert turn.query == "What did Dmitry Peskov say?"
    conv = next_conversation(conv, turn, 2)
    assert understand("what about the foreign minister?", conv).query == \
        "What did the foreign minister say?"


def test_a_new_question_is_asked_as_it_is():
    turns, _ = talk(["What did Galuzin say?", "Who is the Kremlin spokesman?"])
    assert turns[1].query == "Who is the Kremlin spokesman?" and not turns[1].rewritten
    turns, _ = talk(["What did Galuzin say?", "What did Peskov say about his country?"])
    assert not turns[1].rewritten  # "his" is Peskov's: the question names its own subject
    turns, _ = talk(["and what did he say about NATO?"])  # nothing earlier to refer to
    assert turns[0].query == "and what did he say about NATO?" and not turns[0].rewritten


def test_what_else_pages_on_and_needs_a_question_first():
    turns, conv = talk(["What did Galuzin say?", "what else?", "what else did he say?", "more"])
    assert all(t.more and t.query == "What did Galuzin say?" for t in turns[1:])
    assert [t.offset for t in turns] == [0, 3, 6, 9] and conv.shown == 12
    turns, _ = talk(["what else?"])
    assert not turns[0].more
    turns, _ = talk(["What did Galuzin say?", "what else did Peskov say about NATO?"])
    assert not turns[1].more  # new content words: a question of its own


def test_reply_uses_the_follow_up_to_find_the_right_sentence(index):
    html, conv = reply(index, "What did Galuzin say?")
    html, conv = reply(index, "and what did he say about NATO?", conv, k=1)
    assert "Taken as: “<bdi>What did Galuzin say about NATO?</bdi>”" in html
    assert "<blockquote><bdi>Galuzin warned NATO&#46;</bdi></blockquote>" in html
    # the same words asked without the conversation find Stoltenberg instead
    alone, _ = reply(index, "and what did he say about NATO?", k=1)
    assert "<blockquote><bdi>Stoltenberg spoke about NATO&#46;</bdi></blockquote>" in alone


def test_reply_what_else_shows_the_next_results(index):
    from qa.ranking.decide import decide

    query = "Galuzin warned NATO"
    hits = index.search(query, 4)
    expected = [h.text for h in hits]
    first, conv = reply(index, query, k=2)
    more, conv = reply(index, "what else?", conv, k=2)
    # the next page is headed as what it is: more answers, or only sentences near the question
    answering = any(decide([h]) for h in hits[2:])
    assert ("More from the articles" in more) == answering
    assert ("Nothing more answers this." in more) == (not answering)
    assert quoted(first) == expected[:2] and quoted(more) == expected[2:]
    last, conv = reply(index, "what else?", conv, k=2)
    assert "That is all the articles have on this" in last and conv.shown == 4


def test_reply_says_when_the_articles_do_not_answer(index):
    html, conv = reply(index, "What is the population of Tokyo?")
    assert "The articles don’t cover this." in html
    assert "not an answer" in html  # nearest sentences, marked as such
    assert conv.query == "What is the population of Tokyo?"


def test_reply_restricted_to_chosen_articles(index):
    html, _ = reply(index, "NATO", doc_ids=["b"], k=5)
    assert "Stoltenberg" in html and "Galuzin" not in html
    everything, _ = reply(index, "NATO", doc_ids=[], k=5)  # none ticked: all articles
    assert "Galuzin" in everything


def test_reply_to_an_empty_message_keeps_the_conversation(index):
    _, conv = reply(index, "What did Galuzin say?")
    html, after = reply(index, "   ", conv)
    assert "Type a question" in html and after == conv
