"""Speed and scale benchmark: ingest throughput, answer quality per backend, re-ingest, query
latency / recall / memory at 10k, 100k and 1M sentences, and cold start.

    python -m bench.speed                 # everything (about 15-25 minutes on 2 shared cores)
    python -m bench.speed ingest quality  # some parts: ingest quality reingest scale coldstart

Every speed figure is printed both absolute (this machine, this run) and as a ratio to plain
sentence-transformers/torch measured in the same run, interleaved on the same sentences, since
absolute figures on a shared machine move with its load. Results go to bench/results/speed.json
and the plot to bench/results/speed.png (or --plot PATH; skipped, with a line saying so, where
matplotlib is not installed).
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from bench import data
from bench import speed_scale as scale
from bench.cache import CACHE_DIR, embed_cached

RESULTS = data.ROOT / "bench" / "results"
log = logging.getLogger("bench.speed")
PARTS = ("ingest", "quality", "reingest", "scale", "coldstart")


def encoder(backend: str):
    from qa.encoders import load_encoder

    return load_encoder(backend=backend)


# ---- ingest throughput --------------------------------------------------------------------
def bench_ingest(n: int, rounds: int, backends: list[str]) -> dict:
    """Sentences/s per backend on the same ``n`` BBC sentences (a seeded sample), in ``rounds``
    chunks; within each chunk every backend runs, in alternating order."""
    texts = data.bbc_sentences().texts
    pick = np.random.default_rng(0).choice(len(texts), n, replace=False)
    sample = [texts[i] for i in pick]
    encoders = {b: encoder(b) for b in ["torch"] + backends}
    for e in encoders.values():
        e.encode(sample[:16])  # warm up
    spent = {b: 0.0 for b in encoders}
    chunk = -(-n // rounds)
    for r in range(rounds):
        part = sample[r * chunk:(r + 1) * chunk]
        order = list(encoders) if r % 2 == 0 else list(encoders)[::-1]
        for b in order:
            t0 = time.perf_counter()
            encoders[b].encode(part)
            spent[b] += time.perf_counter() - t0
    rate = {b: n / s for b, s in spent.items()}
    ref = encoders["torch"].encode(sample[:200])
    cosine = {b: float(np.min((encoders[b].encode(sample[:200]) * ref).sum(1))) for b in backends}
    return {"sentences": n, "rounds": rounds, "per_s": rate,
            "ratio": {b: rate[b] / rate["torch"] for b in rate}, "min_cosine_to_torch": cosine}


# ---- retrieval quality --------------------------------------------------------------------
def mrr_at_10(sentence_vecs: np.ndarray, question_vecs: np.ndarray, gold: list[set[int]]) -> float:
    scores = question_vecs @ sentence_vecs.T
    total = 0.0
    for row, want in zip(scores, gold):
        top = np.argsort(-row, kind="stable")[:10]
        total += next((1.0 / (r + 1) for r, i in enumerate(top) if i in want), 0.0)
    return total / len(gold)


def bench_quality(backends: list[str], split: str = "dev") -> dict:
    """MRR@10 on WikiQA (every distinct sentence of the split is one corpus; answerable
    questions), exact search, per backend. Tune on dev; test is for reporting only."""
    wq = data.wikiqa_sentences(split)
    out = {"split": split, "questions": len(wq.questions), "sentences": len(wq.sentences),
           "mrr10": {}}
    for b in ["torch"] + backends:
        e = encoder(b)
        questions = np.concatenate([e.encode([q]) for q in wq.questions])  # one at a time, as asked
        out["mrr10"][b] = mrr_at_10(embed_cached(e, wq.sentences, f"wikiqa-{split}"),
                                    questions, wq.gold)
    out["delta"] = {b: out["mrr10"][b] - out["mrr10"]["torch"] for b in backends}
    return out


# ---- re-ingest ----------------------------------------------------------------------------
class LookupEncoder:
    """The default model's cached BBC vectors by sentence text, counting what it is asked: the
    re-ingest figures are about what the index re-embeds, not about the model's speed."""

    def __init__(self, texts: list[str], vectors: np.ndarray, name: str):
        self.rows = {t: i for i, t in enumerate(texts)}
        self.vectors = vectors
        self.name, self.dim, self.backend = name, vectors.shape[1], "lookup"
        self.encoded = 0

    def encode(self, texts, *, progress=False):
        self.encoded += len(texts)
        return self.vectors[[self.rows[t] for t in texts]]


def bbc_lookup() -> LookupEncoder:
    s = data.bbc_sentences()
    e = encoder("onnx-int8")
    return LookupEncoder(s.texts, embed_cached(e, s.texts, "bbc"), e.name)


def bench_reingest(tmp: Path) -> dict:
    from qa import Index

    docs = data.bbc_documents()
    lookup = bbc_lookup()
    t0 = time.perf_counter()
    index = Index.build(docs[:-1], tmp / "reingest", encoder=lookup)
    first = time.perf_counter() - t0, lookup.encoded
    lookup.encoded = 0
    t0 = time.perf_counter()
    report = index.add(docs[:-1])
    again = time.perf_counter() - t0, lookup.encoded, len(report.unchanged)
    lookup.encoded = 0
    t0 = time.perf_counter()
    index.add(docs[-1:])
    index.save()
    one = time.perf_counter() - t0, lookup.encoded, index.sentence_count(docs[-1].id)
    return {"articles": len(docs) - 1, "sentences": len(index) - one[2],
            "first_s": first[0], "first_embedded": first[1],
            "again_s": again[0], "again_embedded": again[1], "again_unchanged": again[2],
            "add_one_s": one[0], "add_one_embedded": one[1], "add_one_sentences": one[2]}


# ---- scale --------------------------------------------------------------------------------
def bench_scale(sizes: list[int], tmp: Path, reuse: bool = False) -> dict:
    return scale.run(sizes, tmp, reuse)


# ---- cold start ---------------------------------------------------------------------------
def bench_coldstart(tmp: Path, runs: int = 3) -> dict:
    """A saved BBC index (41.8k sentences); ``qa ask`` in a fresh process, from start to the
    printed answer; and which heavy modules ``qa ask`` and ``qa --help`` import."""
    from qa import Index

    folder = tmp / "coldstart-index"
    if not (folder / "manifest.json").is_file():
        Index.build(data.bbc_documents(), folder, encoder=bbc_lookup())
    env = dict(os.environ, PYTHONPATH=str(data.ROOT), HF_HUB_OFFLINE="1")
    env.pop("QA_BACKEND", None)
    ask = [sys.executable, "-X", "importtime", "-m", "qa", "ask", "--index", str(folder),
           "Who won the Australian Open?"]
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        done = subprocess.run(ask, env=env, capture_output=True, text=True, check=True)
        times.append(time.perf_counter() - t0)
    helped = subprocess.run([sys.executable, "-X", "importtime", "-m", "qa", "--help"], env=env,
                            capture_output=True, text=True, check=True)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "qa", "--help"], env=env, capture_output=True, check=True)
    help_s = time.perf_counter() - t0
    heavy = ("torch", "sentence_transformers", "transformers", "gradio", "faiss", "onnxruntime")
    return {"sentences": len(Index.open(folder, encoder=bbc_lookup())),
            "ask_s": times, "ask_median_s": float(np.median(times)),
            "ask_imports": [m for m in heavy if _imported(done.stderr, m)],
            "help_s": help_s, "help_imports": [m for m in heavy if _imported(helped.stderr, m)],
            "first_answer": done.stdout.splitlines()[0] if done.stdout else ""}


def _imported(importtime_log: str, module: str) -> bool:
    return any(line.rsplit("|", 1)[-1].strip() == module for line in importtime_log.splitlines())


# ---- report -------------------------------------------------------------------------------
def report(r: dict) -> str:
    lines = []
    if "ingest" in r:
        i = r["ingest"]
        lines.append(f"Ingest: {i['sentences']} BBC sentences, {i['rounds']} interleaved rounds")
        for b, rate in i["per_s"].items():
            extra = "" if b == "torch" else f"   min cosine to torch {i['min_cosine_to_torch'][b]:.4f}"
            lines.append(f"  {b:10s} {rate:8.1f} sentences/s   x{i['ratio'][b]:.2f} torch{extra}")
    if "quality" in r:
        q = r["quality"]
        lines.append(f"Quality: WikiQA-{q.get('split', 'dev')} MRR@10, {q['questions']} answerable questions over "
                     f"{q['sentences']} sentences, exact search")
        for b, v in q["mrr10"].items():
            d = "" if b == "torch" else f"   {q['delta'][b]:+.4f} vs torch"
            lines.append(f"  {b:10s} {v:.4f}{d}")
    if "reingest" in r:
        e = r["reingest"]
        lines.append(f"Re-ingest ({e['articles']} BBC articles, {e['sentences']} sentences; "
                     "vectors looked up, so times are the index's own work):")
        lines.append(f"  first ingest      {e['first_s']:6.2f} s, {e['first_embedded']} sentences embedded")
        lines.append(f"  same corpus again {e['again_s']:6.2f} s, {e['again_embedded']} embedded, "
                     f"{e['again_unchanged']} articles unchanged")
        lines.append(f"  one new article   {e['add_one_s']:6.2f} s incl. save, {e['add_one_embedded']} "
                     f"embedded (its {e['add_one_sentences']} sentences)")
    if "scale" in r:
        s = r["scale"]
        lines.append(f"Scale, through qa.Index (Index.open + Index.ask, ONNX int8): "
                     f"{s['real_sentences']} real BBC sentence vectors; rows past that are "
                     f"GENERATED variants (real vector + Gaussian noise {s['noise']}, renormalised; "
                     "articles = BBC articles with each sentence tagged [variant v]). "
                     f"{s['questions']} questions x2, each timed from text to Answer, one at a "
                     "time; baseline = the vector stage alone (encode + nearest 10 by the vector "
                     "store), interleaved on the same questions. Recall@10 of the vector stage "
                     f"against exact search: on-topic = {s['on_topic']} BBC dev questions and "
                     "headlines; off-topic = WikiQA dev questions; cand. = share of the exact top "
                     "10 among the ranker's candidates (all questions).")
        lines.append(f"  {'sentences':>10s} {'ranking':12s} {'p50 ms':>7s} {'p99 ms':>7s} "
                     f"{'base p50':>8s} {'x base':>6s} {'recall':>6s} {'off':>6s} {'cand.':>6s} "
                     f"{'peak RSS':>8s} {'res B/s':>7s} {'disk B/s':>8s} {'cold s':>6s} "
                     f"{'graph s':>7s}")
        for n, m in sorted(s["sizes"].items(), key=lambda kv: int(kv[0])):
            ranking = "full" if m["kind"] == "full ranker" else f"cand.+{m['kind']}"
            lines.append(f"  {int(n):>10,d} {ranking:12s} {m['p50_ms']:7.2f} {m['p99_ms']:7.2f} "
                         f"{m['base_p50_ms']:8.2f} {m['p50_ms'] / m['base_p50_ms']:6.2f} "
                         f"{m['recall10']:6.4f} {m['recall10_off_topic']:6.4f} "
                         f"{m['candidates_recall10']:6.4f} {m['peak_rss_mb']:8.0f} "
                         f"{m['resident_bytes_per_sentence']:7.0f} "
                         f"{m['disk_bytes_per_sentence']:8.0f} {m['cold_start_s']:6.2f} "
                         f"{m['build_s']:7.0f}")
    if "coldstart" in r:
        c = r["coldstart"]
        lines.append(f"Cold start: `qa ask --index` over a saved {c['sentences']}-sentence index, "
                     f"process start to answer: median {c['ask_median_s']:.2f} s "
                     f"(runs {', '.join(f'{t:.2f}' for t in c['ask_s'])}); heavy modules imported: "
                     f"{', '.join(c['ask_imports']) or 'none'}")
        lines.append(f"  `qa --help`: {c['help_s']:.2f} s; heavy modules imported: "
                     f"{', '.join(c['help_imports']) or 'none'}")
    return "\n".join(lines)


def plot(scale_result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = sorted(scale_result["sizes"], key=int)
    n = [int(s) for s in sizes]
    m = [scale_result["sizes"][s] for s in sizes]
    fig, (a, b, c) = plt.subplots(1, 3, figsize=(14, 4))
    a.plot(n, [x["p50_ms"] for x in m], "o-", label="qa.Index.ask p50")
    a.plot(n, [x["p99_ms"] for x in m], "s-", label="qa.Index.ask p99")
    a.plot(n, [x["base_p50_ms"] for x in m], "^:", label="vector stage alone p50 (baseline)")
    a.axhline(15, color="grey", ls=":", lw=1)
    a.axhline(50, color="grey", ls="--", lw=1)
    a.set(xscale="log", xlabel="sentences in the index", ylabel="ms per question (encode + rank)",
          title="Query latency")
    a.legend(fontsize=7)
    b.plot(n, [x["peak_rss_mb"] for x in m], "o-", label="peak RSS: open + every question")
    b.plot(n, [x["base_rss_mb"] for x in m], "s:", label="process before opening (encoder)")
    b.axhline(1024, color="grey", ls="--", lw=1)
    b.set(xscale="log", xlabel="sentences in the index", ylabel="MB", title="Memory")
    b.legend(fontsize=7)
    c.plot(n, [x["cold_start_s"] for x in m], "o-", label="process start to first answer")
    c.axhline(5, color="grey", ls="--", lw=1)
    c.set(xscale="log", xlabel="sentences in the index", ylabel="s", title="Cold start")
    c.legend(fontsize=7)
    for ax in (a, b, c):
        for x, mm in zip(n, m):
            label = "full" if mm["kind"] == "full ranker" else "cand."
            ax.annotate(label, (x, ax.get_ylim()[0]), fontsize=7, ha="center", va="bottom")
    fig.suptitle("newsroom QA through qa.Index: vectors past 41.8k are generated variants of real "
                 "BBC vectors", fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("parts", nargs="*", choices=PARTS, default=list(PARTS))
    p.add_argument("--sentences", type=int, default=1200, help="ingest sample (default 1200)")
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--backends", default="onnx-int8,onnx", help="besides torch")
    p.add_argument("--sizes", default="10000,0,100000,1000000",
                   help="sentences per index; 0 = the BBC corpus as it is")
    p.add_argument("--split", default="dev", choices=["dev", "test"], help="WikiQA split for quality")
    p.add_argument("--plot", type=Path, default=RESULTS / "speed.png")
    p.add_argument("--work", type=Path, default=CACHE_DIR / "speed")
    p.add_argument("--reuse", action="store_true",
                   help="scale: measure indexes written by an earlier run instead of rewriting")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    for noisy in ("root", "faiss", "sentence_transformers", "qa.encoders.onnx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    log.setLevel(logging.INFO)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    backends = [b for b in args.backends.split(",") if b and b != "torch"]
    parts = args.parts or list(PARTS)
    RESULTS.mkdir(parents=True, exist_ok=True)
    result_file = RESULTS / "speed.json"
    results = json.loads(result_file.read_text()) if result_file.is_file() else {}
    results["machine"] = {"cores": os.cpu_count(), "load_avg_start": os.getloadavg()}
    if "ingest" in parts:
        results["ingest"] = bench_ingest(args.sentences, args.rounds, backends)
    if "quality" in parts:
        results["quality"] = bench_quality(backends, args.split)
    if "reingest" in parts:
        results["reingest"] = bench_reingest(args.work)
    if "scale" in parts:
        results["scale"] = bench_scale([int(x) for x in args.sizes.split(",")], args.work,
                                       args.reuse)
        result_file.write_text(json.dumps(results, indent=1))  # kept if plotting fails
        try:
            plot(results["scale"], args.plot)
        except ImportError as e:
            log.info("no plot (%s)", e)
    if "coldstart" in parts:
        results["coldstart"] = bench_coldstart(args.work)
    results["machine"]["load_avg_end"] = os.getloadavg()
    result_file.write_text(json.dumps(results, indent=1))
    print(report(results))
    print(f"(load average {results['machine']['load_avg_start'][0]:.1f} -> "
          f"{results['machine']['load_avg_end'][0]:.1f} on {results['machine']['cores']} cores; "
          f"results in {result_file}" + (f", plot {args.plot}" if "scale" in parts else "") + ")")
    return 0


if __name__ == "__main__":
    sys.exit(main())
