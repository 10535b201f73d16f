"""Nothing in an index folder is ever unpickled, imported or executed; the code has no way to."""
from __future__ import annotations

import json
import pickle
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from fakes import FakeEncoder
from qa import Document, Index, IndexFileError

QA = Path(__file__).resolve().parent.parent / "qa"


class _Payload:
    """Unpickling this creates the marker file: proof that something was unpickled."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.write_text, (self.marker, "unpickled"))


def _plant(folder: Path, marker: Path) -> None:
    """Every kind of file a careless loader might pick up, each of which would create the
    marker if it were unpickled, imported or executed."""
    code = f"open({str(marker)!r}, 'w').write('executed')\n"
    blob = pickle.dumps(_Payload(marker))
    for where in (folder, *folder.glob("g[0-9]*")):
        for name in ("index.pkl", "vectors.pkl", "documents.pkl", "state.pickle", "model.bin",
                     "pytorch_model.bin", "optimizer.pt", "docs.joblib"):
            (where / name).write_bytes(blob)
        np.save(where / "vectors.npy", np.array([_Payload(marker)], dtype=object), allow_pickle=True)
        for name in ("__init__.py", "sitecustomize.py", "usercustomize.py", "conftest.py",
                     "setup.py", "app.py", "qa.py"):
            (where / name).write_text(code)
        (where / "evil.pth").write_text(f"import os; {code}")


def test_planted_pickles_and_code_in_the_index_folder_are_ignored(tmp_path, monkeypatch, capsys):
    from qa.cli import main

    control = tmp_path / "control"
    pickle.loads(pickle.dumps(_Payload(control)))
    assert control.exists()  # the payload works: unpickling it leaves a mark
    marker = tmp_path / "marker"
    path = tmp_path / "index"
    Index.build([Document(id="a1", text="The harbour reopened on Monday. Ferries sailed.")], path,
                encoder=FakeEncoder())
    manifest = json.loads((path / "manifest.json").read_text())
    manifest.update(loader="pickle", vectors="index.pkl", module="sitecustomize",
                    load_with="numpy.load", allow_pickle=True)
    (path / "manifest.json").write_text(json.dumps(manifest))
    _plant(path, marker)
    monkeypatch.syspath_prepend(str(path))  # even on the import path, nothing is imported from it
    before = set(sys.modules)

    index = Index.open(path, encoder=FakeEncoder())
    assert index.search("When did the harbour reopen?", k=1)[0].doc_id == "a1"
    index.add([Document(id="a2", text="The council passed the budget.")])
    index.save()
    Index.open(path, encoder=FakeEncoder()).search("budget")
    monkeypatch.setenv("QA_MODEL", "fake-bag-of-words")
    from qa import encoders

    monkeypatch.setitem(encoders.loaded, "fake-bag-of-words", FakeEncoder())
    assert main(["info", "--index", str(path)]) == 0
    assert main(["ask", "harbour", "--index", str(path)]) == 0
    capsys.readouterr()

    assert not marker.exists()
    assert not {"sitecustomize", "usercustomize", "app", "setup"} & (set(sys.modules) - before)


def test_the_model_named_in_a_manifest_is_never_loaded(tmp_path, monkeypatch):
    """An index cannot choose the model: a manifest naming another one is refused before any
    model is loaded."""
    from qa import encoders

    path = tmp_path / "index"
    Index.build([Document(id="a1", text="The harbour reopened.")], path, encoder=FakeEncoder())
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["model"] = str(tmp_path / "evil-model")
    (path / "manifest.json").write_text(json.dumps(manifest))
    loaded = []
    monkeypatch.setattr(encoders, "load_encoder", lambda name=None: loaded.append(name))
    monkeypatch.delenv("QA_MODEL", raising=False)
    with pytest.raises(IndexFileError, match="was built with model"):
        Index.open(path)
    assert loaded == []


FORBIDDEN = {
    r"\bimport pickle\b|\bpickle\.": "pickle",
    r"\bcPickle\b|\bdill\b|\bjoblib\b|\bshelve\b|\bmarshal\b|\bcloudpickle\b": "a pickle-like loader",
    r"allow_pickle\s*=\s*True": "np.load with pickles",
    r"\bnp\.load\(|\bnumpy\.load\(": "np.load (use FAISS or JSON)",
    r"\btorch\.load\(": "torch.load",
    r"\byaml\.(unsafe_)?load\(": "yaml.load",
    r"(?<![\w.])(eval|exec)\(": "eval/exec",
    r"__import__\(": "__import__",
    r"trust_remote_code\s*=\s*True": "remote model code",
}


def test_the_code_has_no_way_to_unpickle_or_execute_files():
    """A grep over qa/: none of the calls that run code from data. (cli.py imports the
    project's own app.py for `qa serve`; that is the only dynamic import, and it is not in an
    index folder.)"""
    found = []
    for f in sorted(QA.rglob("*.py")):
        for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            for pattern, what in FORBIDDEN.items():
                if re.search(pattern, code):
                    found.append(f"{f.relative_to(QA.parent)}:{n}: {what}: {line.strip()}")
            if "importlib" in code and f.name != "cli.py":
                found.append(f"{f.relative_to(QA.parent)}:{n}: dynamic import: {line.strip()}")
    assert found == []


def test_the_grep_would_see_a_pickle_load():
    """The patterns above match the calls they are meant to catch."""
    samples = ["import pickle", "obj = pickle.loads(data)", "np.load(f, allow_pickle=True)",
               "x = numpy.load(p)", "torch.load(p)", "yaml.load(s)", "eval(text)", "exec(code)",
               "joblib.load(p)", "__import__(name)", "AutoModel(trust_remote_code=True)"]
    for sample in samples:
        assert any(re.search(p, sample) for p in FORBIDDEN), sample
    for innocent in ["spec.loader.exec_module(module)", "evaluate(x)", "self.executor"]:
        assert not any(re.search(p, innocent) for p in FORBIDDEN), innocent
