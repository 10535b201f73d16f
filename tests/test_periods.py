"""Dates and sources (qa/periods.py through Index.ask, the CLI and the chat), fake encoder."""
from __future__ import annotations

import json
from datetime import date
from html import unescape

import pytest

from fakes import FakeEncoder
from qa import Document, Index, InputError
from qa import periods
from qa.app.chat import reply

BASE = date(2022, 2, 2)  # a Wednesday


@pytest.mark.parametrize("question, taken", [
    ("What did Galuzin say in February 2022?",
     "“in February 2022”: published 1–28 February 2022"),
    ("What did Galuzin say in February?", "“in February”: published 1–28 February 2022"),
    ("What happened last week?", "“last week”: published 24–30 January 2022"),
    ("What did he say last Monday?", "“last Monday”: published 31 January 2022"),
    ("Who spoke since Monday?", "“since Monday”: published on or after 31 January 2022"),
    ("What was said before March 2022?", "“before March 2022”: published on or before 28 "
                                         "February 2022"),
    ("What happened in 2021?", "“in 2021”: published 1 January – 31 December 2021"),
    ("What happened yesterday?", "“yesterday”: published 1 February 2022"),
    # rolling periods, ranges and parts of a month (a second user sweep found them ignored)
    ("What did Kessler say in the past week?", "“in the past week”: published 27 January – 2 "
                                               "February 2022"),
    ("What was said in the last two weeks?", "“in the last two weeks”: published 20 January – 2 "
                                             "February 2022"),
    ("What happened between January 1 and January 20, 2022?",
     "“between January 1 and January 20, 2022”: published 1–20 January 2022"),
    ("What happened between 3 and 20 January?",
     "“between 3 and 20 January”: published 3–20 January 2022"),
    ("What happened in early January?", "“in early January”: published 1–10 January 2022"),
    ("What happened in late January?", "“in late January”: published 21–31 January 2022"),
])
def test_time_phrases_relative_to_the_newest_article(question, taken):
    assert periods.from_question(question, BASE).describe() == taken


@pytest.mark.parametrize("question", ["What did Galuzin say?", "What may happen to NATO?",
                                      "How many seats did Labour win?",
                                      # the day of the event, not of publication
                                      "Which union threatened on Monday to strike?",
                                      "What happened on the last day of the summit?",
                                      "What did he say in the last week of the campaign?",
                                      "What did he say on Wednesday?"])
def test_questions_without_a_time_phrase(question):
    assert periods.from_question(question, BASE) is None


def test_article_dates():
    assert periods.article_date(Document("a", "x", published="2022-02-02")) == BASE
    assert periods.article_date(Document("a", "x", published="2 February 2022")) == BASE
    assert periods.article_date(Document("a", "x", published="February 2")) is None
    assert periods.article_date(Document("a", "x", published="February 2",
                                         url="https://tass.com/2022/02/02/x")) == BASE
    assert periods.article_date(Document("a", "x")) is None


@pytest.mark.parametrize("origin, year", [
    ("/desk/2022/02/14/strike.txt", 2022),  # a dated folder
    ("/desk/2019-03-03-note.txt", 2019),  # a name opening with an ISO date
    ("/desk/drop-a2019f/note.txt", None),  # a folder tag is no date
    ("/desk/report_2015_v2.txt", None),  # nor a number in a file's name
    ("/desk/uploads/notes_2019.txt", None),
])
def test_a_year_is_taken_from_a_dated_folder_only(origin, year):
    doc = Document("a", "x", published="March 3")
    doc.origin = origin
    found = periods.article_date(doc)
    assert (found.year if found else None) == year


def test_a_year_alone_is_no_date():
    """"2022" says nothing of when in the year: undated (kept, and said so), not 1 November."""
    assert periods.article_date(Document("a", "x", published="2022")) is None
    assert periods.article_date(Document("a", "x", published="March 2022")) == date(2022, 3, 1)


@pytest.fixture
def index():
    docs = [Document(id="jan", title="January", source="TASS", published="2022-01-26",
                     text="Galuzin said sanctions were counterproductive."),
            Document(id="feb", title="February", source="Reuters", published="2022-02-02",
                     text="Galuzin said sanctions would fail."),
            Document(id="undated", title="Undated", source="TASS", published="February 2",
                     text="Galuzin said sanctions were wrong.")]
    return Index.build(docs, encoder=FakeEncoder())


def ids(answer):
    return sorted({h.doc_id for h in answer.hits})


def test_the_answer_downloads_say_which_articles_were_searched(index):
    import json

    from qa.app.chat import Conversation, reply_shown
    from qa.app.export import as_json, markdown

    _, _, shown = reply_shown(index, "What did Galuzin say in February 2022?", Conversation())
    assert "Taken as: “in February 2022”: published 1–28 February 2022" in \
        markdown(shown).replace("\\", "")
    data = json.loads(as_json(shown))
    assert data["taken_as"] == "“in February 2022”: published 1–28 February 2022"  # as /api/ask
    assert data["asked_as"] == data["question"] == "What did Galuzin say in February 2022?"


def test_since_until_and_sources(index):
    assert ids(index.ask("sanctions", since="2022-02-01")) == ["feb", "undated"]
    assert ids(index.ask("sanctions", until=date(2022, 1, 31))) == ["jan", "undated"]
    assert ids(index.ask("sanctions", sources=["tass"])) == ["jan", "undated"]
    assert ids(index.ask("sanctions", sources="Reuters")) == ["feb"]
    answer = index.ask("sanctions", since="2022-02-01", until="2022-02-28", sources=["Reuters"])
    assert answer.taken_as == "published 1–28 February 2022, from Reuters"
    with pytest.raises(InputError, match=r"no article comes from BBC; .*TASS \(2\)"):
        index.ask("sanctions", sources=["BBC"])  # a source nobody wrote for: said, with those there


def test_relative_since_and_until_are_read_against_the_archives_now(index):
    """"yesterday" in the settings means what it means in a question: the day before the
    newest article (2 February 2022 here), not before the machine's date."""
    assert index.ask("sanctions", since="yesterday").taken_as == \
        "published on or after 1 February 2022"


def test_a_time_phrase_in_the_question_limits_and_says_how(index):
    answer = index.ask("What did Galuzin say last week?")  # newest article: 2 February 2022
    assert answer.taken_as == "“last week”: published 24–30 January 2022"
    assert answer.statements and ids(answer) == ["jan", "undated"]
    assert answer.undated == ["undated"]  # kept, and marked
    given = index.ask("What did Galuzin say last week?", since="2022-02-01")
    assert ids(given) == ["feb", "undated"]  # given dates win over the question's


@pytest.mark.parametrize("kwargs, message", [
    ({"since": "2022-03-01", "until": "2022-02-01"}, "is after until"),
    ({"since": "not a date at all"}, "since must be a date")])
def test_bad_limits_are_input_errors(index, kwargs, message):
    with pytest.raises(InputError, match=message):
        index.ask("sanctions", **kwargs)


def test_the_chat_says_how_it_took_the_dates(index):
    html = unescape(reply(index, "What did Galuzin say in January?")[0])
    assert "Taken as: <bdi>“in January”: published 1–31 January 2022</bdi>" in html
    assert "Undated" in html and "(undated)" in html
    html, _ = reply(index, "sanctions", sources=["Reuters"], since="2022-02-01")
    assert "from Reuters" in html and "counterproductive" not in html
    assert "since must be a date" in reply(index, "sanctions", since="soon-ish maybe")[0]


def test_the_cli_takes_the_limits(index, tmp_path, capsys, fake_model, monkeypatch):
    from qa.cli import main

    index.save(tmp_path / "ix")
    monkeypatch.setattr(index, "model", fake_model.name)
    code = main(["ask", "sanctions", "--index", str(tmp_path / "ix"), "--source", "Reuters",
                 "--since", "2022-02-01", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["taken_as"] == "published on or after 1 February 2022, from Reuters"
    assert {h["doc_id"] for h in out["hits"]} == {"feb"}
    assert main(["ask", "sanctions", "--index", str(tmp_path / "ix"), "--since", "soon"]) == 2
