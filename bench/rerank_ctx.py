"""Issue 18, session 17: does a re-ranker that reads the sentence before carry out of fold?

Context questions ("How much a week does the Fostering Network think carers should be paid?")
are answered by a sentence that does not name its subject ("The charity recommends a weekly
payment of £108.49"): the sentence before does. The shipped cross-encoder reads the sentence
alone, and reading (sentence before + sentence) with it, untrained on such pairs, was worse
(bench/cvtried.py ctx-ce). Here the model learns such pairs, on this CPU: each fold's model
starts from the ``base`` weights (the shipped recipe trained on no dev question,
bench/cache/oof/weights-base.safetensors) and is fine-tuned on the other folds' dev questions'
candidates, read as "sentence [SEP] sentence before" (``ctx``) or, the control, the sentence
alone (``alone``). Each model scores only the held-out fold's candidates, so bench/cv.py's
replay ranks every question with probabilities of a model that never saw it. Session 18 added
``title``: "sentence [SEP] its article's title", the cross-encoder's counterpart of the ranker's
sentence read in its article (features.in_article) - unlike the sentence before, the title is the
same for every sentence of an article, so it cannot favour the sentence after an answer.

    PYTHONPATH=. HF_HUB_OFFLINE=1 .venv/bin/python -m bench.rerank_ctx train --mode ctx --run 0   # ... 4, all; --mode alone|title
    PYTHONPATH=. HF_HUB_OFFLINE=1 .venv/bin/python -m bench.rerank_ctx compare

Writes bench/cache/ctx/probs-MODE-RUN.json (keyed by question and sentence, as bench/cvoof.py).
"""
from __future__ import annotations

import argparse
import json
import logging
import random
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from bench import cv
from bench.cvdata import CACHE
from bench.cvoof import FOLDER as OOF

OUT = CACHE.parent / "ctx"
DEPTH = 20  # candidates scored per question: the replay re-ranks 10 of the best 20 at most
HARD, UNANSWERED = 12, 6  # negatives per answerable / `none` training question (the recipe's)
SEP = " [SEP] "
log = logging.getLogger("rerank_ctx")


def pair_text(sentence: str, before: str | None, mode: str, title: str | None = None) -> str:
    """What the model reads as the pair's second text: the sentence, then (``ctx``) the sentence
    before it or (``title``) its article's title."""
    extra = before if mode == "ctx" else title if mode == "title" else None
    return sentence + SEP + extra if extra else sentence


def pools(depth: int = DEPTH) -> list[dict]:
    """Every cached question (all six sets) with its fold and its best ``depth`` candidates
    under the shipped weights: text, the sentence before it, whether it holds a gold one
    (computed once for the cache's current contents, kept in OUT/pools.json)."""
    import hashlib

    from bench.cvdata import load

    digest = hashlib.sha256()
    for f in sorted(CACHE.parent.glob(CACHE.name + "*.json")):
        digest.update(f.read_bytes())
    stamp = digest.hexdigest()[:16] + f"-{depth}-titled"
    kept = OUT / "pools.json"
    if kept.is_file():
        got = json.loads(kept.read_text())
        if got["stamp"] == stamp:
            return got["pools"]
    from bench.cvtried import before

    rows = load()
    fold = cv.folds(rows)
    base = cv.shipped()
    w = np.array([base.weights.get(f, 0.0) for f in cv.FEATURES], np.float32)
    out = []
    for r, k in zip(rows, fold):
        top = cv.best_distinct(r, r["F"] @ w, depth)
        out.append({"set": r["set"], "q": r["q"], "fold": int(k), "type": r["type"],
                    "texts": [r["texts"][i] for i in top],
                    "before": [before(r, i) for i in top],
                    "title": [cv.article(r, i).title or None for i in top],
                    "labels": [int(r["which"][i].any()) for i in top]})
    OUT.mkdir(parents=True, exist_ok=True)
    kept.write_text(json.dumps({"stamp": stamp, "pools": out}, ensure_ascii=False))
    return out


def groups(ps: list[dict], mode: str) -> list:
    """Training groups: each question's candidates that hold a gold sentence as answers, its
    best-ranked others as negatives (``none`` questions: negatives only)."""
    out = []
    for p in ps:
        cands = [(pair_text(t, b, mode, h), y)
                 for t, b, h, y in zip(p["texts"], p["before"], p["title"], p["labels"])]
        pos = [c for c in cands if c[1]]
        neg = [c for c in cands if not c[1]][:HARD if pos or p["type"] != "none" else UNANSWERED]
        if pos or p["type"] == "none":
            out.append((p["q"], pos + neg))
    return out


def train(mode: str, run: str, epochs: int, lr: float, name: str | None = None) -> None:
    """One fold's model (``run``: the fold left out, or all) reading ``mode``'s pairs; its
    probabilities written as probs-NAME-RUN.json (``name``: default the mode)."""
    import torch

    from bench import train_rerank as tr
    from bench.rerank_training import score_pairs_torch

    torch.set_num_threads(2)
    t0 = time.time()
    ps = pools()
    random.seed(13)
    torch.manual_seed(13)
    # train on the four objective sets only (the one-article sets ask the same questions)
    seen = [p for p in ps if p["set"] in cv.SETS and (run == "all" or p["fold"] != int(run))]
    OUT.mkdir(parents=True, exist_ok=True)
    model = tr.train(groups(seen, mode), {}, epochs=epochs, lr=lr, batch=32, layers=3, keep=3,
                     start=OOF / "weights-base.safetensors", head_factor=5,
                     out=OUT / f"weights-{name or mode}.safetensors" if run == "all" else None)
    probs = {}
    for p in ps if run == "all" else [p for p in ps if p["fold"] == int(run)]:
        texts = [pair_text(t, b, mode, h) for t, b, h in zip(p["texts"], p["before"], p["title"])]
        for t, x in zip(p["texts"], score_pairs_torch(model, p["q"], texts)):
            probs[p["q"] + "\x00" + t] = float(1 / (1 + np.exp(-x)))
    (OUT / f"probs-{name or mode}-{run}.json").write_text(json.dumps(
        {"mode": mode, "run": run, "probs": probs}, ensure_ascii=False))
    log.info("%s %s: %.0f s", name or mode, run, time.time() - t0)


def compare(modes: list[str]) -> None:
    """The shipped ranking with the session-14 out-of-fold probabilities, then with each mode's,
    at a few re-ranker weights; out of fold over the weights as well (bench/cvtried.compare)."""
    from bench.cvdata import load
    from bench.cvoof import OutOfFold
    from bench.cvtried import compare as cmp

    rows = load()
    fold = cv.folds(rows)
    base = cv.shipped()
    ces = {"shipped": OutOfFold()}
    for m in modes:  # candidates a mode's models did not score: the base model, sentence alone
        ces[m] = OutOfFold(OUT, variant=m, fallback=OOF)
    variants = {"shipped 0.2": base}
    for m in modes:
        variants.update({f"{m} {w:g}": replace(base, rerank_weight=w) for w in (0.2, 0.35, 0.5)})
    cmp(rows, fold, variants, lambda name: ces[name.split()[0]])
    for m, ce in ces.items():
        print(f"{m}: {ce.fallbacks} probabilities from the fallback model")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("what", choices=["train", "compare"])
    ap.add_argument("--mode", default="ctx", choices=["ctx", "alone", "title"])
    ap.add_argument("--run", default="0", help="the fold (0-4) left out, or all")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--lr", type=float, default=3e-5)
    ap.add_argument("--name", help="train: the probabilities' name (default: the mode)")
    ap.add_argument("--modes", default="ctx,alone,title", help="compare: the names compared")
    a = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    if a.what == "train":
        train(a.mode, a.run, a.epochs, a.lr, a.name)
    else:
        compare([m for m in a.modes.split(",") if list(OUT.glob(f"probs-{m}-[0-9].json"))])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
