"""End to end ingest against plain sentence-transformers, the way a user ingests (issue 17).

``qa.Index.build`` of the first N BBC articles (reading done, splitting, speakers, embedding,
the in-memory index) against ``SentenceTransformer(model).encode(sentences, batch_size=64)`` of
the same articles' sentences (split beforehand, not timed), alternating in one process, ROUNDS
rounds each. Prints sentences/s of both, the ratio and the load average before each timed run.

    PYTHONPATH=. HF_HUB_OFFLINE=1 .venv/bin/python -m bench.ingest_ratio [--articles 300]
        [--rounds 2] [--before] [--fused] [--serial] [--profile]

``--before`` adds a third contestant in every round: ``Index.build`` with the encoder run as it
was before issue 17 (one batch at a time on every core; today's graph), so before and after
are measured in the same run; ``--fused`` adds QA_BACKEND=onnx-int8-fused; ``--serial`` adds
the project's encoder with every article split before embedding starts (as before the overlap of
qa/encoders/overlap.py); ``--float-ffn`` adds the int8 graph as it was shipped before session 15
(the feed-forward output projections wholly in float, export._quantize) on the same pipeline. ``--profile`` runs one more ``Index.build`` under cProfile and prints
where its time went.
The machine is shared: every figure is a ratio within one run, reported with its load.
"""
from __future__ import annotations

import argparse
import os
import time

from bench import data


def load() -> float:
    return os.getloadavg()[0]


def sentences_of(docs) -> list[str]:
    from qa.ingest.splitter import split_document

    out = []
    for doc in docs:
        spans, _ = split_document(doc.text)
        out += [doc.text[s.start:s.end] for s in spans]
    return out


def plain_model():
    from sentence_transformers import SentenceTransformer

    from qa.encoders.sbert import default_model_path

    return SentenceTransformer(str(default_model_path()), device="cpu")


def before_encoder():
    """The encoder run as before issue 17: one batch at a time on every core (today's graph)."""
    from qa.encoders.onnx import OnnxEncoder

    encoder = OnnxEncoder(quantize=True, fused=False)
    encoder.workers = 1
    return encoder


def float_ffn_encoder():
    """The default encoder with the int8 graph shipped before session 15: the feed-forward output
    projections wholly in float (``export._quantize``; now the outlier channels alone are)."""
    from qa import config
    from qa.encoders.export import cached_export
    from qa.encoders.onnx import OnnxEncoder, _export, session
    from qa.encoders.sbert import OFFICIAL_SHA256

    encoder = OnnxEncoder()
    target = (config.cache_dir() / "onnx" /
              f"{OFFICIAL_SHA256['model.safetensors'][:32]}-bench-ffn-float-int8.onnx")
    encoder.model_file = cached_export(target, lambda out: _export(encoder.folder, out), True)
    encoder._session = session(encoder.model_file)
    return encoder


def build(docs, encoder, serial: bool = False):
    """``Index.build``; ``serial``: every article split before the first is embedded."""
    from qa import Index, tuning

    kept = tuning.OVERLAP_FIRST
    if serial:
        tuning.OVERLAP_FIRST = 1 << 62
    try:
        return Index.build(docs, encoder=encoder)
    finally:
        tuning.OVERLAP_FIRST = kept


def run(articles: int, rounds: int, before: bool = False, fused: bool = False,
        serial: bool = False, float_ffn: bool = False) -> dict:
    from qa.encoders import load_encoder

    docs = data.bbc_documents()[:articles]
    texts = sentences_of(docs)
    plain = plain_model()
    encoders = {"project": load_encoder()}  # the product's default (what `qa ingest` uses)
    if fused:
        encoders["fused"] = load_encoder(backend="onnx-int8-fused")
    if before:
        encoders["before"] = before_encoder()
    if serial:
        encoders["serial"] = encoders["project"]
    if float_ffn:
        encoders["ffn-float"] = float_ffn_encoder()
    plain.encode(texts[:64], batch_size=64)  # warm them up
    for encoder in encoders.values():
        build(docs[:3], encoder)
    who_all = ["torch", *encoders]
    rows = []
    for r in range(rounds):
        order = who_all if r % 2 == 0 else who_all[::-1]
        for who in order:
            before_load = load()
            t0 = time.perf_counter()
            if who == "torch":
                plain.encode(texts, batch_size=64)
            else:
                index = build(docs, encoders[who], serial=who == "serial")
                assert len(index) == len(texts), (len(index), len(texts))
            spent = time.perf_counter() - t0
            rows.append({"round": r, "who": who, "seconds": spent, "per_s": len(texts) / spent,
                         "load_before": before_load, "load_after": load()})
            print(f"round {r} {who:8s} {len(texts) / spent:7.1f} sentences/s  "
                  f"({spent:.1f} s, load {before_load:.2f} -> {load():.2f})", flush=True)
    total = {w: sum(x["seconds"] for x in rows if x["who"] == w) for w in who_all}
    rate = {w: rounds * len(texts) / s for w, s in total.items()}
    loads = [x["load_before"] for x in rows] + [rows[-1]["load_after"]]
    out = {"articles": articles, "sentences": len(texts), "rounds": rows, "per_s": rate,
           "ratio": {w: rate[w] / rate["torch"] for w in encoders},
           "load": (min(loads), max(loads)), "backend": encoders["project"].backend}
    ratios = ", ".join(f"{w} {rate[w]:.1f}/s x{out['ratio'][w]:.2f}" for w in encoders)
    print(f"{len(texts)} sentences of {articles} articles, {rounds} rounds: torch "
          f"{rate['torch']:.1f}/s, {ratios} (project: {out['backend']}), "
          f"load {out['load'][0]:.2f}-{out['load'][1]:.2f}")
    return out


def profile(articles: int, top: int = 18) -> None:
    import cProfile
    import pstats

    from qa import Index
    from qa.encoders import load_encoder

    docs = data.bbc_documents()[:articles]
    encoder = load_encoder()
    Index.build(docs[:3], encoder=encoder)
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    Index.build(docs, encoder=encoder)
    prof.disable()
    print(f"profiled Index.build: {time.perf_counter() - t0:.1f} s, load {load():.2f}")
    pstats.Stats(prof).sort_stats("cumulative").print_stats(top)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--articles", type=int, default=300)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--before", action="store_true", help="also the encoder before issue 17")
    p.add_argument("--fused", action="store_true", help="also QA_BACKEND=onnx-int8-fused")
    p.add_argument("--serial", action="store_true",
                   help="also the project's encoder with splitting before embedding")
    p.add_argument("--float-ffn", action="store_true",
                   help="also the int8 graph shipped before session 15 (feed-forward outputs float)")
    p.add_argument("--profile", action="store_true")
    args = p.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    run(args.articles, args.rounds, args.before, args.fused, args.serial, args.float_ffn)
    if args.profile:
        profile(args.articles)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
