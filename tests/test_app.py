"""The app's handlers, as Gradio calls them, on the default index with the fake encoder."""
import json
import re
import shutil
from html import unescape
from pathlib import Path

import pytest

from conftest import SEED, load_app
from qa.app.chat import Conversation


@pytest.fixture(scope="module")
def app():
    return load_app("newsroom_app_under_test")


@pytest.fixture
def home(isolated_home, fake_model):
    shutil.copy(SEED, isolated_home / "seeds")
    (isolated_home / "seeds" / "kremlin.txt").write_text(
        "Kremlin briefing\nKremlin spokesman Dmitry Peskov said Russia threatens nobody.\n"
        "Peskov said NATO should listen.")
    return isolated_home


def contents(history):
    return [m["content"] for m in history]


def test_respond_quotes_and_cites_and_keeps_history(app, home):
    history, conv, box = app.respond("Peskov said Russia threatens nobody", [])
    assert box == "" and [m["role"] for m in history] == ["user", "assistant"]
    question, answer = contents(history)
    assert "Peskov said Russia threatens nobody" in question
    assert "<blockquote><bdi>Kremlin spokesman Dmitry Peskov said Russia threatens nobody&#46;</bdi>" \
        in answer
    assert "— <bdi>Kremlin briefing</bdi> · sentence 1 of 2" in answer and "score " in answer
    assert '<mark class="qa-hit">' in answer  # the in-context view
    history, conv, _ = app.respond("what about NATO?", history, conv)
    assert len(history) == 4 and conv.query != "what about NATO?"


def test_respond_shows_question_text_as_text(app, home):
    history, _, _ = app.respond('<img src=x onerror="alert(1)"> ![p](http://198.51.100.7/p.png)', [])
    question, answer = contents(history)
    assert "<img" not in question + answer and "](" not in question + answer
    assert unescape(question) == ('<span class="qa-question"><bdi><img src=x onerror="alert(1)"> '
                                  '![p](http://198.51.100.7/p.png)</bdi></span>')


def test_an_empty_message_adds_nothing(app, home):
    history, conv, _ = app.respond("What did Peskov say?", [])
    assert app.respond("   ", history, conv) == (history, conv, "")


def test_conversations_do_not_mix(app, home):
    _, alice, _ = app.respond("What did Peskov say?", [])
    _, bob, _ = app.respond("What did Galuzin say?", [])
    a, alice, _ = app.respond("and what did he say about NATO?", [], alice)
    b, bob, _ = app.respond("and what did he say about NATO?", [], bob)
    assert "What did Peskov say about NATO?" in a[1]["content"]
    assert "What did Galuzin say about NATO?" in b[1]["content"]
    assert alice.subject == "Peskov" and bob.subject == "Galuzin"


def test_respond_settings_passages_and_articles(app, home):
    history, _, _ = app.respond("Peskov said", [], None, 1, ["kremlin.txt"])
    assert contents(history)[1].count("<blockquote>") == 1
    history, _, _ = app.respond("Galuzin said", [], None, 5, ["kremlin.txt"])
    answer = contents(history)[1]
    assert answer.count("<blockquote>") == answer.count("— <bdi>Kremlin briefing</bdi>") == 2


def test_sources_lists_the_articles(app, home):
    stats, table, only, doomed = app.sources()
    assert stats == "2 articles and 14 sentences indexed."
    assert "<td><bdi>Kremlin briefing</bdi></td>" in table and "<td>2</td>" in table
    assert ("Kremlin briefing", "kremlin.txt") in only["choices"]


def test_an_open_page_lists_the_articles_again_only_when_they_changed(app, home, tmp_path):
    """The Sources panel's timer (app.relisted): another writer's commit is listed without a
    reload (a user sweep found open pages kept the count and list they loaded with)."""
    import gradio as gr

    from qa.default import default_index
    from qa.index import Index
    from qa.types import Document

    *listing, key = app.relisted(None, 5)
    assert listing[0] == "2 articles and 14 sentences indexed." and key is not None
    assert "value" not in listing[3]  # the articles picked for removal stay picked
    assert app.relisted(key, 5) == (gr.skip(),) * 5  # nothing changed: nothing sent
    writer = Index.open(default_index().path, encoder=default_index().encoder)
    writer.add([Document(id="late", title="Late news", text="The ferry sailed at dawn.")])
    writer.save()
    default_index().refresh()
    *listing, key2 = app.relisted(key, 5)
    assert listing[0] == "3 articles and 15 sentences indexed." and key2 != key


def test_upload_and_remove_through_the_handlers(app, home, tmp_path):
    src = tmp_path / "ports.txt"
    src.write_text("Port strike\nDock workers in Hamburg walked out on Monday.")
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{oops\n")
    status, stats, *_ = app.add_articles([str(src), str(bad)], progress=lambda *a, **k: None)
    assert "Added 1 article(s): upload/ports.txt" in status and "bad.jsonl:1" in status
    assert stats == "3 articles and 15 sentences indexed."
    history, _, _ = app.respond("Dock workers in Hamburg walked out", [])
    assert "Port strike" in history[1]["content"]
    status, stats, *_ = app.remove_articles(["upload/ports.txt"])
    assert "Removed 1" in status and stats.startswith("2 articles")
    assert not any(Path(home, "uploads").iterdir())


def test_questions_reuse_the_loaded_index_and_model(app, home, fake_model):
    app.respond("What did Peskov say?", [])
    embedded = fake_model.encoded
    for q in ("What did Galuzin say?", "what else?", "Who is the Kremlin spokesman?"):
        app.respond(q, [])
    assert fake_model.encoded == embedded + 3  # only the questions: nothing re-embedded or rebuilt


def test_many_conversations_at_once_keep_their_own_subjects(app, home):
    from concurrent.futures import ThreadPoolExecutor

    people = ["Peskov", "Galuzin", "Kishida", "Biden"] * 4

    def chat(name):
        _, conv, _ = app.respond(f"What did {name} say?", [])
        history, conv, _ = app.respond("and what did he say about NATO?", [], conv)
        return name, conv.subject, history[1]["content"]

    with ThreadPoolExecutor(8) as pool:
        for name, subject, answer in pool.map(chat, people):
            assert subject == name
            assert f"Taken as: “<bdi>What did {name} say about NATO?</bdi>”" in answer


def test_a_huge_sentence_is_quoted_short_and_the_history_stays_small(app, home):
    from qa.default import default_index
    from qa.types import Document

    huge = "Galuzin said " + "very " * 200_000 + "much."  # a 1 MB "sentence", by qa ingest
    default_index().add([Document(id="huge.txt", title="Huge", text=huge)])
    history, conv = [], None
    for _ in range(4):
        history, conv, _ = app.respond("Galuzin said very much", history, conv, 1, ["huge.txt"])
    latest = history[-1]["content"]
    quote = re.search(r"<blockquote>(.*?)</blockquote>", latest).group(1)
    assert len(quote) < 1000 and "shortened from 1,000,018 characters" in quote
    marked = re.search(r'<mark class="qa-hit"><bdi>(.*?)</bdi></mark>', latest).group(1)
    assert unescape(marked) == huge  # the whole sentence, in context
    assert len(latest) < len(huge) * 1.1
    earlier = [m["content"] for m in history[:-1]]
    assert all(len(m) < 10_000 for m in earlier)  # earlier answers are compact
    assert len(json.dumps(history)) < len(huge) * 1.2  # was 12.6 MB after four questions


def test_the_history_keeps_the_last_questions_only(app, home):
    history, conv = [], None
    for n in range(app.HISTORY_MESSAGES):
        history, conv, _ = app.respond(f"What did Peskov say {n}?", history, conv)
    assert len(history) == app.HISTORY_MESSAGES
    assert f"Peskov say {app.HISTORY_MESSAGES - 1}?" in history[-2]["content"]


def test_article_text_is_isolated_from_the_labels_around_it(app, home):
    from qa.default import default_index
    from qa.types import Document

    default_index().add([Document(id="rtl.txt", title="\u202eNATO warns", source="\u202eTASS",
                                  text="The minister spoke about \u202eshipping lanes.")])
    history, _, _ = app.respond("minister shipping lanes", [], None, 1, ["rtl.txt"])
    answer = history[1]["content"]
    assert "— <bdi>&#8238;NATO warns</bdi> · <bdi>&#8238;TASS</bdi> · sentence 1 of 1 " in answer
    copied = re.search(r'<span class="qa-cite-text">(.*?)</span>', answer).group(1)  # hidden
    assert unescape(copied.replace("<bdi>", "").replace("</bdi>", "")) == (
        "“\u2068The minister spoke about \u202eshipping lanes.\u2069” "
                                "— \u2068\u202eNATO warns\u2069, \u2068\u202eTASS\u2069 "
                                "(sentence 1).")  # each piece isolated there too
    answer = answer.replace(copied, "")
    assert answer.count("&#8238;") == 4  # title, source, quote, context: shown as they are
    outside = re.sub(r"<bdi>.*?</bdi>", "", answer)
    assert "&#8238;" not in outside  # every override sits inside an isolate


def test_the_download_buttons_are_shown_once_then_only_given_new_files(app, home):
    """The first answer shows the buttons (a property update); later ones only hand them the new
    files, so Gradio does not rebuild the two components for every answer."""
    out = app.chat("What did Peskov say?", [], Conversation(), 3, [], {}, False)
    history, _, conversation, box, md, js, shown = out
    assert md["visible"] is True and md["value"].endswith(".md") and js["value"].endswith(".json")
    assert shown is True
    out = app.chat("and what did he say about NATO?", history, conversation, 3, [], {}, shown)
    md2, js2, shown2 = out[4:]
    assert isinstance(md2, str) and md2.endswith(".md") and md2 != md["value"]
    assert "Peskov" in Path(md2).read_text(encoding="utf-8") and js2.endswith(".json")
    assert shown2 is True
    nothing = app.chat("   ", out[0], out[2], 3, [], {}, False)
    assert nothing[-1] is False and nothing[4] == {"__type__": "update"}


def test_answer_files_are_served_from_where_they_are_written(app, home):
    """Gradio serves the answer files from the exports folder (a static path) instead of
    checking, hashing and copying each into its cache on every answer."""
    from gradio.utils import is_static_file

    out = app.chat("What did Peskov say?", [], Conversation(), 3, [], {}, False)
    md, js = out[4]["value"], out[5]["value"]
    assert is_static_file(md) and is_static_file(js)
    assert not is_static_file(str(SEED))  # (a file that is there, elsewhere)


def test_a_long_day_keeps_only_the_latest_answers_files(app, home, monkeypatch):
    """Every answer writes two download files; a shared chat answering all day keeps the
    latest KEPT_ANSWERS answers' files and removes older ones."""
    monkeypatch.setattr(app, "KEPT_ANSWERS", 3)
    written = []
    for q in ["What did Peskov say?", "Who is the Kremlin spokesman?", "What did Kishida say?",
              "What did Galuzin say?", "When did Kishida and Biden talk?"]:
        out = app.chat(q, [], Conversation(), 3, [], {}, False)
        written.append((Path(out[4]["value"]), Path(out[5]["value"])))
    kept = [p for pair in written for p in pair if p.exists()]
    assert kept == [p for pair in written[-3:] for p in pair]
    assert len(list(written[-1][0].parent.glob("answer-*"))) == 6
