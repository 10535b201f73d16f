"""The qa command: what a user types, what they see, and the exit codes."""
import json
import os
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT, SEED
from qa.cli import main


@pytest.fixture
def home(isolated_home, fake_model):
    shutil.copy(SEED, isolated_home / "seeds")
    return isolated_home


def test_ask_prints_cited_sentences(home, capsys):
    assert main(["ask", "Kremlin Spokesman Dmitry Peskov", "--k", "2"]) == 0
    out = capsys.readouterr().out
    assert "\n1. Kremlin Spokesman Dmitry Peskov branded" in "\n" + out
    assert "TASS, February 2; sentence 11" in out


def test_ask_json(home, capsys):
    assert main(["ask", "Galuzin", "--json", "--k", "3"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["question"] == "Galuzin" and len(data["hits"]) == 3
    assert {"text", "score", "doc_id", "title", "sentence", "start", "end", "context"} <= set(data["hits"][0])


def test_ingest_into_a_named_index_then_ask_it(home, tmp_path, capsys):
    arts = tmp_path / "arts"
    arts.mkdir()
    (arts / "a.txt").write_text("Striker news\nThe striker scored twice. The coach was happy.")
    (arts / "b.jsonl").write_text(json.dumps({"id": "j1", "text": "Oil prices rose again."}) + "\n")
    assert main(["ingest", str(arts), "--index", str(tmp_path / "ix")]) == 0
    assert "2 added" in capsys.readouterr().out
    assert main(["ingest", str(arts), "--index", str(tmp_path / "ix")]) == 0
    assert "2 unchanged" in capsys.readouterr().out
    assert main(["ask", "oil prices", "--index", str(tmp_path / "ix"), "--k", "1"]) == 0
    assert "Oil prices rose again." in capsys.readouterr().out
    assert main(["info", "--index", str(tmp_path / "ix")]) == 0
    assert "articles: 2   sentences: 3" in capsys.readouterr().out


def test_ingest_into_the_default_index(home, tmp_path, capsys):
    f = tmp_path / "extra.txt"
    f.write_text("Extra\nTariffs were raised on steel.")
    assert main(["ingest", str(f)]) == 0
    assert main(["ask", "tariffs steel", "--k", "1"]) == 0
    assert "Tariffs were raised on steel." in capsys.readouterr().out


def test_bad_file_among_good_ones_is_named_and_the_rest_ingested(home, tmp_path, capsys):
    arts = tmp_path / "arts"
    arts.mkdir()
    (arts / "ok.txt").write_text("Fine\nA fine article.")
    (arts / "bad.jsonl").write_text("{oops\n")
    code = main(["ingest", str(arts), "--index", str(tmp_path / "ix")])
    captured = capsys.readouterr()
    assert code == 2 and "bad.jsonl:1: not valid JSON" in captured.err
    assert "1 added" in captured.out


@pytest.mark.parametrize("argv,message", [
    (["ask", ""], "question is empty"),
    (["ask", "x", "--index", "/no/such/index"], "no index at /no/such/index"),
    (["ingest", "/no/such/file.txt"], "no such file or folder"),
    (["ask", "x", "--k", "0"], "k must be"),
])
def test_user_mistakes_are_one_line_and_exit_2(home, capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert len([line for line in err.splitlines() if line.startswith("qa: error")]) == 1


def test_corrupt_index_is_an_error_naming_the_fix(home, tmp_path, capsys):
    (tmp_path / "ix").mkdir()
    (tmp_path / "ix" / "manifest.json").write_text("{ broken")
    assert main(["ask", "x", "--index", str(tmp_path / "ix")]) == 2
    assert "qa ingest --rebuild" in capsys.readouterr().err


def test_console_script_help_is_light():
    """`python -m qa --help` works and imports neither torch nor faiss nor gradio."""
    code = ("import sys, runpy; sys.argv=['qa','--help']\n"
            "try: runpy.run_module('qa', run_name='__main__')\n"
            "except SystemExit: pass\n"
            "heavy=[m for m in ('torch','faiss','gradio','sentence_transformers') if m in sys.modules]\n"
            "print('HEAVY', heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         env={**os.environ, "PYTHONPATH": str(ROOT)}, check=True).stdout
    assert "usage: qa" in out and "HEAVY []" in out


ESCAPES = "\x1b]0;pwned\x07\x1b[2J\x1b[H\x1b]8;;http://198.51.100.7/\x1b\\link\x1b]8;;\x1b\\\x9b31m"


def test_terminal_control_sequences_in_articles_are_not_printed(home, tmp_path, capsys):
    f = tmp_path / "esc.jsonl"
    f.write_text(json.dumps({"id": f"esc{ESCAPES}", "title": f"Harbour{ESCAPES} news",
                             "source": f"Wire{ESCAPES}",
                             "text": f"The harbour{ESCAPES} froze over on Monday."}) + "\n")
    ix = str(tmp_path / "ix")
    assert main(["ingest", str(f), "--index", ix]) == 0
    capsys.readouterr()
    assert main(["ask", "harbour froze", "--index", ix, "--k", "1"]) == 0
    assert main(["info", "--index", ix]) == 0
    assert main(["ask", "harbour froze", "--index", ix, "--k", "1", "--json"]) == 0
    out = capsys.readouterr().out
    assert "1. The harbourlink froze over on Monday." in out  # the words stay, the codes go
    assert "— Harbourlink news, Wirelink; sentence 1" in out
    assert "esclink: Harbourlink news — 1 sentences" in out
    assert not set(out) & {"\x1b", "\x07", "\x9b", "\x9d"}
    assert json.loads(out[out.index("{"):])["hits"][0]["text"] == f"The harbour{ESCAPES} froze " \
        "over on Monday."  # --json keeps the text exactly, escaped


@pytest.mark.parametrize("question", ["What did \udcff say?", "What did \ud800 say?"])
def test_a_question_that_is_not_text_is_one_line_and_exit_2(home, capsys, question):
    assert main(["ask", question]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("qa: error: the question ")
    assert "Traceback" not in err


def _qa(*args, **kw):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    return subprocess.Popen([sys.executable, "-m", "qa", *args], cwd=ROOT, env=env, **kw)


def test_invalid_utf8_on_the_command_line_is_one_line_and_exit_2(home):
    proc = _qa("ask", b"What did \xff\xfe say?", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.communicate()
    assert proc.returncode == 2 and out == b""
    assert err == b"qa: error: the question is not valid UTF-8 (byte 0xff); type it again, or " \
                  b"set the terminal to UTF-8\n"


def test_a_closed_pipe_ends_the_command_quietly(home, tmp_path, fake_model):
    docs = "".join(json.dumps({"id": f"a{i}", "text": f"Article {i} says ports reopened."}) + "\n"
                   for i in range(30))
    (tmp_path / "many.jsonl").write_text(docs)
    assert main(["ingest", str(tmp_path / "many.jsonl"), "--index", str(tmp_path / "ix")]) == 0
    proc = _qa("info", "--index", str(tmp_path / "ix"), stdout=subprocess.PIPE,
               stderr=subprocess.PIPE)  # QA_MODEL names the fake model: nothing is loaded
    proc.stdout.close()  # the reader is gone before anything is written: `qa info | head -0`
    err = proc.stderr.read()
    proc.wait()
    assert err == b"" and proc.returncode == 141
    shell = subprocess.run(f"{sys.executable} -m qa info --index {tmp_path / 'ix'} | head -4",
                           shell=True, capture_output=True, cwd=ROOT,
                           env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert shell.stdout.decode().startswith("index: ") and shell.stdout.count(b"\n") == 4
    assert shell.stderr == b""


def test_serve_takes_the_index_as_it_stands(home, tmp_path, monkeypatch, capsys):
    """`qa serve --index DIR` opens the chat on DIR as it is: no seed article added, nothing
    written (a user sweep found the seed saved into the user's archive)."""
    import importlib.util

    from qa import default
    from qa.storage import folder

    arts = tmp_path / "arts"
    arts.mkdir()
    (arts / "a.txt").write_text("Harbour news\nThe tunnel opened on Monday.")
    ix = tmp_path / "desk-index"
    assert main(["ingest", str(arts), "--index", str(ix)]) == 0
    before = folder.current_generation(ix)
    fake_app = tmp_path / "app.py"
    fake_app.write_text("from qa.default import default_index\nseen = {}\n"
                        "def launch(**options):\n    seen['index'] = default_index()\n")
    real = importlib.util.spec_from_file_location
    monkeypatch.setattr(importlib.util, "spec_from_file_location",
                        lambda name, path: real(name, fake_app))
    launched = {}
    real_module = importlib.util.module_from_spec

    def module_from_spec(spec):
        launched["module"] = real_module(spec)
        return launched["module"]

    monkeypatch.setattr(importlib.util, "module_from_spec", module_from_spec)
    default.reset()
    try:
        assert main(["serve", "--index", str(ix)]) == 0
        served = launched["module"].seen["index"]
        assert [d.id for d in served.documents] == ["a.txt"]  # no seed article in it
        assert folder.current_generation(ix) == before  # and nothing written
        assert main(["serve", "--index", str(tmp_path / "none")]) == 2  # not an index: said
        assert "qa: error" in capsys.readouterr().err
    finally:
        default.reset()


def test_an_index_that_is_a_file_is_refused_before_any_work(home, tmp_path, capsys):
    article = tmp_path / "a.txt"
    article.write_text("Harbour news\nThe tunnel opened on Monday.")
    assert main(["ingest", str(article), "--index", str(article)]) == 2
    err = capsys.readouterr().err
    assert "is a file, not an index folder" in err and "Traceback" not in err
    assert article.read_text().startswith("Harbour news")  # untouched


def test_a_source_no_article_comes_from_is_named_with_those_there_are(home, capsys):
    assert main(["ask", "Galuzin", "--source", "NOPE"]) == 2
    err = capsys.readouterr().err
    assert "no article comes from NOPE" in err and "TASS (1)" in err
    assert main(["ask", "Galuzin", "--source", "tass", "--k", "1"]) == 0  # case does not matter


def test_ingesting_nothing_new_leaves_the_index_as_it_is(home, tmp_path, capsys):
    from qa.storage import folder

    article = tmp_path / "a.txt"
    article.write_text("Harbour news\nThe tunnel opened on Monday.")
    ix = tmp_path / "ix"
    assert main(["ingest", str(article), "--index", str(ix)]) == 0
    first = folder.current_generation(ix)
    capsys.readouterr()
    assert main(["ingest", str(article), "--index", str(ix)]) == 0
    assert "1 unchanged" in (out := capsys.readouterr().out) and "nothing new to commit" in out
    assert folder.current_generation(ix) == first


def test_a_new_date_alone_is_an_update_that_is_committed(home, tmp_path, capsys):
    """A file whose only change is its date is not embedded again, but it is an update: it was
    reported 'unchanged', and with nothing new it would not have been committed at all."""
    from qa import Index
    from qa.storage import folder

    arts = tmp_path / "a.jsonl"
    ix = tmp_path / "ix"
    line = {"id": "j1", "title": "Harbour", "text": "The harbour froze over."}
    arts.write_text(json.dumps({**line, "published": "2022-02-01"}) + "\n")
    assert main(["ingest", str(arts), "--index", str(ix)]) == 0
    first = folder.current_generation(ix)
    arts.write_text(json.dumps({**line, "published": "2022-02-03"}) + "\n")
    capsys.readouterr()
    assert main(["ingest", str(arts), "--index", str(ix)]) == 0
    out = capsys.readouterr().out
    assert "1 updated" in out and "0 sentences embedded" in out
    assert folder.current_generation(ix) != first
    assert Index.open(ix).documents[0].published == "2022-02-03"
