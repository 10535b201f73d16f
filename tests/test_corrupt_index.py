"""Damaged, edited or mismatched index folders: a clear IndexFileError naming the fix, never a
crash and never an index that opens and answers from the wrong sentences."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from fakes import FakeEncoder
from qa import Document, Index, IndexFileError

DOCS = [
    Document(id="a1", title="Harbour", text="The harbour reopened on Monday. Ferries sailed at "
             "dawn. The mayor thanked the crews."),
    Document(id="a2", title="Budget", text="The council passed the budget. Taxes rise by two "
             "percent. Libraries keep their hours."),
]
REBUILD = "qa ingest --rebuild"


@pytest.fixture
def saved(tmp_path) -> Path:
    path = tmp_path / "index"
    Index.build(DOCS, path, encoder=FakeEncoder())
    return path


def _gen(path: Path) -> Path:
    return path / json.loads((path / "manifest.json").read_text())["generation"]


def _edit_manifest(path: Path, **changes) -> None:
    f = path / "manifest.json"
    manifest = json.loads(f.read_text())
    for key, value in changes.items():
        if value is None:
            manifest.pop(key, None)
        else:
            manifest[key] = value
    f.write_text(json.dumps(manifest))


def _refused(path: Path, *phrases: str, encoder=None) -> str:
    with pytest.raises(IndexFileError) as err:
        Index.open(path, encoder=encoder or FakeEncoder())
    message = str(err.value)
    for phrase in phrases:
        assert phrase in message
    return message


def test_an_intact_index_opens_and_answers(saved):
    index = Index.open(saved, encoder=FakeEncoder())
    hit = index.search("When did the harbour reopen?", k=1)[0]
    assert (hit.doc_id, hit.text) == ("a1", "The harbour reopened on Monday.")


@pytest.mark.parametrize("keep", [0, 10, 45, 0.5, -4])
def test_truncated_vectors_file(saved, keep):
    f = _gen(saved) / "vectors.f32"
    data = f.read_bytes()
    f.write_bytes(data[:int(len(data) * keep) if isinstance(keep, float) else keep])
    _refused(saved, "damaged", REBUILD)


def test_vectors_file_with_flipped_bytes_is_refused_not_searched(saved):
    # Same length, still reads as float32 rows: only the checksum in the manifest can tell.
    f = _gen(saved) / "vectors.f32"
    data = bytearray(f.read_bytes())
    data[-16:] = b"\x3f" * 16  # the last vector values become 0.75-ish: wrong, yet readable
    f.write_bytes(bytes(data))
    _refused(saved, "vectors.f32", "checksum", REBUILD)


def test_sentence_store_shorter_than_the_vectors(saved):
    f = _gen(saved) / "documents.jsonl"
    first = f.read_text().splitlines()[0]
    f.write_text(first + "\n")
    _refused(saved, REBUILD)


def test_sentence_store_shorter_than_the_vectors_without_checksums(saved):
    # An index written before checksums were recorded still gets the count checks.
    _edit_manifest(saved, files=None)
    f = _gen(saved) / "documents.jsonl"
    row = json.loads(f.read_text().splitlines()[0])
    row["sentences"] = 1
    f.write_text(json.dumps(row) + "\n" + f.read_text().splitlines()[1] + "\n")
    _refused(saved, "inconsistent", REBUILD)


@pytest.mark.parametrize("spans", [[[0, 500]], [[5, 5]], [[20, 30], [0, 10], [31, 40]], [[-3, 4]]])
def test_sentence_offsets_outside_the_text(saved, spans):
    import numpy as np

    _edit_manifest(saved, files=None)
    f = _gen(saved) / "spans.i64"
    offsets = np.fromfile(f, "<i8").reshape(-1, 2)
    offsets[:len(spans)] = spans
    f.write_bytes(offsets.astype("<i8").tobytes())
    _refused(saved, "damaged", REBUILD)


@pytest.mark.parametrize("changes, phrase", [
    ({"sentences": 4}, "inconsistent"),
    ({"documents": 3}, "inconsistent"),
    ({"dimension": 384}, "inconsistent"),
    ({"dimension": "256"}, "'dimension'"),
    ({"hashes": {"a1": "0" * 64, "a2": "1" * 64}}, "hashes"),
    ({"hashes": {"a1": "x"}}, "hashes"),
    ({"generation": "g999999"}, "missing"),
    ({"generation": "../../etc"}, "g000001"),
    ({"generation": None}, "'generation'"),
    ({"format": 1}, "format 1"),
    ({"format": 99}, "format 99"),
    ({"files": "yes"}, "'files'"),
    ({"files": {"vectors.f32": "0" * 64}}, "checksum"),
])
def test_edited_manifest(saved, changes, phrase):
    _edit_manifest(saved, **changes)
    _refused(saved, phrase, "qa ingest --rebuild --index")


@pytest.mark.parametrize("text", ["", "{", "[1, 2]", "null", '{"format": 1}', "\x00\xff"])
def test_manifest_that_is_not_a_manifest(saved, text):
    (saved / "manifest.json").write_text(text, encoding="latin-1")
    _refused(saved, REBUILD)


def test_another_models_index(saved):
    message = _refused(saved, "was built with model 'fake-bag-of-words'", REBUILD,
                       encoder=FakeEncoder(name="other-model"))
    assert "other-model" in message and "QA_MODEL=fake-bag-of-words" in message


def test_same_name_other_dimension(saved):
    _refused(saved, "256-dimensional", REBUILD, encoder=FakeEncoder(dim=384))


def test_missing_generation_folder(saved):
    import shutil

    shutil.rmtree(_gen(saved))
    _refused(saved, "missing", REBUILD)


@pytest.mark.parametrize("name", ["documents.jsonl", "vectors.f32"])
def test_missing_file_in_generation(saved, name):
    (_gen(saved) / name).unlink()
    _refused(saved, "missing", REBUILD)


def test_unreadable_generation_file_is_an_index_error(saved):
    f = _gen(saved) / "vectors.f32"
    f.unlink()
    f.mkdir()  # a folder where a file should be: OSError other than "not found"
    _refused(saved, REBUILD)


def test_no_index_at_all(tmp_path):
    _refused(tmp_path / "nowhere", "no index", "qa ingest --index")


def test_cli_reports_a_damaged_index_in_one_line(saved, capsys):
    from qa.cli import main

    (_gen(saved) / "vectors.f32").write_bytes(b"")
    code = main(["ask", "harbour", "--index", str(saved)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("qa: error: ") and err.count("\n") == 1 and "Traceback" not in err


def test_a_damaged_index_is_rebuilt_by_the_advised_command(saved, tmp_path, monkeypatch):
    """The fix the message names works: `qa ingest --rebuild --index PATH` replaces it."""
    from qa import encoders
    from qa.cli import main

    (_gen(saved) / "vectors.f32").write_bytes(b"junk")
    article = tmp_path / "harbour.txt"
    article.write_text("Harbour\n\n" + DOCS[0].text, encoding="utf-8")
    monkeypatch.setenv("QA_MODEL", "fake-bag-of-words")
    monkeypatch.setitem(encoders.loaded, "fake-bag-of-words", FakeEncoder())
    assert main(["ingest", "--rebuild", "--index", str(saved), str(article)]) == 0
    index = Index.open(saved, encoder=FakeEncoder())
    assert [d.id for d in index.documents] == ["harbour.txt"]


def test_a_damaged_default_index_is_kept_aside_not_overwritten(isolated_home, monkeypatch, caplog):
    """The default index is rebuilt from seeds/ when damaged; the damaged one, which may hold
    uploaded articles that seeds/ does not, is moved aside with its files, not deleted."""
    from qa import default, encoders

    monkeypatch.setenv("QA_MODEL", "fake-bag-of-words")
    monkeypatch.setitem(encoders.loaded, "fake-bag-of-words", FakeEncoder())
    (isolated_home / "seeds" / "a.txt").write_text("Harbour\n\n" + DOCS[0].text, encoding="utf-8")
    index = default.default_index()
    index.add([Document(id="upload/mine.txt", text="My own article. It matters to me.")])
    index.save()
    path = isolated_home / "index"
    damaged = _gen(path) / "vectors.f32"
    damaged.write_bytes(damaged.read_bytes()[:-8] + b"\x3f" * 8)
    default.reset()
    rebuilt = default.default_index()
    assert [d.id for d in rebuilt.documents] == ["a.txt"]
    aside = isolated_home / "index.damaged-1"
    assert "upload/mine.txt" in (_gen(aside) / "documents.jsonl").read_text()
    assert "index.damaged-1" in caplog.text and "qa ingest" in caplog.text
