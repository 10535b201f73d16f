"""Faults: a process killed anywhere in ingest or save, a full disk, a reader during a writer's
swap (several writers at once: tests/test_live_archive.py). Afterwards the index opens and holds
exactly the old or the new state.

The kills run ``tests/fault_child.py`` (FakeEncoder, so a step takes a fraction of a second) and
SIGKILL it; ``QA_FAULT_KILLS`` sets how many random kills the stress test makes (default 60).
"""
from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from disks import fill
from fakes import FakeEncoder
from fault_child import state_docs
from qa import Index, IndexFileError
from qa.storage import folder as store
from qa.index import content_hash
from qa.ingest.splitter import split_document

CHILD = Path(__file__).resolve().parent / "fault_child.py"
ROOT = CHILD.parent.parent


def _child(path: Path, *args: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(CHILD.parent)]))
    return subprocess.Popen([sys.executable, str(CHILD), str(path), *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _expected(step: int) -> dict[str, tuple[str, str, list[str]]]:
    """id -> (hash, text, sentences) of state ``step``."""
    out = {}
    for doc in state_docs(step):
        spans, _ = split_document(doc.text)
        out[doc.id] = (content_hash(doc), doc.text, [doc.text[s.start:s.end] for s in spans])
    return out


def state_on_disk(path: Path) -> int:
    """The state the index at ``path`` holds (0: none saved yet), after checking that it is
    exactly that state: ids, hashes, texts, sentences and every vector. (Read twice, through
    ``Index.open`` and ``store.load``; each read is checked against the state it names, since a
    writer may save between them.)"""
    if not (path / store.MANIFEST).exists():
        return 0
    index = Index.open(path, encoder=FakeEncoder())  # raises on anything corrupt or mixed
    step = index.extra["step"]
    want = _expected(step)
    assert {d.id: d.text for d in index.documents} == {k: v[1] for k, v in want.items()}
    assert len(index) == sum(len(v[2]) for v in want.values())
    snap = store.load(path)
    want = _expected(snap.extra["step"])
    assert {d.document.id: d.hash for d in snap.docs} == {k: v[0] for k, v in want.items()}
    encoder, row = FakeEncoder(), 0
    for d in snap.docs:
        sentences = [d.document.text[s.start:s.end] for s in d.spans]
        assert sentences == want[d.document.id][2]
        np.testing.assert_allclose(snap.vectors[row:row + len(sentences)],
                                   encoder.encode(sentences), atol=1e-6)
        row += len(sentences)
    assert row == len(snap.vectors)
    return step


def _clean(path: Path) -> None:
    """Only the manifest, the lock file and the current generation are left."""
    gen = json.loads((path / store.MANIFEST).read_text())["generation"]
    assert sorted(p.name for p in path.iterdir()) == sorted([store.MANIFEST, store.LOCK, gen])


class _Lines(threading.Thread):
    def __init__(self, stream):
        super().__init__(daemon=True)
        self.stream, self.lines = stream, []

    def run(self):
        for line in self.stream:
            self.lines.append(line.split())

    def wait_for(self, word: str, proc: subprocess.Popen, timeout: float = 120) -> None:
        end = time.monotonic() + timeout
        while not any(line[0] == word for line in list(self.lines) if line):
            if proc.poll() is not None or time.monotonic() > end:
                raise AssertionError(f"child never said {word!r}: {proc.stderr.read()[-2000:]}")
            time.sleep(0.005)


def kill_randomly(path: Path, kills: int, seed: int) -> Counter:
    """SIGKILL the child ``kills`` times at random moments; after each, the index must hold the
    last state the child reported saved, or the one it was saving. Returns outcome counts."""
    rng = random.Random(seed)
    outcomes: Counter = Counter()
    saved = 0
    for _ in range(kills):
        proc = _child(path)
        out = _Lines(proc.stdout)
        out.start()
        out.wait_for("ready", proc)
        if rng.random() < 0.5:  # any moment: mostly lands in ingest, the longer phase
            time.sleep(rng.uniform(0, 0.6))
        else:  # aim at the save: a moment within its first few milliseconds
            out.wait_for("save", proc)
            time.sleep(rng.uniform(0, 0.02))
        proc.kill()
        assert proc.wait(timeout=60) == -9, proc.stderr.read()[-2000:]
        out.join(timeout=10)
        phase = out.lines[-1][0] if out.lines else "ready"
        reported = [int(line[1]) for line in out.lines if line and line[0] == "saved"]
        saved = max([saved, *reported])
        step = state_on_disk(path)
        assert step in (saved, saved + 1), f"state {step} after saving {saved}"
        outcomes[(phase, "new" if step > saved else "old")] += 1
        saved = step
    outcomes[("final", "steps saved")] = saved
    return outcomes


@pytest.mark.slow
def test_killed_at_every_file_system_step_of_a_save(tmp_path):
    """Deterministic: SIGKILL at each write, fsync, rename and delete of a save in turn (a write
    is torn in half first). Every time: the old state or the new one, and the next save cleans
    up what the dead one left."""
    path = tmp_path / "index"
    assert _child(path, "--steps", "1").wait(timeout=120) == 0
    assert state_on_disk(path) == 1
    seen, n = Counter(), 0
    while True:
        proc = _child(path, "--steps", "1", "--crash-at", str(n))
        out, err = proc.communicate(timeout=120)
        if proc.returncode == 0:
            break
        assert proc.returncode == -9, err[-2000:]
        crashed = [line for line in out.splitlines() if line.startswith("crash")][0]
        step = state_on_disk(path)
        prior = int(out.split()[1])  # "ready K"
        assert step in (prior, prior + 1)
        seen[(crashed.split()[1], "new" if step > prior else "old")] += 1
        n += 1
    print(f"\n{n} crash points: " + ", ".join(f"{a} {b}: {c}" for (a, b), c in sorted(seen.items())))
    assert n >= 8, f"only {n} crash points: is the child still crashing inside save?"
    assert {k[1] for k in seen} == {"old", "new"}  # some points before the swap, some after
    state_on_disk(path)
    _clean(path)


@pytest.mark.slow
def test_killed_at_random_moments_a_few_times(tmp_path):
    outcomes = kill_randomly(tmp_path / "index", kills=12, seed=1)
    assert state_on_disk(tmp_path / "index") == outcomes[("final", "steps saved")]


@pytest.mark.stress
def test_killed_at_random_moments_many_times(tmp_path):
    kills = int(os.environ.get("QA_FAULT_KILLS", "60"))
    path = tmp_path / "index"
    outcomes = kill_randomly(path, kills=kills, seed=int(os.environ.get("QA_FAULT_SEED", "7")))
    print(f"\n{kills} kills: " + ", ".join(f"{a} {b}: {n}" for (a, b), n in sorted(outcomes.items())))
    phases = Counter(a for (a, _), n in outcomes.items() for _ in range(n) if a != "final")
    assert phases["ingest"] and phases["save"], "kills did not land in both ingest and save"
    assert _child(path, "--steps", "1").wait(timeout=120) == 0
    state_on_disk(path)
    _clean(path)


# ---- a full disk ---------------------------------------------------------------------------

@pytest.mark.parametrize("fails_at", ["documents", "vectors", "manifest"])
def test_full_disk_during_save_keeps_the_old_index(tmp_path, small_disk, fails_at):
    old = state_docs(1)
    new = [replace(d, id=f"{d.id}-{k}") for k in (2, 3) for d in state_docs(k)]
    path = small_disk / "index"
    Index.build(old, path, encoder=FakeEncoder())
    page = os.statvfs(small_disk).f_frsize
    # How much room each file of the new save takes, measured by saving it elsewhere.
    probe = Index.build(new, tmp_path / "probe", encoder=FakeEncoder())
    gen = tmp_path / "probe" / json.loads((tmp_path / "probe" / store.MANIFEST).read_text())["generation"]
    pages = [-(-(gen / name).stat().st_size // page) * page for name in store.FILES]
    leave = {"documents": pages[0] // 2, "vectors": pages[0] + pages[1] // 2,
             "manifest": pages[0] + pages[1]}[fails_at]
    filler = fill(small_disk, leave)
    index = Index.open(path, encoder=FakeEncoder())
    index.add(probe.documents)
    with pytest.raises(IndexFileError) as err:
        index.save()
    assert "could not save" in str(err.value) and "No space left" in str(err.value)
    assert "Free some disk space" in str(err.value) and "untouched" in str(err.value)
    reopened = Index.open(path, encoder=FakeEncoder())
    assert {d.id: d.text for d in reopened.documents} == {d.id: d.text for d in old}
    _clean(path)  # the failed save left nothing behind
    filler.unlink()
    index.save()  # with room again, the same save works
    assert len(Index.open(path, encoder=FakeEncoder()).documents) == len(index.documents)
    _clean(path)


def test_full_disk_in_the_cli_is_one_line(tmp_path, small_disk, monkeypatch, capsys):
    from qa import encoders
    from qa.cli import main

    monkeypatch.setenv("QA_MODEL", "fake-bag-of-words")
    monkeypatch.setitem(encoders.loaded, "fake-bag-of-words", FakeEncoder())
    article = tmp_path / "a.jsonl"
    article.write_text("\n".join(json.dumps({"id": d.id, "text": d.text}) for d in state_docs(4)))
    fill(small_disk, 0)
    assert main(["ingest", "--index", str(small_disk / "index"), str(article)]) == 2
    last = capsys.readouterr().err.replace("\r", "\n").rstrip("\n").split("\n")[-1]
    assert last.startswith("qa: error: could not save")  # one line, after the progress bar


def test_a_read_only_disk_still_answers_and_says_why_it_cannot_save(small_disk):
    path = small_disk / "index"
    Index.build(state_docs(1), path, encoder=FakeEncoder())
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    index = Index.open(path, encoder=FakeEncoder())
    assert index.search("harbour council", k=1)
    index.add(state_docs(2)[:1])
    with pytest.raises(IndexFileError, match="could not save .* Read-only file system"):
        index.save()
    assert {d.id for d in Index.open(path, encoder=FakeEncoder()).documents} == \
        {d.id for d in state_docs(1)}  # the index on disk is readable and unchanged


def test_a_lock_file_that_cannot_be_opened_is_a_save_error(tmp_path):
    path = tmp_path / "index"
    index = Index.build(state_docs(1), path, encoder=FakeEncoder())
    (path / store.LOCK).unlink()
    (path / store.LOCK).mkdir()
    with pytest.raises(IndexFileError, match="could not save"):
        index.save()


# ---- two writers, and a reader during a swap ------------------------------------------------

def test_a_reader_reads_the_new_generation_when_a_writer_swaps_under_it(tmp_path, monkeypatch):
    path = tmp_path / "index"
    first = Index.build(state_docs(1), path, encoder=FakeEncoder())
    first.extra["step"] = 1
    first.save()
    writer = Index.open(path, encoder=FakeEncoder())
    writer.remove([d.id for d in writer.documents])
    writer.add(state_docs(2))
    writer.extra["step"] = 2
    real = store.read_manifest
    calls = []

    def read_then_writer_saves(p):
        manifest = real(p)
        calls.append(manifest["generation"])
        if len(calls) == 1:  # the reader has the manifest; the writer swaps generations now
            writer.save()
        return manifest

    monkeypatch.setattr(store, "read_manifest", read_then_writer_saves)
    assert state_on_disk(path) == 2
    assert calls[0] != calls[-1]  # (the writer's save read it in between)


def test_a_reader_gives_up_with_a_clear_error_when_swapped_twice(tmp_path, monkeypatch):
    path = tmp_path / "index"
    Index.build(state_docs(1), path, encoder=FakeEncoder())
    writer = Index.open(path, encoder=FakeEncoder())
    real = store.read_manifest
    saving = []

    def every_read_then_a_save(p):
        manifest = real(p)
        if not saving:  # the writer's own save reads the manifest too
            saving.append(1)
            writer.extra["n"] = writer.extra.get("n", 0) + 1
            writer.save()
            saving.clear()
        return manifest

    monkeypatch.setattr(store, "read_manifest", every_read_then_a_save)
    with pytest.raises(IndexFileError, match="changed 3 times while being opened; try again"):
        store.load(path)
