from __future__ import annotations

from pathlib import Path

import pytest

from disks import small_disk  # noqa: F401  (a fixture)
from fakes import FakeEncoder

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
SEED = ROOT / "seeds" / "000_ad6409121addf6a1.txt"
BBC = SHARED / "bench" / "bbc" / "articles.jsonl"


def bbc_documents(first: int | None = None, ids: set[str] | None = None) -> list:
    """BBC articles of the shared benchmark data as documents: the ``first`` ones, or those
    with ``ids`` (the test is skipped where the data is missing)."""
    import json
    from itertools import islice

    from qa.types import Document

    if not BBC.is_file():
        pytest.skip(f"no BBC articles at {BBC}")
    with open(BBC, encoding="utf-8") as fh:
        rows = [json.loads(line) for line in islice(fh, first)]
    return [Document(id=r["id"], text=r["text"], title=r["title"]) for r in rows
            if ids is None or r["id"] in ids]


def load_app(name: str):
    """``app.py`` as a fresh module named ``name`` (the chat's handlers, called as Gradio calls
    them)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, ROOT / "app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def _rerank_only_with_the_real_model(request, monkeypatch):
    """The cross-encoder re-ranker (qa/encoders/crossencoder.py) is a real model: tests with a
    fake encoder rank without it; `slow` and `browser` tests run the product as shipped."""
    if not any(request.node.get_closest_marker(m) for m in ("slow", "browser", "stress")):
        monkeypatch.setenv("QA_RERANK", "0")


@pytest.fixture
def fake_encoder():
    return FakeEncoder()


@pytest.fixture
def isolated_home(tmp_path, monkeypatch):
    """A project home with its own seeds/ and index/, and the default index forgotten."""
    import qa.default

    (tmp_path / "seeds").mkdir()
    monkeypatch.setenv("QA_HOME", str(tmp_path))
    monkeypatch.delenv("QA_SEEDS", raising=False)
    monkeypatch.delenv("QA_INDEX", raising=False)
    qa.default.reset()
    yield tmp_path
    qa.default.reset()


@pytest.fixture
def fake_model(monkeypatch):
    """Make the configured model (QA_MODEL) a FakeEncoder, for code that loads it by name."""
    import qa.encoders

    enc = FakeEncoder()
    monkeypatch.setenv("QA_MODEL", enc.name)
    monkeypatch.setitem(qa.encoders.loaded, enc.name, enc)
    return enc
