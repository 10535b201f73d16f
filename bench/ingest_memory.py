"""Memory of a whole-archive `qa ingest` as the archive grows (issue 17, "Whole archives").

Writes a JSONL archive of about N sentences (the BBC articles, repeated as variant copies tagged
"[variant v]", the way bench/speed_scale.py makes its million-sentence corpus), then runs the real
`qa ingest --index DIR FILE` in a child process and reads the child's peak RSS (VmHWM via
``wait4``). Embedding a million sentences takes hours here, so the child's encoder is a stand-in
that costs nothing (384-dimensional unit vectors from a hash of each sentence): what is measured
is what the command holds, not the model. ``--code DIR`` runs another checkout's ``qa`` (main,
before this change) on the same archive.

    PYTHONPATH=. .venv/bin/python -m bench.ingest_memory --sentences 50000 200000 [--code ../main]
    PYTHONPATH=. .venv/bin/python -m bench.ingest_memory --sentences 100000 --kill-after 20
    PYTHONPATH=. .venv/bin/python -m bench.ingest_memory --sentences 1000000 --code ../main --limit 1800
    PYTHONPATH=. .venv/bin/python -m bench.ingest_memory --sentences 10000 --real --answers /tmp/a

``--kill-after S``: SIGKILL the ingest S seconds in, then run it again and print what the second
run embedded and kept (a crash keeps every commit; the rerun embeds only the rest). ``--limit S``:
stop an ingest S seconds in and report its peak RSS so far (an ingest that would take hours).
Each run also prints the RSS sampled every second against the sentences committed by then.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DIM = 384


def archive(sentences: int, folder: Path) -> Path:
    """A JSONL file of BBC article copies holding about ``sentences`` sentences."""
    from bench import data
    from qa.ingest.splitter import split_document

    path = folder / f"archive-{sentences}.jsonl"
    if path.exists():
        return path
    docs = data.bbc_documents()
    sizes = [len(split_document(d.text)[0]) for d in docs]
    tmp = path.with_suffix(".tmp")
    done, v = 0, 0
    with open(tmp, "w", encoding="utf-8") as fh:
        while done < sentences:
            for d, n in zip(docs, sizes):
                if done >= sentences:
                    break
                fh.write(json.dumps({"id": f"{d.id}~{v}", "title": f"{d.title} [variant {v}]",
                                     "text": d.text, "source": "BBC"}) + "\n")
                done += n
            v += 1
    tmp.replace(path)
    return path


def child(argv: list[str]) -> int:
    """`qa ingest ARGV` with the stand-in encoder (run in its own process); with ``--real``
    first, the configured model. ``answers INDEX FILE N``: the best 5 hits of the first N BBC
    dev questions over INDEX, as JSON in FILE (to compare two checkouts' indexes)."""
    import numpy as np

    import qa.encoders
    from qa.cli import main

    if argv[:1] == ["--real"]:
        return main(argv[1:])
    if argv[:1] == ["answers"]:
        from bench.data import bbc_questions
        from qa import Index

        index_path, out, n = Path(argv[1]), Path(argv[2]), int(argv[3])
        index = Index.open(index_path)
        index.rerank = False  # the same ranking at every size (the large path has none)
        rows = [[q, [[h.doc_id, h.start, round(h.score, 5)] for h in index.search(q, k=5)]]
                for q in bbc_questions()[:n]]
        out.write_text(json.dumps(rows, indent=0), encoding="utf-8")
        return 0

    class Stand:
        name, dim, backend = "stand-in-384", DIM, "stand-in"

        def encode(self, texts, *, progress=False):
            out = np.empty((len(texts), DIM), np.float32)
            for i, t in enumerate(texts):
                out[i] = np.random.default_rng(zlib.crc32(t.encode())).standard_normal(DIM)
            return out / np.linalg.norm(out, axis=1, keepdims=True)

    os.environ["QA_MODEL"] = Stand.name
    qa.encoders.loaded[Stand.name] = Stand()
    return main(argv)


def run(code: Path, args: list[str], kill_after: float | None = None,
        index: Path | None = None) -> dict:
    """The child's peak RSS (``wait4``), and its RSS sampled every second against the
    sentences committed so far (the index's manifest): where the memory goes, commit by
    commit. Its output goes to files (a pipe left unread would fill in a long run)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(code), str(ROOT)]),
               QA_COMMIT_SECONDS="1000000", HF_HUB_OFFLINE="1")
    t0 = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen([sys.executable, __file__, "child", *args], env=env,
                                stdout=out, stderr=err, text=True)
        by_commit: dict[int, float] = {}  # sentences committed -> most RSS seen meanwhile (MB)
        done = threading.Event()
        sampler = threading.Thread(target=_sample, args=(proc.pid, index, by_commit, done))
        sampler.start()
        deadline = None if kill_after is None else time.monotonic() + kill_after
        while True:  # (not proc.wait: it would reap the child before wait4 reads its usage)
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if deadline is not None and time.monotonic() >= deadline:
                proc.send_signal(signal.SIGKILL)
                deadline = None
            time.sleep(0.2)
        done.set()
        sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return {"seconds": time.perf_counter() - t0, "peak_rss_mb": usage.ru_maxrss / 1024,
                "cpu_s": usage.ru_utime + usage.ru_stime,
                "rc": proc.returncode, "out": out.read().strip(), "err": err.read().strip(),
                "by_commit": by_commit}


def _sample(pid: int, index: Path | None, by_commit: dict, done: threading.Event) -> None:
    while not done.wait(1.0):
        try:
            rss = int(re.search(r"VmRSS:\s+(\d+)", Path(f"/proc/{pid}/status").read_text())[1])
        except (OSError, TypeError):
            continue
        try:
            committed = json.loads((index / "manifest.json").read_text())["sentences"] \
                if index is not None else 0
        except (OSError, ValueError, KeyError):
            committed = 0
        by_commit[committed] = max(by_commit.get(committed, 0.0), rss / 1024)


def _by_commit(by_commit: dict, steps: int = 8) -> str:
    """The most RSS seen while each of about ``steps`` spread commits was the newest."""
    keys = sorted(by_commit)
    if not keys:
        return "(none)"
    pick = sorted({keys[round(i * (len(keys) - 1) / max(steps - 1, 1))] for i in range(steps)})
    return ", ".join(f"{k:,}: {by_commit[k]:.0f} MB" for k in pick)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["child"]:
        return child(argv[1:])
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sentences", type=int, nargs="+", default=[50_000, 200_000])
    p.add_argument("--code", type=Path, default=ROOT, help="checkout whose qa runs the ingest")
    p.add_argument("--kill-after", type=float, help="kill the ingest after S seconds, then rerun")
    p.add_argument("--limit", type=float, help="stop an ingest after S seconds (its peak so far)")
    p.add_argument("--real", action="store_true", help="embed with the configured model")
    p.add_argument("--answers", type=Path, help="write the best hits of BBC dev questions over "
                   "each index to FILE-<sentences>.json (with --real)")
    p.add_argument("--work", type=Path, default=ROOT / "bench" / "cache" / "ingest-memory")
    args = p.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    for n in args.sentences:
        src = archive(n, args.work)
        index = args.work / f"index-{n}"
        cmd = ["--real"] * args.real + ["ingest", "--rebuild", "--index", str(index), str(src)]
        if args.kill_after is not None:
            first = run(args.code, cmd, args.kill_after, index)
            print(f"{n:,} sentences: killed after {first['seconds']:.1f} s (rc {first['rc']}); "
                  f"last progress: {_last_progress(first['err'])}")
            cmd = ["--real"] * args.real + ["ingest", "--index", str(index), str(src)]
        r = run(args.code, cmd, args.limit, index)
        load = os.getloadavg()
        stopped = f" (stopped at the {args.limit:.0f} s limit)" if r["rc"] == -signal.SIGKILL \
            and args.limit else ""
        print(f"{n:,} sentences ({src.stat().st_size / 2**20:.0f} MB archive): peak RSS "
              f"{r['peak_rss_mb']:.0f} MB, {r['seconds']:.1f} s ({r['cpu_s']:.0f} s of CPU), "
              f"rc {r['rc']}{stopped}, load "
              f"{load[0]:.1f} (15 min: {load[2]:.1f})")
        print(f"  {r['out'][-400:]}")
        print(f"  last progress: {_last_progress(r['err'])}")
        print(f"  RSS by sentences committed: {_by_commit(r['by_commit'])}", flush=True)
        if args.answers and args.real:
            out = args.answers.with_name(f"{args.answers.name}-{n}.json")
            a = run(args.code, ["answers", str(index), str(out), "200"])
            print(f"  answers of 200 BBC dev questions: {out} (rc {a['rc']}) {a['err'][-300:]}")
    return 0


def _last_progress(err: str) -> str:
    lines = [x for x in re.split(r"[\r\n]", err) if x.startswith("Ingesting")]
    return lines[-1].replace("\x1b[K", "") if lines else "(none)"


if __name__ == "__main__":
    if sys.argv[1:2] != ["child"]:
        sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
