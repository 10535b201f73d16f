"""Ingest rate, time per question (p50/p99) and the app process's peak memory: a folder index
and a Milvus index of the same BBC articles, measured in the same run, each in a fresh process.

    PYTHONPATH=. HF_HUB_OFFLINE=1 python -m bench.milvus_speed [--milvus LOCATION] [--copies N]

The articles are BBC dev's (``--copies N``: N copies of each, ids ``<id>~c<i>``, to reach more
sentences); their vectors come from bench/cache (embedded once with the default encoder), so
the ingest rate is that of the index - splitting, storing, the engine's writes and index
build - not of the model. Questions are BBC dev's, encoded by the ONNX int8 encoder as in the
product; each backend's process asks every question twice (the first round warms up), and its
peak resident memory (``getrusage``) is read at the end. The load average is printed with each
figure: this machine is shared.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import replace

import numpy as np


def docs(copies: int):
    from bench import data

    corpus = data.bbc("dev")
    out = list(corpus.documents)
    for c in range(1, copies):
        out += [replace(d, id=f"{d.id}~c{c}") for d in corpus.documents]
    return out, [q.text for q in corpus.questions]


def one(location: str, copies: int) -> dict:
    """Build at ``location`` (a folder or a Milvus location), reopen, ask; in this process."""
    from bench.cache import CachedEncoder
    from qa.encoders import load_encoder
    from qa.index import Index

    articles, questions = docs(copies)
    encoder = CachedEncoder(load_encoder())
    t = time.perf_counter()
    built = Index.build(articles, location, encoder=encoder)
    took = time.perf_counter() - t
    sentences = len(built)
    del built
    index = Index.open(location, encoder=encoder.inner)
    index.rerank = False  # the large-index path: the cross-encoder is the same code for both
    times = []
    for rnd in range(2):
        for q in questions:
            t = time.perf_counter()
            index.ask(q)
            if rnd:
                times.append(time.perf_counter() - t)
    return {"sentences": sentences, "ingest_s": took, "ingest_per_s": sentences / took,
            "p50_ms": 1000 * float(np.percentile(times, 50)),
            "p99_ms": 1000 * float(np.percentile(times, 99)), "questions": len(times),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "load": os.getloadavg()}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--milvus", help="Milvus location (default: a new Milvus Lite .db)")
    p.add_argument("--copies", type=int, default=1)
    p.add_argument("--one", nargs=2, metavar=("LOCATION", "COPIES"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.one:
        print(json.dumps(one(args.one[0], int(args.one[1]))))
        return 0
    work = tempfile.mkdtemp(prefix="milvus-speed-")
    targets = {"folder": os.path.join(work, "index"),
               "milvus": args.milvus or f"milvus+lite://{work}/news.db"}
    results = {}
    for name, location in targets.items():
        out = subprocess.run([sys.executable, "-m", "bench.milvus_speed", "--one", location,
                              str(args.copies)], capture_output=True, text=True, check=True)
        results[name] = json.loads(out.stdout.strip().splitlines()[-1])
    print("| index | sentences | ingest s | sentences/s | p50 ms | p99 ms | peak RSS MB | "
          "load (1/5/15 min) |")
    print("|---|---|---|---|---|---|---|---|")
    for name, r in results.items():
        print(f"| {name} | {r['sentences']} | {r['ingest_s']:.1f} | {r['ingest_per_s']:.0f} | "
              f"{r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {r['peak_rss_mb']:.0f} | "
              f"{' / '.join(f'{x:.1f}' for x in r['load'])} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
