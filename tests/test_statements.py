"""Everything a person said (qa/statements.py through Index.ask), on the fake encoder."""
from __future__ import annotations

import re
from html import unescape

import pytest

from conftest import SEED
from fakes import FakeEncoder
from qa import Document, Index
from qa import statements
from qa.app.chat import reply
from qa.ingest.readers import read_paths


@pytest.fixture(scope="module")
def seed_index():
    return Index.build(read_paths([SEED]).documents, encoder=FakeEncoder())


@pytest.fixture
def archive():
    docs = [Document(id="old", title="Old talks", source="TASS", published="2022-01-10",
                     text="Galuzin said the talks would go on. The weather was cold. "
                          "Galuzin added that tea is good."),
            Document(id="undated", title="No year", source="TASS", published="March 3",
                     text="Mikhail Galuzin said NATO should listen."),
            Document(id="new", title="New talks", source="Reuters", published="2022-02-20",
                     text="The meeting began at noon. Galuzin warned NATO against expansion. "
                          "Peskov said nothing."),
            Document(id="none", title="Elsewhere", source="BBC", published="2022-02-21",
                     text="Stoltenberg said NATO was ready.")]
    return Index.build(docs, encoder=FakeEncoder())


@pytest.mark.parametrize("question, names, topic", [
    ("What did Galuzin say?", {"galuzin"}, ""),
    ("What did Mikhail Galuzin say about NATO?", {"mikhail", "galuzin"}, "NATO"),
    ("What does Mr Peskov think of the talks?", {"peskov"}, "the talks"),
    ("How did Galuzin warn Japan?", {"galuzin"}, "Japan"),
])
def test_statement_questions_are_recognised(question, names, topic):
    asked = statements.asked(question)
    assert asked is not None and asked.names == names and asked.topic == topic


@pytest.mark.parametrize("question", ["Who is the Kremlin spokesman?", "Why did Galuzin say that?",
                                      "What happened in Tokyo?", "What did they say?"])
def test_other_questions_are_not_statement_questions(question):
    assert statements.asked(question) is None


def test_every_galuzin_statement_of_the_seed_in_article_order(seed_index):
    answer = seed_index.ask("What did Galuzin say?")
    assert answer.statements and answer.answered
    assert len(answer.hits) == 6  # qa/ingest/speakers.py attributes six sentences to him
    assert all(h.speaker == "Mikhail Galuzin" for h in answer.hits)
    assert [h.sentence for h in answer.hits] == sorted(h.sentence for h in answer.hits)
    assert statements.count_line(answer.hits) == "6 statements in 1 article"
    assert any("the diplomat added" in h.text for h in answer.hits)  # not only "X said"


def test_a_question_in_lower_case_gets_the_same_statements(seed_index):
    typed = seed_index.ask("what did galuzin say")
    assert typed.statements and len(typed.hits) == 6
    peskov = seed_index.ask("what did peskov say")
    assert peskov.statements and peskov.hits and all(h.speaker == "Dmitry Peskov" for h in peskov.hits)


def test_k_caps_statements_and_keeps_its_meaning_for_other_questions(seed_index):
    assert len(seed_index.ask("What did Galuzin say?", k=2).hits) == 2
    assert len(seed_index.ask("What did Galuzin say?", k=None).hits) == 6
    other = seed_index.ask("Japanese government strong actions")
    assert not other.statements and len(other.hits) == 5
    assert len(seed_index.ask("Japanese government strong actions", k=2).hits) == 2


def test_grouped_by_article_newest_first_undated_last(archive):
    answer = archive.ask("What did Galuzin say?")
    assert [(h.doc_id, h.sentence) for h in answer.hits] == [
        ("new", 1), ("old", 0), ("old", 2), ("undated", 0)]
    assert statements.count_line(answer.hits) == "4 statements in 3 articles"


def test_about_narrows_to_the_topic_best_first(archive, monkeypatch):
    shipped = archive.ask("What did Galuzin say about NATO?")
    assert all(h.score >= statements.TOPIC_THRESHOLD for h in shipped.hits)
    monkeypatch.setattr(statements, "TOPIC_THRESHOLD", 0.0)
    all_of_them = archive.ask("What did Galuzin say about NATO?")
    assert len(all_of_them.hits) == 4
    scores = [h.score for h in all_of_them.hits]
    assert scores == sorted(scores, reverse=True)
    monkeypatch.setattr(statements, "TOPIC_THRESHOLD", 2.0)  # nothing reaches it
    near = archive.ask("What did Galuzin say about NATO?")  # not answered, the nearest shown
    assert near.statements and not near.answered
    assert [h.text for h in near.hits] == [h.text for h in all_of_them.hits]
    assert len(archive.ask("What did Galuzin say?").hits) == 4  # no topic: no threshold


@pytest.mark.parametrize("question", ["What did Galuzin say <b>", "What did Galuzin say??!! :)",
                                      "What did Galuzin say about <i></i>?"])
def test_markup_or_punctuation_after_the_question_is_no_topic(question):
    assert statements.asked(question).topic == ""


def test_a_person_nobody_quotes_falls_back_to_ranking(archive):
    answer = archive.ask("What did Kishida say?")
    assert not answer.statements


def test_the_chat_shows_every_statement_grouped_with_the_count(archive):
    html, _ = reply(archive, "What did Galuzin say?", k=1)  # k pages other answers only
    shown = [unescape(q) for q in re.findall(r"<blockquote><bdi>(.*?)</bdi></blockquote>", html)]
    assert shown == ["Galuzin warned NATO against expansion.",
                     "Galuzin said the talks would go on.", "Galuzin added that tea is good.",
                     "Mikhail Galuzin said NATO should listen."]
    assert "4 statements in 3 articles" in html
    heads = re.findall(r'<p class="qa-article-head">(.*?)</p>', html)
    assert len(heads) == 3 and "New talks" in heads[0] and "Reuters" in heads[0]
    assert "2022-02-20" in heads[0] and "No year" in heads[2]


def test_what_else_after_the_statements_pages_through_the_other_sentences(archive):
    from qa.app.chat import Conversation, reply_shown

    html, conversation, shown = reply_shown(archive, "What did Galuzin say?", Conversation(), k=2)
    assert len(shown.hits) == 4 and conversation.shown == 4
    html, conversation, more = reply_shown(archive, "what else?", conversation, k=2)
    assert len(more.hits) == 2  # (the fake encoder finds them no answer: shown as nearest)
    assert not {(h.doc_id, h.sentence) for h in more.hits} & {
        (h.doc_id, h.sentence) for h in shown.hits}
    html, conversation, again = reply_shown(archive, "what else?", conversation, k=2)
    assert not {(h.doc_id, h.sentence) for h in again.hits} & {
        (h.doc_id, h.sentence) for h in more.hits + shown.hits}


def test_the_cli_prints_every_statement_with_the_count(isolated_home, fake_model, capsys):
    import shutil

    from qa.cli import main

    shutil.copy(SEED, isolated_home / "seeds")
    assert main(["ask", "What did Galuzin say?"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("6 statements in 1 article:\n1. ") and "\n6. " in out


def test_statements_include_the_attribution_forms_beyond_x_said():
    """"according to Mr X", "said <role> X", "X, <role>, told", "X of Y said" and a "he" after
    a sentence led by "Mr X" all count as X's statements (qa/ingest/speakers.py)."""
    doc = Document(id="cable", title="Stamp duty", source="BBC", published="2005-01-10",
                   text="Vince Cable of the Liberal Democrats said the threshold should rise. "
                        "The average saving would be 1,000 pounds, according to Mr Cable. "
                        "Michael Howard attacked the plan. "
                        "Mr Cable is the party's treasury spokesman. "
                        "He told the BBC it was fair. "
                        "\"It helps first-time buyers,\" Vince Cable, the party's spokesman, told "
                        "reporters. "
                        "Buyers would gain most, said treasury spokesman Vince Cable. "
                        "Prices rose 3%, according to the Land Registry.")
    index = Index.build([doc], encoder=FakeEncoder())
    answer = index.ask("What did Vince Cable say?")
    assert answer.statements
    assert [h.sentence for h in answer.hits] == [0, 1, 4, 5, 6]
    assert all(h.speaker == "Vince Cable" for h in answer.hits)
