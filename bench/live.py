"""The live archive, measured: several writer processes committing to one index, and a reader
(as the chat is) answering questions while they do.

    PYTHONPATH=. HF_HUB_OFFLINE=1 .venv/bin/python -m bench.live [--articles 300]

Real model (the default ONNX int8 encoder), BBC articles. Prints:
- commits per second with 4 writer processes, each committing one new article at a time;
- a reader's question latency (p50/p95) with no writer and while a writer commits, same run,
  the same questions, alternating;
- time from a commit (the writer's save returned) to the first answer that uses it, with the
  reader asking back to back;
- the reader's resident memory across 100 commits that each replace one article.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.data import bbc

ROOT = Path(__file__).resolve().parent.parent


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def writer(index_dir: str, start: int, count: int, go: str, pause: float, mode: str) -> int:
    """A writer process: waits for ``go`` to exist, then commits ``count`` times, one article a
    commit: ``new`` BBC articles (from ``start`` among those not indexed), ``tiny`` one-sentence
    articles (the commit alone, next to no embedding), or ``same``: one article replaced each
    time (the index keeps its size). Prints one JSON line per commit (id, time it returned)."""
    from qa import Document, Index

    index = Index.open(index_dir)
    if mode == "new":
        base = {d.id for d in index.documents}
        docs = [d for d in bbc().documents if d.id not in base][start:start + count]
    elif mode == "tiny":
        docs = [Document(id=f"tiny-{start + n}", text=f"Wire item {start + n} arrived.")
                for n in range(count)]
    else:
        doc = index.documents[0]
        docs = [Document(id=doc.id, title=doc.title, text=f"{doc.text} Update {n}.")
                for n in range(count)]
    index.encoder.encode(["warm up"])
    print(json.dumps({"ready": True}), flush=True)
    while not Path(go).exists():
        time.sleep(0.005)
    for doc in docs:
        index.add([doc])
        index.save()
        print(json.dumps({"id": doc.id, "t": time.time()}), flush=True)
        time.sleep(pause)
    return 0


def spawn(index_dir: Path, start: int, count: int, go: Path, pause: float = 0.0,
          mode: str = "new"):
    proc = subprocess.Popen([sys.executable, "-m", "bench.live", "writer", str(index_dir),
                             str(start), str(count), str(go), str(pause), mode], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)
    assert json.loads(proc.stdout.readline()).get("ready")
    return proc


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--articles", type=int, default=300)
    p.add_argument("--commits", type=int, default=100)
    args = p.parse_args()
    from qa import Index, store

    corpus = bbc()
    asked = {q.doc_id for q in corpus.questions}
    docs = [d for d in corpus.documents if d.id in asked]
    docs += [d for d in corpus.documents if d.id not in asked][:max(0, args.articles - len(docs))]
    base = {d.id for d in docs}
    questions = [q.text for q in corpus.questions]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "index"
        t0 = time.perf_counter()
        Index.build(docs, path)
        print(f"base index: {len(docs)} articles, built in {time.perf_counter() - t0:.1f} s")

        # 1. four writers at once
        for mode, what in (("tiny", "a one-sentence article"), ("new", "a BBC article")):
            go = Path(tmp) / f"go-1-{mode}"
            held = len(Index.open(path).documents)
            procs = [spawn(path, 200 + 15 * w, 15, go, mode=mode) for w in range(4)]
            t0 = time.time()
            go.touch()
            ends = []
            for proc in procs:
                lines = [json.loads(x) for x in proc.stdout]
                proc.wait()
                ends.append(max(x["t"] for x in lines))
            wall = max(ends) - t0
            now = len(Index.open(path).documents)
            print(f"4 writers, 60 commits of {what} each: {wall:.2f} s, {60 / wall:.1f} "
                  f"commits/s; index holds {now} articles (expected {held + 60})")

        # 2. question latency, no writer vs a writer committing, alternating
        reader = Index.open(path)
        reader.search("warm up", k=1)
        quiet, busy, follows = [], [], 0
        for rnd in range(2):
            for q in questions:
                t = time.perf_counter()
                reader.ask(q, k=5)
                quiet.append(time.perf_counter() - t)
            go = Path(tmp) / f"go-2-{rnd}"
            proc = spawn(path, 400 + 100 * rnd, 100, go, pause=0.2)
            go.touch()
            gen = reader.state.base.generation
            for q in questions:
                t = time.perf_counter()
                reader.ask(q, k=5)
                busy.append(time.perf_counter() - t)
                follows += reader.state.base.generation != gen
                gen = reader.state.base.generation
            proc.kill()
            proc.wait()
        print(f"question latency, no writer: p50 {pct(quiet, 50) * 1000:.1f} ms, p95 "
              f"{pct(quiet, 95) * 1000:.1f} ms ({len(quiet)} questions)")
        print(f"question latency, a writer committing (one article every ~0.2 s + embedding): "
              f"p50 {pct(busy, 50) * 1000:.1f} ms, p95 {pct(busy, 95) * 1000:.1f} ms "
              f"({len(busy)} questions, {follows} of them switched to a newer commit)")

        # 3. commit -> first answer that uses it
        delays = []
        go = Path(tmp) / "go-3"
        proc = spawn(path, 700, 10, go, pause=1.0)
        go.touch()
        by_id = {d.id: d for d in corpus.documents}
        for line in proc.stdout:
            rec = json.loads(line)
            doc = by_id[rec["id"]]
            probe = doc.title or doc.text[:120]
            while True:
                hits = reader.search(probe, k=3, doc_ids=[doc.id])
                if hits:
                    delays.append(time.time() - rec["t"])
                    break
        proc.wait()
        print(f"commit -> first answer using it (reader asking back to back): median "
              f"{statistics.median(delays) * 1000:.0f} ms, max {max(delays) * 1000:.0f} ms "
              f"({len(delays)} commits)")

        # 4. the reader's memory across commits (one article replaced: the index keeps its size)
        go = Path(tmp) / "go-4"
        proc = spawn(path, 0, args.commits, go, mode="same")
        marks = {}
        go.touch()
        for n, line in enumerate(proc.stdout, 1):
            t_end = time.monotonic() + 5
            while reader.state.base.generation != store.current_generation(path) and \
                    time.monotonic() < t_end:  # follow each commit before the next
                reader.search(questions[n % len(questions)], k=3)
            if n in (1, 10, args.commits // 2, args.commits):
                marks[n] = rss_mb()
        proc.wait()
        print("reader RSS after N commits: " + ", ".join(f"{n}: {mb:.0f} MB"
                                                       for n, mb in marks.items())
              + f"; {len(reader.documents)} articles, {len(reader)} sentences")
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "writer":
        sys.exit(writer(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5],
                        float(sys.argv[6]), sys.argv[7]))
    sys.exit(main())
