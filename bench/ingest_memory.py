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

``--kill-after S``: SIGKILL the ingest S seconds in, then run it again and print what the second
run embedded and kept (a crash keeps every commit; the rerun embeds only the rest).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
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
    """`qa ingest ARGV` with the stand-in encoder (run in its own process)."""
    import numpy as np

    import qa.encoders
    from qa.cli import main

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


def run(code: Path, args: list[str], kill_after: float | None = None) -> dict:
    env = dict(os.environ, PYTHONPATH=str(code), QA_COMMIT_SECONDS="1000000")
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, __file__, "child", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if kill_after is not None:
        time.sleep(kill_after)
        proc.send_signal(signal.SIGKILL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    out, err = proc.stdout.read(), proc.stderr.read()
    return {"seconds": time.perf_counter() - t0, "peak_rss_mb": usage.ru_maxrss / 1024,
            "rc": proc.returncode, "out": out.strip(), "err": err.strip()}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["child"]:
        return child(argv[1:])
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sentences", type=int, nargs="+", default=[50_000, 200_000])
    p.add_argument("--code", type=Path, default=ROOT, help="checkout whose qa runs the ingest")
    p.add_argument("--kill-after", type=float, help="kill the ingest after S seconds, then rerun")
    p.add_argument("--work", type=Path, default=ROOT / "bench" / "cache" / "ingest-memory")
    args = p.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    for n in args.sentences:
        src = archive(n, args.work)
        index = args.work / f"index-{n}"
        cmd = ["ingest", "--rebuild", "--index", str(index), str(src)]
        if args.kill_after is not None:
            first = run(args.code, cmd, args.kill_after)
            print(f"{n:,} sentences: killed after {first['seconds']:.1f} s (rc {first['rc']}); "
                  f"last progress: {_last_progress(first['err'])}")
            cmd = ["ingest", "--index", str(index), str(src)]  # the same ingest, again
        r = run(args.code, cmd)
        load = os.getloadavg()[0]
        print(f"{n:,} sentences ({src.stat().st_size / 2**20:.0f} MB archive): peak RSS "
              f"{r['peak_rss_mb']:.0f} MB, {r['seconds']:.1f} s, rc {r['rc']}, load {load:.2f}")
        print(f"  {r['out'][-400:]}")
        print(f"  last progress: {_last_progress(r['err'])}")
    return 0


def _last_progress(err: str) -> str:
    lines = [x for x in re.split(r"[\r\n]", err) if x.startswith("Ingesting")]
    return lines[-1].replace("\x1b[K", "") if lines else "(none)"


if __name__ == "__main__":
    if sys.argv[1:2] != ["child"]:
        sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
