"""Configuration: every ``QA_*`` environment variable, read when it is used (never at import, so
a test or a long-running process that sets one sees it), each with its default.

``VARIABLES`` is the list the README's "Configuration" table shows; tests/test_config.py checks
that the table, this list and the code agree.
"""
from __future__ import annotations

import os
from pathlib import Path

VARIABLES = {  # name -> what it sets (the README table says the same, with defaults)
    "QA_MODEL": "the sentence-transformers model",
    "QA_BACKEND": "the encoder backend: onnx-int8-fused, onnx-int8, onnx, torch",
    "QA_HOME": "the folder holding seeds/ and index/",
    "QA_SEEDS": "the seed articles folder",
    "QA_INDEX": "the default index: a folder, or a Milvus location (milvus+lite:///..., milvus+http://...)",
    "QA_MILVUS_TOKEN": "the token of a Milvus server (never in the URL or logs)",
    "QA_UPLOADS": "where the chat keeps uploaded articles",
    "QA_MAX_ARTICLE_MB": "the largest single article file",
    "QA_MAX_UPLOAD_MB": "the largest file the chat accepts",
    "QA_MAX_UPLOAD_SENTENCES": "the most sentences one upload may hold",
    "QA_MAX_SENTENCE_CHARS": "the longest sentence an upload may hold",
    "QA_AUTH_FILE": "a file of user:hash logins for the chat",
    "QA_ORIGINS": "extra origins whose pages may call the chat",
    "QA_COMMIT_ARTICLES": "a long ingest commits after this many articles",
    "QA_COMMIT_SECONDS": "... or this many seconds",
    "QA_RERANK": "the cross-encoder stage: 0 off, 1 on at any size, else by size",
    "QA_RERANKER": "which cross-encoder: a sentence-transformers CrossEncoder folder",
    "QA_CACHE": "where ONNX exports are cached",
    "QA_THREADS": "threads for one ONNX run of an ingest",
    "QA_QUESTION_THREADS": "threads for one question's ONNX run",
    "QA_BATCH_QUESTIONS": "the chat runs questions asked together through the models at once",
    "QA_DEVICE": "where ingests embed: cpu, cuda, auto",
    "QA_HOST": "the address the chat binds to",
    "QA_PORT": "the chat's port",
}


def _text(name: str) -> str:
    if name not in VARIABLES:  # a typo here would silently read nothing
        raise KeyError(f"{name} is not a configuration variable (qa/config.py VARIABLES)")
    return os.environ.get(name, "").strip()


def _number(name: str, default: float) -> float:
    value = _text(name)
    try:
        return float(value) if value else default
    except ValueError:
        from .errors import InputError

        raise InputError(f"{name}={value!r} is not a number; unset it or give one, e.g. "
                         f"{name}={default:g}") from None


def model() -> str | None:
    return _text("QA_MODEL") or None


def backend() -> str | None:
    return _text("QA_BACKEND").lower() or None


def device() -> str | None:
    return _text("QA_DEVICE").lower() or None


def home() -> Path | None:
    value = _text("QA_HOME")
    return Path(value) if value else None


def folder(name: str) -> Path | None:
    """``QA_SEEDS``, ``QA_INDEX`` or ``QA_UPLOADS`` when set."""
    value = _text(name)
    return Path(value) if value else None


def index_location() -> str | None:
    """``QA_INDEX`` as given when it names a Milvus engine (``milvus+...``), else None."""
    value = _text("QA_INDEX")
    return value if value.startswith("milvus+") else None


def milvus_token() -> str | None:
    """``QA_MILVUS_TOKEN``: read only when connecting, passed to pymilvus, never logged."""
    return _text("QA_MILVUS_TOKEN") or None


def max_article_bytes(default: int = 20 << 20) -> int:
    return int(_number("QA_MAX_ARTICLE_MB", default / 2**20) * 1024 * 1024)


def max_upload_mb() -> int:
    return int(_number("QA_MAX_UPLOAD_MB", 20))


def max_upload_sentences(default: int) -> int:
    return int(_number("QA_MAX_UPLOAD_SENTENCES", default))


def max_sentence_chars(default: int) -> int:
    return int(_number("QA_MAX_SENTENCE_CHARS", default))


def auth_file() -> str | None:
    return _text("QA_AUTH_FILE") or None


def origins() -> list[str]:
    return [o.strip() for o in _text("QA_ORIGINS").split(",") if o.strip()]


def commit_articles(default: int) -> int:
    return max(1, int(_number("QA_COMMIT_ARTICLES", default)))


def commit_seconds(default: float) -> float:
    return _number("QA_COMMIT_SECONDS", default)


def rerank_mode() -> str:
    """``QA_RERANK``: ``off`` (0/false/off/no), ``on`` (1/true/on/yes: at any size), else
    ``auto`` (by size: qa.tuning.RERANK_MAX)."""
    value = _text("QA_RERANK").lower()
    if value in {"0", "false", "off", "no"}:
        return "off"
    if value in {"1", "true", "on", "yes"}:
        return "on"
    return "auto"


def batch_questions() -> bool:
    """``QA_BATCH_QUESTIONS``: 1/true/on/yes makes the chat encode and re-rank the questions
    that arrive together in one model run each (qa/app/batching.py; off by default: with int8
    weights a question's scores then depend slightly on the others in its run)."""
    return _text("QA_BATCH_QUESTIONS").lower() in {"1", "true", "on", "yes"}


def reranker() -> str | None:
    """``QA_RERANKER``: a sentence-transformers CrossEncoder folder to use instead of the shipped
    one."""
    return _text("QA_RERANKER") or None


def cache_dir() -> Path:
    """``QA_CACHE``, else ``$XDG_CACHE_HOME/newsroom-qa``, else ``~/.cache/newsroom-qa``."""
    value = _text("QA_CACHE")
    if value:
        return Path(value)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "newsroom-qa"


def threads() -> int:
    """Threads for one ONNX run of an ingest (and ingest batches run side by side):
    ``QA_THREADS``, else every core this process may use."""
    return _count("QA_THREADS") or _cores()


def question_threads() -> int:
    """Threads for one ONNX run of a question (its encoding, its re-ranking):
    ``QA_QUESTION_THREADS``, else ``threads()``."""
    return _count("QA_QUESTION_THREADS") or threads()


def _count(name: str) -> int | None:
    value = _text(name)
    return int(value) if value.isdigit() and int(value) > 0 else None


def _cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def host() -> str:
    return _text("QA_HOST") or "127.0.0.1"


def port() -> int:
    return int(_number("QA_PORT", 7860))
