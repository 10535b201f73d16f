"""Statements (qa/statements.py) on the BBC dev + dev2 `quote` questions: quote recall with no cap,
and how many sentences that are not gold statements come with them (precision), for the "about
Y" threshold chosen by cross-validation (folds by article).

    PYTHONPATH=. /work/main/.venv/bin/python -m bench.statements [--index DIR]

The index of all 2,225 BBC articles is built at DIR (default bench/cache/bbc-index, gitignored)
on the first run, with the vectors cached (bench/cache.py). Each quote question is asked
through ``Index.ask(question, k=None)`` with the threshold at 0 (every statement of the person,
best first, with its score), so each threshold is scored on the same answers: the statements at
or above it. Scoring as ../shared/bench/README.md says: a gold sentence is found when a returned
one contains it (or covers at least half of it).
"""
from __future__ import annotations

import argparse
import os
import random
from pathlib import Path

from bench import data
from bench.score import found

DEFAULT_INDEX = Path(__file__).resolve().parent / "cache" / "bbc-index"
GRID = [round(0.05 * i, 2) for i in range(0, 20)]
FOLDS = 5


def open_index(path: Path):
    from bench.cache import CachedEncoder
    from qa.encoders import load_encoder
    from qa.index import Index

    encoder = CachedEncoder(load_encoder())
    if (path / "manifest.json").is_file():
        return Index.open(path, encoder=encoder)
    index = Index.build(data.bbc("dev").documents, path, encoder=encoder)
    encoder.save()
    return index


def answers(index) -> list[dict]:
    """Per quote question: the statements returned at threshold 0 (text, score) and the gold."""
    from qa import statements

    saved = statements.TOPIC_THRESHOLD
    statements.TOPIC_THRESHOLD = 0.0
    try:
        out = []
        for split in ("dev", "dev2"):
            for q in data.bbc(split).questions:
                if q.type != "quote":
                    continue
                answer = index.ask(q.text, k=None)
                plain = index.search(q.text, k=max(5, len(q.gold)))  # the benchmark's cut
                out.append({"id": q.id, "doc": q.doc_id, "question": q.text, "gold": q.gold,
                            "statements": answer.statements,
                            "hits": [(h.text, h.score) for h in answer.hits],
                            "plain": [h.text for h in plain]})
        return out
    finally:
        statements.TOPIC_THRESHOLD = saved


def score(rows: list[dict], threshold: float) -> dict:
    """Mean quote recall (all gold, no cap), mean precision (gold among returned; a question
    returning nothing counts 0), mean non-gold sentences returned, F1 of the two means."""
    rec = prec = extra = returned = 0.0
    for r in rows:
        kept = [t for t, s in r["hits"] if s >= threshold] if r["statements"] else \
            [t for t, _ in r["hits"]]
        rec += sum(any(found(g, t) for t in kept) for g in r["gold"]) / len(r["gold"])
        good = sum(any(found(g, t) for g in r["gold"]) for t in kept)
        prec += good / len(kept) if kept else 0.0
        extra += len(kept) - good
        returned += len(kept)
    n = len(rows)
    rec, prec = rec / n, prec / n
    return {"recall": rec, "precision": prec, "non_gold": extra / n, "returned": returned / n,
            "f1": 2 * rec * prec / (rec + prec) if rec + prec else 0.0}


def best(rows: list[dict]) -> float:
    return max(GRID, key=lambda t: (round(score(rows, t)["f1"], 6), -t))


def main(argv=None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--index", type=Path, default=DEFAULT_INDEX)
    args = p.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    rows = answers(open_index(args.index))
    asked = sum(r["statements"] for r in rows)
    print(f"{len(rows)} quote questions (dev + dev2); {asked} answered as statement questions "
          "(the others: the person has no attributed statement, ranked as any question)")
    base = [{**r, "statements": False, "hits": [(t, 1.0) for t in r["plain"]]} for r in rows]
    s = score(base, 0.0)
    print(f"baseline, the ranker's top max(5, n) as the README scores quotes: recall "
          f"{s['recall']:.3f}, precision {s['precision']:.3f}, non-gold per question "
          f"{s['non_gold']:.1f}")
    for t in (0.0,):
        s = score(rows, t)
        print(f"no topic threshold (every statement of the person): recall {s['recall']:.3f}, "
              f"precision {s['precision']:.3f}, non-gold per question {s['non_gold']:.1f}")
    print("threshold  recall  precision  non-gold/q  returned/q  F1")
    for t in GRID:
        s = score(rows, t)
        print(f"{t:9.2f}  {s['recall']:.3f}   {s['precision']:.3f}     {s['non_gold']:6.2f}     "
              f"{s['returned']:6.2f}   {s['f1']:.3f}")
    # cross-validation, folds by article
    docs = sorted({r["doc"] for r in rows})
    random.Random(19).shuffle(docs)
    fold_of = {d: i % FOLDS for i, d in enumerate(docs)}
    out_rows, chosen, inside = [], [], []
    for f in range(FOLDS):
        train = [r for r in rows if fold_of[r["doc"]] != f]
        test = [r for r in rows if fold_of[r["doc"]] == f]
        t = best(train)
        chosen.append(t)
        inside.append(score(train, t))
        out_rows += [(r, t) for r in test]
    oof = {k: sum(score([r], t)[k] for r, t in out_rows) / len(out_rows)
           for k in ("recall", "precision", "non_gold")}
    ins = {k: sum(s[k] for s in inside) / FOLDS for k in ("recall", "precision", "non_gold")}
    print(f"\n{FOLDS}-fold cross-validation by article: thresholds chosen {chosen}")
    print(f"in-fold:     recall {ins['recall']:.3f}, precision {ins['precision']:.3f}, "
          f"non-gold per question {ins['non_gold']:.2f}")
    print(f"out-of-fold: recall {oof['recall']:.3f}, precision {oof['precision']:.3f}, "
          f"non-gold per question {oof['non_gold']:.2f}")
    t = best(rows)
    s = score(rows, t)
    print(f"all of dev + dev2: threshold {t}: recall {s['recall']:.3f}, precision "
          f"{s['precision']:.3f}, non-gold per question {s['non_gold']:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
