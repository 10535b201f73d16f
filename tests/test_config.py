"""Every QA_* variable the code reads is listed in qa/config.py and in the README's
configuration table, and nothing is listed that the code does not read."""
from __future__ import annotations

import re
from pathlib import Path

from qa import config

ROOT = Path(__file__).resolve().parent.parent
NAME = re.compile(r"\bQA_[A-Z_]+[A-Z]\b")


def _readme_table() -> set[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    table = text[text.index("| variable | meaning | default |"):]
    table = table[:table.index("\n\n")]
    return {name for row in table.splitlines()[2:] for name in NAME.findall(row.split("|")[1])}


def _read_in_code() -> set[str]:
    files = [ROOT / "app.py", *(ROOT / "qa").rglob("*.py")]
    return {name for f in files for name in NAME.findall(f.read_text(encoding="utf-8"))}


def test_the_readme_table_lists_every_variable_and_only_those():
    assert _readme_table() == set(config.VARIABLES)


def test_the_code_reads_every_listed_variable_and_no_other():
    assert _read_in_code() == set(config.VARIABLES)


def test_a_variable_is_read_when_used(monkeypatch):
    monkeypatch.setenv("QA_RERANK", "0")
    assert config.rerank_mode() == "off"
    monkeypatch.setenv("QA_RERANK", "1")
    assert config.rerank_mode() == "on"
    monkeypatch.setenv("QA_COMMIT_ARTICLES", "7")
    assert config.commit_articles(500) == 7


def test_question_threads_are_their_own_setting_and_default_to_an_ingests(monkeypatch):
    monkeypatch.delenv("QA_QUESTION_THREADS", raising=False)
    monkeypatch.setenv("QA_THREADS", "3")
    assert config.threads() == 3 and config.question_threads() == 3
    monkeypatch.setenv("QA_QUESTION_THREADS", "1")
    assert config.question_threads() == 1 and config.threads() == 3
    monkeypatch.setenv("QA_QUESTION_THREADS", "none")  # not a count: the default
    assert config.question_threads() == 3
