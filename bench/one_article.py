"""One-article corpora: each small.jsonl question asked of its own article alone (the size of the
shipped article), by the product and by plain embeddings, in one run.

    PYTHONPATH=. HF_HUB_OFFLINE=1 /work/main/.venv/bin/python -m bench.one_article

Scoring as bench/quality.py: MRR@10, hit@1 and hit@5 over answerable questions, quote recall
within the top max(5, n), the share of `none` questions abstained and of answerable ones
answered. small.jsonl is a dev set (bench/cv.py folds it by article like the others).
"""
from __future__ import annotations

import logging
import os

import numpy as np

from bench import data
from bench.cache import CachedEncoder
from bench.cvdata import small_questions
from bench.quality import K, Naive, Product, fmt
from bench.score import Tally, first_rank, recall


def main() -> int:
    logging.basicConfig(level=logging.WARNING)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from qa.encoders import load_encoder

    encoder = CachedEncoder(load_encoder())
    docs = {d.id: d for d in data.bbc("dev").documents}
    asked = small_questions()
    systems: dict[str, dict] = {}
    built: dict[str, list] = {}
    for corpus_id, q in asked:
        if corpus_id not in built:
            built[corpus_id] = [Naive([docs[corpus_id]], encoder),
                                Product([docs[corpus_id]], encoder)]
        for system in built[corpus_id]:
            tally = systems.setdefault(system.name, {"all": Tally(), "recall": [],
                                                     "abstained": [], "answered": []})
            res = system.ask(q.text, max(K, len(q.gold)))
            if q.type == "none":
                tally["abstained"].append(not res.answered)
                continue
            tally["answered"].append(res.answered)
            tally["all"].add(first_rank(q.gold, res.texts[:K]))
            if q.type == "quote":
                tally["recall"].append(recall(q.gold, res.texts[:max(5, len(q.gold))]))
    encoder.save()
    print(f"\n## small.jsonl: {len(built)} one-article corpora, {len(asked)} questions")
    print("| system | MRR@10 | hit@1 | hit@5 | quote recall | `none` abstained | answered |")
    print("|---|---|---|---|---|---|---|")
    for name, t in systems.items():
        s = t["all"].summary()
        print(f"| {name} | {fmt(s['mrr@10'])} | {fmt(s['hit@1'])} | {fmt(s['hit@5'])} | "
              f"{fmt(float(np.mean(t['recall'])))} | {fmt(float(np.mean(t['abstained'])))} | "
              f"{fmt(float(np.mean(t['answered'])))} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
