"""A child process for the fault tests: moves an index from one known state to the next, forever
(or for ``--steps``), and says on stdout where it is, so a parent can SIGKILL it anywhere.

    python tests/fault_child.py INDEX_DIR [--steps N] [--crash-at N]

State ``k`` is ``state_docs(k)``: a deterministic set of articles; going from ``k`` to ``k+1``
removes some, replaces some and adds some, then saves with ``extra["step"] = k+1``.
``--crash-at N`` makes the process SIGKILL itself at the Nth file-system step of its first save
(a write is cut in half first), to walk every point of a save deterministically.
"""
from __future__ import annotations

import argparse
import os
import random
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # fakes, when run as a script

SLOTS = 16
WORDS = ("harbour council budget ferry mayor storm river school rail bridge minister court "
         "election hospital market police museum airport strike harvest").split()


def state_docs(k: int):
    """Articles of state ``k``: slot ``j`` is absent every 5th state, and its text changes every
    (j % 3 + 1) states, so each step adds, removes, replaces and keeps articles."""
    from qa import Document

    docs = []
    for j in range(SLOTS):
        if (j + k) % 5 == 0:
            continue
        version = k // (j % 3 + 1)
        rng = random.Random(f"{j}-{version}")
        sentences = []
        for n in range(rng.randint(20, 60)):
            words = [rng.choice(WORDS) for _ in range(rng.randint(5, 14))]
            sentences.append(f"{words[0].capitalize()} {' '.join(words[1:])} {j}v{version}s{n}.")
        docs.append(Document(id=f"slot{j:02d}", title=f"Slot {j} version {version}",
                             text=" ".join(sentences)))
    return docs


def _crash_after(n: int) -> None:
    """SIGKILL this process at the ``n``th file-system step of a save (0 = the first)."""
    from qa.storage import writing

    count = iter(range(10**9))

    def step(name, real):
        def wrapped(*args, **kwargs):
            if next(count) == n:
                print(f"crash {name}", flush=True)
                if name == "_write":  # a torn write: half the bytes reach the file
                    p, data = args
                    with open(p, "wb") as fh:
                        fh.write(data[:len(data) // 2])
                os.kill(os.getpid(), signal.SIGKILL)
            return real(*args, **kwargs)
        return wrapped

    for name in ("replace", "fsync", "mkdir"):
        setattr(os, name, step(name, getattr(os, name)))
    writing.write_durably = step("_write", writing.write_durably)
    writing.shutil.rmtree = step("rmtree", writing.shutil.rmtree)
    writing.tempfile.mkdtemp = step("mkdtemp", writing.tempfile.mkdtemp)


def main(argv=None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("index")
    p.add_argument("--steps", type=int, default=10**9)
    p.add_argument("--crash-at", type=int)
    p.add_argument("--from-step", type=int, help="ignore the index on disk: write states after "
                   "this one (for two writers at once)")
    args = p.parse_args(argv)

    from fakes import FakeEncoder
    from qa import Index, IndexFileError

    encoder = FakeEncoder()
    path = Path(args.index)
    if args.from_step is not None:
        index, step = Index(path, encoder=encoder), args.from_step
    else:
        try:
            index = Index.open(path, encoder=encoder)
        except IndexFileError:
            if (path / "manifest.json").exists():
                raise
            index = Index(path, encoder=encoder)
        step = index.extra.get("step", 0)
    print(f"ready {step}", flush=True)
    if args.crash_at is not None:
        _crash_after(args.crash_at)
    for _ in range(args.steps):
        step += 1
        print(f"ingest {step}", flush=True)
        new = state_docs(step)
        index.remove([d.id for d in index.documents if d.id not in {n.id for n in new}])
        index.add(new)
        index.extra["step"] = step
        print(f"save {step}", flush=True)
        index.save()
        print(f"saved {step}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
