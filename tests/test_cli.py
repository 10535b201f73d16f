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
