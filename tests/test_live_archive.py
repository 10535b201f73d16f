"""A live archive: several writers on one index, readers that follow their commits, changes that
fail without changing anything, long ingests that commit as they go, and the drop folder.

Writers here are real processes (``tests/ingest_child.py``: the ``qa`` command with the fake
encoder), so the locks, files and kills are real.
"""
from __future__ import annotations

import json
import logging
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import load_app
from disks import fill
from fakes import FakeEncoder
from qa import Document, Index, IndexFileError
from qa.storage import folder as store
from qa.index import content_hash

CHILD = Path(__file__).resolve().parent / "ingest_child.py"
ROOT = CHILD.parent.parent
WORDS = ("harbour council budget ferry mayor storm river school rail bridge minister court "
         "election hospital market police museum airport strike harvest").split()


def articles(prefix: str, n: int, version: int = 0) -> list[Document]:
    docs = []
    for i in range(n):
        rng = random.Random(f"{prefix}-{i}-{version}")
        text = " ".join(f"{rng.choice(WORDS).capitalize()} "
                        f"{' '.join(rng.choice(WORDS) for _ in range(8))} {prefix}{i}v{version}."
                        for _ in range(rng.randint(3, 8)))
        docs.append(Document(id=f"{prefix}-{i:03d}", text=text, title=f"{prefix} {i}"))
    return docs


def write_jsonl(path: Path, docs: list[Document]) -> Path:
    path.write_text("".join(json.dumps({"id": d.id, "text": d.text, "title": d.title}) + "\n"
                            for d in docs), encoding="utf-8")
    return path


def qa_process(*args: str, delay: float = 0.0, **kw) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(CHILD.parent)]),
               QA_FAKE_DELAY=str(delay))
    return subprocess.Popen([sys.executable, str(CHILD), *args], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


def check_index(path: Path) -> dict[str, str]:
    """Open the index both ways and check every article against its vectors; id -> text."""
    index = Index.open(path, encoder=FakeEncoder())
    snap = store.load(path)
    assert {d.document.id: d.document.text for d in snap.docs} == \
        {d.id: d.text for d in index.documents}
    encoder, row = FakeEncoder(), 0
    for d in snap.docs:
        assert d.hash == content_hash(d.document)
        sentences = [d.document.text[s.start:s.end] for s in d.spans]
        np.testing.assert_allclose(snap.vectors[row:row + len(sentences)],
                                   encoder.encode(sentences), atol=1e-6)
        row += len(sentences)
    assert row == len(snap.vectors) == len(index)
    return {d.id: d.text for d in index.documents}


# ---- several writers -------------------------------------------------------------------------

def test_four_writers_at_once_and_one_killed(tmp_path):
    """Four `qa ingest` processes add disjoint sets to one new index at once, committing every 4
    articles; one is SIGKILLed at a random moment after its first commit. The index holds every
    survivor's articles and a prefix of the killed one's, and running that ingest again
    finishes it."""
    path = tmp_path / "index"
    sets = {name: articles(name, 40) for name in ("alpha", "bravo", "charlie", "delta")}
    files = {name: write_jsonl(tmp_path / f"{name}.jsonl", docs) for name, docs in sets.items()}
    procs = {name: qa_process("ingest", "--index", str(path), "--commit-every", "4", str(f),
                              delay=0.02) for name, f in files.items()}
    victim = "alpha"
    deadline = time.monotonic() + 120
    while True:  # its first commit is visible: then any moment
        try:
            if any(d.id.startswith("alpha-") for d in Index.open(path, encoder=FakeEncoder())
                   .documents):
                break
        except IndexFileError:
            pass
        assert time.monotonic() < deadline and procs[victim].poll() is None, \
            procs[victim].communicate()[1][-2000:]
        time.sleep(0.01)
    time.sleep(random.Random().uniform(0, 0.3))
    procs[victim].kill()
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == (-9 if name == victim else 0), err[-2000:]
    held = check_index(path)
    for name in ("bravo", "charlie", "delta"):
        assert {d.id: d.text for d in sets[name]}.items() <= held.items()
    kept = [d.id for d in sets[victim] if d.id in held]
    print(f"killed after committing {len(kept)} of 40")
    assert kept == [d.id for d in sets[victim]][:len(kept)], "not a prefix of the killed ingest"
    assert len(kept) % 4 == 0 and 0 < len(kept) < 40 or len(kept) == 40
    assert len(held) == 120 + len(kept)
    again = qa_process("ingest", "--index", str(path), str(files[victim]))
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0, err[-2000:]
    assert f"{40 - len(kept)} added, 0 updated, {len(kept)} unchanged" in out
    assert len(check_index(path)) == 160


def test_the_same_article_changed_by_two_writers(tmp_path, caplog):
    """The later commit wins for that article only, and says so in the log."""
    path = tmp_path / "index"
    base = articles("doc", 6)
    Index.build(base, path, encoder=FakeEncoder())
    first = Index.open(path, encoder=FakeEncoder())
    second = Index.open(path, encoder=FakeEncoder())
    first.add([articles("doc", 1, version=1)[0]] + articles("first", 2))
    second.add([articles("doc", 1, version=2)[0]] + articles("second", 2))
    second.remove(["doc-005"])
    first.save()
    with caplog.at_level(logging.WARNING, logger="qa.index"):
        second.save()
    held = check_index(path)
    assert held["doc-000"] == articles("doc", 1, version=2)[0].text
    assert {"first-000", "first-001", "second-000", "second-001"} <= set(held)
    assert "doc-005" not in held and len(held) == 9
    assert [r.getMessage() for r in caplog.records] == [
        f"article 'doc-000' was also changed by another writer since this process read {path}; "
        "keeping this process's version"]
    assert {d.id for d in second.documents} == set(held)  # the writer holds what it committed
    first.refresh()
    assert first.documents and {d.id for d in first.documents} == set(held)


def test_a_reader_that_keeps_following_sees_a_commit_without_a_question(tmp_path):
    """The chat follows its folder every second (app.py FOLLOW_EVERY): another writer's commit
    is read while nobody asks, so the first question after it answers from it (a user sweep
    found the first question after an ingest answered from the state before)."""
    path = tmp_path / "index"
    Index.build(articles("doc", 2), path, encoder=FakeEncoder())
    reader = Index.open(path, encoder=FakeEncoder())
    stop = reader.keep_following(0.05)
    try:
        writer = Index.open(path, encoder=FakeEncoder())
        writer.add(articles("late", 1))
        writer.save()
        deadline = time.monotonic() + 30
        while "late-000" not in {d.id for d in reader.documents}:  # no question asked
            assert time.monotonic() < deadline, "the commit was not followed"
            time.sleep(0.05)
    finally:
        stop.set()


def test_an_uncommitted_change_survives_a_refresh(tmp_path):
    path = tmp_path / "index"
    Index.build(articles("doc", 3), path, encoder=FakeEncoder())
    mine = Index.open(path, encoder=FakeEncoder())
    mine.add(articles("mine", 1))
    mine.remove(["doc-000"])
    other = Index.open(path, encoder=FakeEncoder())
    other.add(articles("other", 1))
    other.save()
    assert mine.refresh() and not mine.refresh()
    assert {d.id for d in mine.documents} == {"doc-001", "doc-002", "mine-000", "other-000"}
    assert {d.id for d in Index.open(path, encoder=FakeEncoder()).documents} == \
        {"doc-000", "doc-001", "doc-002", "other-000"}  # not committed yet
    mine.save()
    assert set(check_index(path)) == {"doc-001", "doc-002", "mine-000", "other-000"}


# ---- readers follow --------------------------------------------------------------------------

def test_a_reader_answers_from_another_process_commit(tmp_path):
    """A long-lived reader (the chat, a notebook) sees a `qa ingest` of another process at its
    next question, and its own save afterwards keeps that article."""
    path = tmp_path / "index"
    Index.build(articles("doc", 3), path, encoder=FakeEncoder())
    reader = Index.open(path, encoder=FakeEncoder())
    assert reader.search("harbour", k=1)
    news = Document(id="wire-1", title="Wire", text="The zeppelin landed on the cathedral roof "
                    "at noon. Nobody was hurt.")
    proc = qa_process("ingest", "--index", str(path), str(write_jsonl(tmp_path / "w.jsonl", [news])))
    assert proc.wait(timeout=120) == 0, proc.stderr.read()
    _until(lambda: reader.search("zeppelin cathedral roof", k=1)[0].doc_id == "wire-1")
    reader.add(articles("mine", 1))
    reader.save()
    assert {"wire-1", "mine-000"} <= set(check_index(path))


def test_a_question_under_way_finishes_on_the_state_it_started_with(tmp_path, monkeypatch):
    """A refresh swaps the state whole: a question that already took the old ranker answers
    from it while the new commit is read."""
    path = tmp_path / "index"
    Index.build(articles("doc", 4), path, encoder=FakeEncoder())
    reader = Index.open(path, encoder=FakeEncoder())
    reader.search("harbour", k=1)
    old = reader.state
    other = Index.open(path, encoder=FakeEncoder())
    other.remove(["doc-000", "doc-001"])
    other.save()
    assert reader.refresh()
    assert old.docs.keys() == {f"doc-{i:03d}" for i in range(4)}  # untouched
    assert {d.id for d in reader.documents} == {"doc-002", "doc-003"}


def test_a_reader_does_not_leak_across_commits(tmp_path):
    """Following many commits keeps one state: old ones are freed (their files too)."""
    import gc
    import weakref

    path = tmp_path / "index"
    Index.build(articles("doc", 5), path, encoder=FakeEncoder())
    reader = Index.open(path, encoder=FakeEncoder())
    writer = Index.open(path, encoder=FakeEncoder())
    states = []
    for n in range(20):
        writer.add(articles(f"n{n}", 1))
        writer.save()
        _until(lambda: reader.search("harbour", k=1) and len(reader.documents) == 6 + n)
        states.append(weakref.ref(reader.state))
    gc.collect()
    assert sum(s() is not None for s in states) == 1
    assert len(reader.documents) == 25
    fds = os.listdir("/proc/self/fd") if Path("/proc/self/fd").is_dir() else []
    deleted = [os.readlink(f"/proc/self/fd/{f}") for f in fds
               if os.path.exists(f"/proc/self/fd/{f}") and "(deleted)" in
               os.readlink(f"/proc/self/fd/{f}")]
    assert not [f for f in deleted if str(path) in f]


# ---- a failed change changes nothing ---------------------------------------------------------

@pytest.fixture
def chat_on_small_disk(small_disk, tmp_path, monkeypatch, fake_model):
    """The chat's handlers over an index on a 4 MB tmpfs; uploads on the normal disk."""
    import qa.default

    home = tmp_path / "home"
    (home / "seeds").mkdir(parents=True)
    write_jsonl(home / "seeds" / "seed.jsonl", articles("seed", 3))
    monkeypatch.setenv("QA_HOME", str(home))
    monkeypatch.setenv("QA_INDEX", str(small_disk / "index"))
    monkeypatch.setenv("QA_UPLOADS", str(home / "uploads"))
    qa.default.reset()
    app = load_app("app_on_small_disk")
    app.default_index()
    yield app, small_disk, home
    qa.default.reset()


def _state(app, disk: Path, home: Path):
    index = app.default_index()
    files = sorted((p.relative_to(disk).as_posix(), p.stat().st_mtime_ns)
                   for p in (disk / "index").rglob("*"))
    uploads = sorted(p.name for p in (home / "uploads").iterdir()) \
        if (home / "uploads").exists() else []
    return ({d.id: d.text for d in index.documents}, len(index), files, uploads,
            [h.doc_id for h in index.search("zeppelin cathedral", k=3)])


@pytest.mark.parametrize("failure", ["read-only", "full"])
def test_a_failed_upload_or_removal_changes_nothing(chat_on_small_disk, tmp_path, failure):
    app, disk, home = chat_on_small_disk
    upload = tmp_path / "zeppelin.txt"
    upload.write_text("Zeppelin news\n\nThe zeppelin landed on the cathedral roof at noon. "
                      "Nobody was hurt. " * 200, encoding="utf-8")
    (home / "uploads").mkdir(exist_ok=True)
    before = _state(app, disk, home)
    if failure == "read-only":
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
    else:
        fill(disk, 0)
        before = _state(app, disk, home)  # the filler file is on the disk too
    status = app.add_articles([str(upload)])[0]
    assert status.startswith("Nothing was added: could not save the index") and \
        ("Read-only" in status if failure == "read-only" else "No space left" in status)
    assert "Free some disk space" in status
    assert _state(app, disk, home) == before
    status = app.remove_articles(["seed-000"])[0]
    assert status.startswith("Nothing was removed: could not save the index")
    assert _state(app, disk, home) == before


def test_an_upload_that_cannot_be_kept_is_one_line(small_disk, tmp_path, monkeypatch,
                                                  isolated_home, fake_model):
    """An OSError while copying the upload (uploads/ on a read-only disk) is a message, not a
    bare "Error", and nothing is added."""
    write_jsonl(isolated_home / "seeds" / "seed.jsonl", articles("seed", 2))
    monkeypatch.setenv("QA_UPLOADS", str(small_disk / "uploads"))
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    app = load_app("app_ro_uploads")
    upload = tmp_path / "a.txt"
    upload.write_text("Title\n\nThe zeppelin landed on the cathedral roof.", encoding="utf-8")
    status = app.add_articles([str(upload)])[0]
    assert "could not keep the upload" in status and "Read-only file system" in status
    assert "QA_UPLOADS" in status
    assert len(app.default_index().documents) == 2


# ---- long ingests and the drop folder --------------------------------------------------------

def test_a_long_ingest_commits_as_it_goes(tmp_path):
    from qa.ingest import archive

    path = tmp_path / "index"
    index = Index(path, encoder=FakeEncoder())
    seen = []
    real = index.save

    def save(**kw):
        real(**kw)
        seen.append(len(Index.open(path, encoder=FakeEncoder()).documents))

    index.save = save
    report = archive.ingest(index, articles("doc", 23), every=5, progress=False)
    assert seen == [5, 10, 15, 20, 23] and report.commits == 5
    assert len(report.added) == 23 and report.sentences == len(index)


def test_the_drop_folder(tmp_path):
    from qa.ingest import archive

    drop = tmp_path / "drop"
    drop.mkdir()
    write_jsonl(drop / "first.jsonl", articles("first", 2))
    index = Index(tmp_path / "index", encoder=FakeEncoder())
    stop, ready, said = threading.Event(), threading.Event(), []
    thread = threading.Thread(target=archive.watch, args=(index, drop),
                              kwargs=dict(stop=stop, say=said.append, ready=ready.set))
    thread.start()
    try:
        assert ready.wait(60)
        on_disk = lambda: {d.id for d in Index.open(tmp_path / "index",  # noqa: E731
                                                    encoder=FakeEncoder()).documents}
        assert on_disk() == {"first-000", "first-001"}
        (drop / "wire").mkdir()
        (drop / "wire" / "zep.txt").write_text("Zeppelin\n\nThe zeppelin landed on the "
                                               "cathedral roof.", encoding="utf-8")
        (drop / "bad.jsonl").write_text("{not json\n", encoding="utf-8")
        _until(lambda: "wire/zep.txt" in on_disk())
        assert index.search("zeppelin cathedral", k=1)[0].doc_id == "wire/zep.txt"
        _until(lambda: any("bad.jsonl" in line and "skipped" in line for line in said))
        (drop / "first.jsonl").unlink()
        _until(lambda: on_disk() == {"wire/zep.txt"})
        write_jsonl(drop / "second.jsonl", articles("second", 2))
        shutil.rmtree(drop / "wire")  # a folder deleted: its files' articles go
        _until(lambda: on_disk() == {"second-000", "second-001"})
    finally:
        stop.set()
        thread.join(30)
    assert not thread.is_alive()
    assert said[-1].startswith(f"stopped watching {drop.resolve()}")


def _until(condition, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "not within time"
        time.sleep(0.05)


def test_watch_stops_cleanly_on_ctrl_c(tmp_path):
    drop = tmp_path / "drop"
    drop.mkdir()
    write_jsonl(drop / "a.jsonl", articles("a", 3))
    proc = qa_process("ingest", "--watch", str(drop), "--index", str(tmp_path / "index"))
    deadline = time.monotonic() + 120
    lines = []
    while not any("Watching for changes" in line for line in lines):
        line = proc.stderr.readline()
        assert line and time.monotonic() < deadline, "".join(lines)
        lines.append(line)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "stopped watching" in err
    assert set(check_index(tmp_path / "index")) == {"a-000", "a-001", "a-002"}


# ---- embedding on a GPU ----------------------------------------------------------------------

def test_a_gpu_asked_for_where_there_is_none_is_one_line(monkeypatch):
    pytest.importorskip("torch")
    import torch

    from qa.encoders import ingest_device
    from qa.errors import ModelError

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    monkeypatch.setenv("QA_DEVICE", "cuda")
    with pytest.raises(ModelError, match="torch sees no CUDA GPU here.*--device cpu"):
        ingest_device()
    monkeypatch.setenv("QA_DEVICE", "auto")
    assert ingest_device() == "cpu"
    monkeypatch.setenv("QA_DEVICE", "tpu")
    with pytest.raises(ModelError, match="QA_DEVICE='tpu' is not a device"):
        ingest_device()


@pytest.mark.slow
def test_an_ingest_on_a_gpu_answers_with_the_cpu_encoder(tmp_path, monkeypatch):
    """With a GPU: articles embedded there, recorded as torch, found by CPU-encoded questions."""
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA GPU here")
    monkeypatch.setenv("QA_DEVICE", "cuda")
    index = Index.build(articles("doc", 5), tmp_path / "index")
    assert index.backend == "torch"
    reopened = Index.open(tmp_path / "index")
    assert reopened.search(articles("doc", 5)[3].text.split(".")[0], k=1)[0].doc_id == "doc-003"


def test_a_generation_folder_is_readable_as_the_umask_allows(tmp_path):
    """A chat under a service account reads what a reporter's ingest committed: the generation
    folder is made as any folder is (it was the owner's only, 0700, whatever the umask)."""
    import stat

    from qa.storage import writing

    path = tmp_path / "index"
    Index.build(articles("doc", 1), path, encoder=FakeEncoder())
    gen = path / store.current_generation(path)
    assert stat.S_IMODE(gen.stat().st_mode) == 0o777 & ~writing._UMASK
