"""An index in Milvus (qa/storage/milvus.py, qa/milvusindex.py), against Milvus Lite: the same
front and the same hits as a folder index, filters in the engine, content-hash skips, several
processes on one archive, a writer killed mid-commit, and the token kept out of sight.

The engine tests are marked ``milvus``; they skip, saying why, only where pymilvus or
milvus-lite is not installed (`pip install -e ".[milvus]"`; scripts/setup.sh installs both)."""
from __future__ import annotations

import importlib.util
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fakes import FakeEncoder
from qa import Document, Index
from qa.errors import IndexFileError, InputError
from qa.storage.milvus import Location
from test_index import DOCS  # the same three articles as the folder index's tests

HERE = Path(__file__).resolve().parent
_MISSING = [m for m in ("pymilvus", "milvus_lite") if importlib.util.find_spec(m) is None]
needs_engine = pytest.mark.skipif(
    bool(_MISSING), reason=f"{' and '.join(_MISSING)} not installed: pip install -e \".[milvus]\"")

QUESTIONS = ["What did the envoy say about Tokyo?", "How did the yen do?", "Who scored twice?",
             "What did the coach do?"]


def lite(tmp_path, name="news.db", collection=None) -> str:
    return f"milvus+lite://{tmp_path / name}" + (f"?collection={collection}" if collection else "")


# ---- locations (no engine needed) ---------------------------------------------------------------
def test_locations_parse_with_a_default_collection(tmp_path):
    loc = Location.parse(f"milvus+lite://{tmp_path}/x.db")
    assert (loc.lite, loc.uri, loc.collection) == (True, str(tmp_path / "x.db"), "news")
    loc = Location.parse("milvus+http://milvus.internal:19530?collection=wire&index=flat")
    assert (loc.lite, loc.uri, loc.collection, loc.index_type) == \
        (False, "http://milvus.internal:19530", "wire", "FLAT")
    assert Location.parse("milvus+lite:rel.db").uri == str(Path("rel.db").resolve())


@pytest.mark.parametrize("bad, says", [
    ("milvus+http://root:sekrit@host:19530", "QA_MILVUS_TOKEN"),
    ("milvus+http://host:19530?colection=x", "colection"),
    ("milvus+http://host:19530?collection=1bad-name", "1bad-name"),
    ("milvus+ftp://host:1", "unknown index location"),
    ("milvus+http://host", "HOST:PORT"),
    ("milvus+lite:archive/news", "names no .db file"),
])
def test_a_bad_location_names_the_fix_and_never_echoes_a_secret(bad, says):
    with pytest.raises(InputError) as e:
        Location.parse(bad)
    assert says in str(e.value) and "sekrit" not in str(e.value)


# ---- the engine --------------------------------------------------------------------------------
@pytest.fixture
def built(tmp_path):
    enc = FakeEncoder()
    loc = lite(tmp_path)
    return Index.build(DOCS, path=loc, encoder=enc), Index.build(DOCS, encoder=enc), loc, enc


def _same(value):
    """A result as a dict with its floats to 5 places: an engine's inner products and a local
    product of the same float32 vectors differ in the last bits."""
    if isinstance(value, dict):
        return {k: _same(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_same(v) for v in value]
    return round(value, 5) if isinstance(value, float) else value


def _hits(index, q, **kw):
    return _same([h.to_dict() for h in index.search(q, k=3, **kw)])


@pytest.mark.milvus
@needs_engine
def test_build_open_add_remove_and_hits_identical_to_a_folder_index(built, tmp_path):
    index, folder, loc, enc = built
    assert (len(index), sorted(d.id for d in index.documents)) == (len(folder), ["a", "b", "c"])
    for q in QUESTIONS:
        assert _hits(index, q) == _hits(folder, q), q
        assert _same(index.ask(q).to_dict()) == _same(folder.ask(q).to_dict()), q
    for h in index.search("Tokyo", k=5):
        assert DOCS[[d.id for d in DOCS].index(h.doc_id)].text[h.start:h.end] == h.text
    again = Index.open(loc, encoder=enc)  # another process would see the same
    assert _hits(again, QUESTIONS[0]) == _hits(folder, QUESTIONS[0])
    new = Document(id="d", title="Weather", text="A storm hit the harbour. Ferries stopped.")
    for ix in (again, folder):
        ix.add([new, Document(id="b", title="Markets", text="The yen rose. Shares fell.")])
        ix.remove(["c"])
        ix.save() if ix is again else None
    reopened = Index.open(loc, encoder=enc)
    assert sorted(d.id for d in reopened.documents) == ["a", "b", "d"]
    assert len(reopened) == len(folder)
    for q in QUESTIONS + ["What stopped after the storm?"]:
        assert _hits(reopened, q) == _hits(folder, q), q


@pytest.mark.milvus
@needs_engine
def test_ids_with_quotes_and_backslashes_are_searched_like_any(tmp_path):
    """An article id such as "O'Neill interview.txt" (a file's name) broke every question on a
    Milvus index: pymilvus quoted the keys of get(ids=) unescaped (a user sweep)."""
    enc = FakeEncoder()
    odd = DOCS + [Document(id="O'Neill interview.txt", title="Ferry",
                           text="Mary O'Neill said the ferry sank. Forty passengers were rescued."),
                  Document(id="desk\\wire \"x\".txt", title="Wire",
                           text="The wire desk said the storm passed. Trains ran again.")]
    engine = Index.build(odd, path=lite(tmp_path), encoder=enc)
    folder = Index.build(odd, encoder=enc)
    for q in QUESTIONS + ["Who said the ferry sank?", "Did the trains run again?"]:
        assert _hits(engine, q) == _hits(folder, q), q
    assert engine.remove(["O'Neill interview.txt"]) == ["O'Neill interview.txt"]
    engine.save()
    assert "O'Neill interview.txt" not in {d.id for d in engine.documents}


@pytest.mark.milvus
@needs_engine
def test_searching_some_articles_is_a_filter_in_the_engine(built, monkeypatch):
    index, folder, _, _ = built
    engine_ = index.engine
    seen = []
    search, of_articles = engine_.search, engine_.of_articles
    monkeypatch.setattr(engine_, "search", lambda q, n, ids=None, **kw: (
        seen.append(("search", ids)), search(q, n, ids, **kw))[1])
    monkeypatch.setattr(engine_, "of_articles", lambda ids, dim: (
        seen.append(("exact", list(ids))), of_articles(ids, dim))[1])
    hits = index.search("Tokyo", k=5, doc_ids=["b", "c"])
    assert {h.doc_id for h in hits} <= {"b", "c"} and hits
    assert _same([h.to_dict() for h in hits]) == \
        _same([h.to_dict() for h in folder.search("Tokyo", k=5, doc_ids=["b", "c"])])
    assert seen and all(sorted(ids) == ["b", "c"] for _, ids in seen)  # never the whole archive
    index.row_source().store.exact_rows = 0  # past the exact limit: the engine's own search
    seen.clear()
    hits = index.search("Tokyo", k=5, doc_ids=["b"])
    assert {h.doc_id for h in hits} == {"b"} and seen[0] == ("search", ["b"])


@pytest.mark.milvus
@needs_engine
def test_unchanged_articles_are_skipped_by_content_hash(built):
    index, _, loc, enc = built
    again = Index.open(loc, encoder=enc)
    before = enc.encoded
    report = again.add(DOCS)
    assert report.added == [] and enc.encoded == before
    writes = []
    upsert = again.engine.client.upsert
    again.engine.client.upsert = lambda name, rows, **kw: (writes.append(name), upsert(name, rows, **kw))[1]
    again.add([Document(id="c", title="Football", text="The striker scored three times.")])
    again.save()
    assert enc.encoded == before + 1
    sentences = [w for w in writes if w == again.engine.sentences]
    assert len(sentences) == 1  # only article c's one new sentence was written
    texts = [h.text for h in Index.open(loc, encoder=enc).search("striker", k=5)]
    assert texts[0] == "The striker scored three times." and "The striker scored twice." \
        not in texts  # the old version's sentences were deleted


@pytest.mark.milvus
@needs_engine
def test_a_new_date_alone_is_written_without_re_embedding(built):
    index, _, loc, enc = built
    before = enc.encoded
    index.add([Document(id="c", title="Football", published="2024-05-01",
                        text=DOCS[2].text)])
    index.save()
    assert enc.encoded == before
    again = Index.open(loc, encoder=enc)
    assert next(d for d in again.documents if d.id == "c").published == "2024-05-01"
    assert again.search("Who scored twice?", k=1)[0].published == "2024-05-01"


@pytest.mark.milvus
@needs_engine
def test_a_reader_sees_a_writers_commit(built):
    index, _, loc, enc = built
    reader = Index.open(loc, encoder=enc)
    index.add([Document(id="d", title="Weather", text="A storm hit the harbour.")])
    assert "d" not in {d.id for d in reader.documents}  # not committed yet
    index.save()
    assert reader.refresh() and "d" in {d.id for d in reader.documents}
    assert reader.search("storm harbour", k=1)[0].doc_id == "d"
    assert not reader.refresh()  # nothing newer


@pytest.mark.milvus
@needs_engine
def test_another_model_names_the_fix(built):
    _, _, loc, _ = built
    with pytest.raises(IndexFileError, match="--rebuild"):
        Index.open(loc, encoder=FakeEncoder(name="another"))
    with pytest.raises(IndexFileError, match="qa ingest"):
        Index.open(loc.replace("news.db", "other.db"), encoder=FakeEncoder())


@pytest.mark.milvus
@needs_engine
def test_a_second_process_on_a_lite_db_is_told_how_to_share_it(built):
    _, _, loc, _ = built  # this process holds the .db open
    env = dict(os.environ, PYTHONPATH=str(HERE.parent), QA_MODEL="fake-bag-of-words")
    r = subprocess.run([sys.executable, "-m", "qa", "ask", "--index", loc, "Who scored?"],
                       env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "milvus-lite server --data-dir" in r.stderr and "milvus+http://" in r.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def lite_server(tmp_path):
    """``milvus-lite server`` over one data folder, one request at a time (Milvus Lite does not
    take concurrent writers): several processes share one archive through it."""
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "milvus_lite", "server", "--data-dir",
                             str(tmp_path / "server"), "--port", str(port), "--host",
                             "127.0.0.1", "--max-workers", "1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(600):  # until it listens (not a timing assertion: a guard)
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if proc.poll() is not None:
                pytest.fail("milvus-lite server did not start")
            time.sleep(0.1)
        yield f"milvus+http://127.0.0.1:{port}"
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


def _child(*args) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(HERE.parent), QA_RERANK="0")
    return subprocess.Popen([sys.executable, str(HERE / "milvus_child.py"), *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.milvus
@needs_engine
def test_two_processes_adding_different_articles_both_keep_theirs(lite_server):
    Index.build(DOCS, path=lite_server, encoder=FakeEncoder())
    children = [_child("add", lite_server, p, "4") for p in ("left", "right")]
    for c in children:
        out, err = c.communicate(timeout=600)
        assert c.returncode == 0, err[-2000:]
    index = Index.open(lite_server, encoder=FakeEncoder())
    ids = {d.id for d in index.documents}
    assert ids == {"a", "b", "c"} | {f"{p}{i}" for p in ("left", "right") for i in range(4)}
    assert index.search("story right number 2", k=1)[0].doc_id == "right2"


@pytest.mark.milvus
@needs_engine
def test_a_writer_killed_mid_commit_leaves_a_consistent_archive(tmp_path):
    loc = lite(tmp_path)
    child = _child("crash", loc)
    line = child.stdout.readline()
    assert line.strip() == "mid", child.stderr.read()[-2000:]
    child.send_signal(signal.SIGKILL)  # its second commit's sentences are in, its articles not
    child.wait()
    enc = FakeEncoder()
    index = Index.open(loc, encoder=enc)  # the .db is free again: its lock died with it
    assert sorted(d.id for d in index.documents) == ["first0", "first1", "first2"]
    first0 = next(d for d in index.documents if d.id == "first0")
    assert "changed" not in first0.text  # the old version, whole
    for h in index.search("changed first story second", k=10):  # orphans never answer
        assert h.doc_id.startswith("first") and h.text in first0.text + " " + " ".join(
            d.text for d in index.documents)
    assert len(index) == sum(index.sentence_count(d.id) for d in index.documents)
    sys.path.insert(0, str(HERE))
    from milvus_child import docs

    index.add(docs("second", 3))  # the next writer completes what was cut
    index.save()
    again = Index.open(loc, encoder=enc)
    assert {d.id for d in again.documents} == {"first0", "first1", "first2", "second0",
                                               "second1", "second2"}
    assert again.search("story second number 1", k=1)[0].doc_id == "second1"


@pytest.mark.milvus
@needs_engine
def test_the_token_never_appears_in_logs_or_the_location(lite_server, monkeypatch, caplog):
    monkeypatch.setenv("QA_MILVUS_TOKEN", "sekrit-token-42")
    caplog.set_level(logging.DEBUG)
    index = Index.build(DOCS, path=lite_server, encoder=FakeEncoder())
    index.add([Document(id="d", title="Weather", text="A storm hit the harbour.")])
    index.save()
    Index.open(lite_server, encoder=FakeEncoder()).search("storm", k=1)
    shown = " ".join([caplog.text, index.path, str(index.location), repr(index.location)])
    assert "sekrit" not in shown
    assert index.engine.client is not None  # the token was used to connect, not shown


@pytest.mark.milvus
@needs_engine
def test_the_cli_ingests_and_asks_a_milvus_index(tmp_path, fake_model, capsys):
    from qa.cli import main

    for d in DOCS:
        (tmp_path / f"{d.id}.txt").write_text(f"{d.title}\n\n{d.text}\n", encoding="utf-8")
    loc = lite(tmp_path, collection="wire")
    assert main(["ingest", "--index", loc] + [str(tmp_path / f"{d.id}.txt") for d in DOCS]) == 0
    assert main(["ingest", "--index", loc, str(tmp_path / "a.txt")]) == 0  # unchanged: skipped
    assert main(["ask", "--index", loc, "Who scored twice?"]) == 0
    out = capsys.readouterr().out
    assert "The striker scored twice." in out


@pytest.mark.milvus
@needs_engine
def test_qa_index_may_name_milvus_for_the_chat(isolated_home, fake_model, monkeypatch):
    import qa.default
    import qa.encoders

    (isolated_home / "seeds" / "a.txt").write_text(f"{DOCS[0].title}\n\n{DOCS[0].text}\n",
                                                   encoding="utf-8")
    monkeypatch.setenv("QA_INDEX", lite(isolated_home))
    index = qa.default.default_index()
    assert index.path == lite(isolated_home) and [d.title for d in index.documents] == \
        [DOCS[0].title]
    assert not (isolated_home / "index").exists()  # nothing local: the engine holds it
    encoder = qa.encoders.loaded[fake_model_name()]
    before = encoder.encoded
    qa.default.reset()
    again = qa.default.default_index()  # the seeds are unchanged: nothing is embedded again
    assert encoder.encoded == before and len(again) == len(index)
    assert again.search("What did the envoy say?", k=1)[0].doc_id == index.documents[0].id


@pytest.mark.milvus
@needs_engine
def test_the_chats_uploads_and_removals_go_to_milvus(isolated_home, fake_model, monkeypatch,
                                                    tmp_path):
    import qa.default
    from qa.app.uploads import add_files, remove, uploads_dir

    monkeypatch.setenv("QA_INDEX", lite(isolated_home))
    index = qa.default.default_index()
    src = tmp_path / "tariffs.txt"
    src.write_text("Tariff talks\n\nThe minister raised steel tariffs sharply.", encoding="utf-8")
    report = add_files(index, [(src, "tariffs.txt")])
    assert report.added == ["upload/tariffs.txt"] and not report.errors
    assert index.search("steel tariffs minister", k=1)[0].doc_id == "upload/tariffs.txt"
    qa.default.reset()  # a restart reads the archive from the engine
    again = qa.default.default_index()
    assert "upload/tariffs.txt" in {d.id for d in again.documents}
    assert remove(again, ["upload/tariffs.txt"]) == ["upload/tariffs.txt"]
    assert list(uploads_dir().iterdir()) == []
    qa.default.reset()
    assert "upload/tariffs.txt" not in {d.id for d in qa.default.default_index().documents}


def fake_model_name() -> str:
    return FakeEncoder().name
