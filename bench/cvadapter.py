"""Issue 18, session 18: a query adapter learned out of fold, tried and not kept.

The answers the ranker misses hold few of the question's words ("Which country held up the EU's
software patent directive again?" - "The fresh delay came after Polish officials had raised
concerns"). A linear map of the question's vector, q' = unit(q + M q), learned on dev questions,
could move "which country" toward sentences naming one without re-embedding any sentence: one
384 x 384 product a question. For each fold, M is learned on the other folds' answerable
questions (the four objective sets), softmax over each question's cached pool of the shipped
fused score with the cosines (``dense``, ``doc``, ``in_article``) read from q', gold rows as the
answers, L2 penalty ``lam`` on M, logits times ``tau``; the fold's questions (all six sets) are
then ranked with their fold's M. Every row below is out of fold already; bench/cv.py's picks
choose among them per fold as well.

    PYTHONPATH=. HF_HUB_OFFLINE=1 .venv/bin/python -m bench.cvadapter --lam 0.01,0.1 --tau 10,20
"""
from __future__ import annotations

import argparse
import logging
import os

import numpy as np

from bench import cv
from bench.cvtried import compare_results

STEPS, LR = 150, 2e-3


def unit(x) -> np.ndarray:
    x = np.asarray(x, np.float32)
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-9)


def vectors(rows) -> tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
    """The questions' vectors, and per question its pool's sentence vectors and their articles'
    centroids (unit sum of the article's sentence vectors, as qa/ranking/corpusdata.py)."""
    from bench.cache import CachedEncoder
    from qa.encoders import load_encoder
    from qa.ingest.splitter import split_document

    enc = CachedEncoder(load_encoder())
    centroids: dict[str, np.ndarray] = {}

    def centroid(doc) -> np.ndarray:
        if doc.id not in centroids:
            spans, _ = split_document(doc.text)
            v = np.asarray(enc.encode([doc.text[s.start:s.end] for s in spans]), np.float32)
            centroids[doc.id] = unit(v.sum(0))
        return centroids[doc.id]

    q = unit(enc.encode([r["q"] for r in rows]))
    pools = [(unit(enc.encode(r["texts"])),
              np.stack([centroid(cv.article(r, i)) for i in range(len(r["texts"]))]))
             for r in rows]
    enc.save()
    return q, pools


_COSINES = ("dense", "doc", "in_article")


def learn(rows, q, pools, idx: list[int], weights: np.ndarray, lam: float, tau: float) -> np.ndarray:
    """M learned on questions ``idx`` (see the module's docstring)."""
    import torch

    torch.manual_seed(0)
    at = [cv.FEATURES.index(f) for f in _COSINES]
    wd, wc, wa = (float(weights[i]) for i in at)
    n = max(len(rows[i]["texts"]) for i in idx)

    def pad(arrays) -> "torch.Tensor":
        out = np.zeros((len(arrays), n) + arrays[0].shape[1:], np.float32)
        for k, a in enumerate(arrays):
            out[k, :len(a)] = a
        return torch.tensor(out)

    s = pad([pools[i][0] for i in idx])
    c = pad([pools[i][1] for i in idx])
    rest = pad([rows[i]["F"] @ weights - rows[i]["F"][:, at] @ weights[at] for i in idx])
    gold = pad([rows[i]["which"].any(1).astype(np.float32) for i in idx]) > 0
    valid = pad([np.ones(len(rows[i]["texts"]), np.float32) for i in idx]) > 0
    norm = torch.sqrt(2 + 2 * (s * c).sum(-1))
    qs = torch.tensor(q[idx])
    m = torch.zeros(q.shape[1], q.shape[1], requires_grad=True)
    opt = torch.optim.Adam([m], lr=LR)
    for _ in range(STEPS):
        qa = qs + qs @ m.T
        qa = qa / qa.norm(dim=-1, keepdim=True)
        d, dc = (s @ qa[:, :, None])[..., 0], (c @ qa[:, :, None])[..., 0]
        # features.in_article, in torch
        z = (tau * (rest + wd * d + wc * dc + wa * (d + dc) / norm)).masked_fill(~valid, -1e9)
        loss = (torch.logsumexp(z, 1) - torch.logsumexp(z.masked_fill(~gold, -1e9), 1)).mean()
        opt.zero_grad()
        (loss + lam * (m ** 2).sum()).backward()
        opt.step()
    return m.detach().numpy()


def adapted(rows, q, pools, fold, ms) -> list[dict]:
    """Each cached question with its cosines read from its fold's adapted question vector."""
    from qa.ranking.features import in_article

    out = []
    at = [cv.FEATURES.index(f) for f in _COSINES]
    for k, (r, (s, c)) in enumerate(zip(rows, pools)):
        qa = unit(q[k] + ms[fold[k]] @ q[k])
        F = r["F"].copy()
        d, dc = s @ qa, c @ qa
        F[:, at] = np.stack([d, dc, in_article(d, dc, (s * c).sum(1))], 1)
        out.append({**r, "F": F})
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lam", default="0.001,0.01,0.1")
    ap.add_argument("--tau", default="10,20")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from bench.cvoof import OutOfFold

    rows = cv.load()
    fold = cv.folds(rows)
    base = cv.shipped()
    weights = np.array([base.weights.get(f, 0.0) for f in cv.FEATURES], np.float32)
    q, pools = vectors(rows)
    train = [k for k, r in enumerate(rows)
             if r["set"] in cv.SETS and r["type"] != "none" and r["which"].any()]
    ce = OutOfFold()
    results = {"shipped": cv.run_all(rows, base, ce)}
    for lam in map(float, args.lam.split(",")):
        for tau in map(float, args.tau.split(",")):
            ms = [learn(rows, q, pools, [k for k in train if fold[k] != f], weights, lam, tau)
                  for f in range(cv.FOLDS)]
            results[f"lam {lam:g} tau {tau:g}"] = cv.run_all(adapted(rows, q, pools, fold, ms),
                                                             base, ce)
    compare_results(rows, fold, results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
