"""Grid search of the ranking weights (qa.tuning.WEIGHTS) on the dev sets only.

    PYTHONPATH=. /work/main/.venv/bin/python -m bench.tune

Every question's features are computed once over candidate sentences (the union of the best few
hundred by each feature); each weight combination is then scored for all questions at once.
(BM25 of the sentence itself, "lex", was in the grid until it weighed 0 at every best point: it
is no longer a feature; BENCHMARKS.md keeps those runs.)
"""
from __future__ import annotations

import itertools
import logging
import os
import sys

import numpy as np

from bench import data
from bench.cache import CachedEncoder
from bench.score import norm

FEATURES = ["dense", "doc", "neighbour", "doc_lex", "title_lex", "speaker", "lead",
            "answer_type", "doc_bm25"]
# Around the chosen weights (qa.tuning.WEIGHTS); wider grids were run while developing (BENCHMARKS.md).
GRID = {"dense": [1.0], "doc": [0.25, 0.5, 0.75], "neighbour": [0.2, 0.3],
        "doc_lex": [0.6, 0.8, 1.0], "title_lex": [0.0, 0.2], "speaker": [1.0], "lead": [0.05, 0.1],
        "answer_type": [0.1, 0.15], "doc_bm25": [0.0]}
CANDIDATES = 300


def prepare(corpus: data.Corpus, encoder) -> list[dict]:
    from qa.index import Index
    from qa.ranking.features import features
    from qa.ranking.kinds import kind

    index = Index.build(corpus.documents, encoder=encoder)
    encoder.save()
    source = index.row_source()  # every row in memory: features of every sentence
    normed = [norm(t) for t in source.texts]
    qvecs = encoder.encode([q.text for q in corpus.questions])
    encoder.save()
    out = []
    for q, qv in zip(corpus.questions, qvecs):
        feats = features(q.text, qv, kind(q.text), source, source.pick(qv, None))
        cand = set()
        for f in ("dense", "doc", "doc_lex", "speaker"):
            cand.update(np.argsort(-feats[f])[:CANDIDATES].tolist())
        cand = np.array(sorted(cand))
        gold = [norm(g) for g in q.gold]
        which = np.full((len(cand), max(1, len(gold))), False)
        for j, g in enumerate(gold):
            for ci, row in enumerate(cand):
                r = normed[row]
                which[ci, j] = bool(r) and (g in r or (r in g and 2 * len(r) >= len(g)))
        out.append({"q": q, "F": np.stack([feats[f][cand] for f in FEATURES], 1), "which": which,
                    "n_gold": len(gold)})
    return out


def evaluate(prepared: list[dict], W: np.ndarray) -> dict[str, np.ndarray]:
    """Metrics per weight row of ``W`` (combos x features), per question type."""
    res: dict[str, list] = {}
    for p in prepared:
        q = p["q"]
        if q.type == "none":
            continue
        S = W @ p["F"].T  # combos x candidates
        any_gold = p["which"].any(1)
        best_gold = np.where(any_gold[None, :], S, -np.inf).max(1)
        rank = 1 + (np.where(~any_gold[None, :], S, -np.inf) > best_gold[:, None]).sum(1)
        rank = np.where(np.isfinite(best_gold), rank, 10 ** 6)
        res.setdefault(f"{q.type}:rr", []).append(np.where(rank <= 10, 1.0 / rank, 0))
        res.setdefault(f"{q.type}:h1", []).append(rank <= 1)
        res.setdefault(f"{q.type}:h5", []).append(rank <= 5)
        if q.type == "quote":
            m = max(5, p["n_gold"])
            thr = -np.partition(-S, m - 1, axis=1)[:, m - 1] if S.shape[1] >= m else \
                np.full(len(S), -np.inf)
            top = S >= thr[:, None]
            found = (top[:, :, None] & p["which"][None, :, :]).any(1).sum(1)
            res.setdefault("quote:recall", []).append(found / p["n_gold"])
    return {k: np.mean(v, 0) for k, v in res.items()}


def top_scores(prepared: list[dict], w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(evidence (qa.tuning.EVIDENCE) of each question's best sentence under weights ``w``,
    whether the question is answerable)."""
    from qa.tuning import EVIDENCE

    e = np.array([EVIDENCE.get(f, 0.0) for f in FEATURES], np.float32)
    return (np.array([float(p["F"][int((p["F"] @ w).argmax())] @ e) for p in prepared]),
            np.array([p["q"].type != "none" for p in prepared]))


def abstention(sets: dict[str, list[dict]], w: np.ndarray) -> None:
    """For thresholds on the best sentence's evidence: share of answerable questions still answered and of
    `none` questions abstained, per dev set."""
    tops = {name: top_scores(p, w) for name, p in sets.items()}
    print("threshold | " + " | ".join(f"{n}: answered, abstained" for n in tops))
    for thr in np.arange(0.70, 1.40, 0.02):
        cells = []
        for name, (top, ok) in tops.items():
            cells.append(f"{(top[ok] >= thr).mean():.3f}, {(top[~ok] < thr).mean():.3f}")
        print(f"{thr:.2f} | " + " | ".join(cells))


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from qa.encoders import load_encoder

    encoder = CachedEncoder(load_encoder())
    wiki = prepare(data.wikiqa("dev"), encoder)
    combos = np.array(list(itertools.product(*[GRID[f] for f in FEATURES])), np.float32)
    w = evaluate(wiki, combos)
    if "--wikiqa-only" in sys.argv:
        order = np.argsort(-w["fact:rr"])
        for i in [*order[:10], 0]:
            print(dict(zip(FEATURES, combos[i].tolist())), f"{w['fact:rr'][i]:.3f} "
                  f"{w['fact:h1'][i]:.3f} {w['fact:h5'][i]:.3f}")
        return 0
    bbc = prepare(data.bbc("dev"), encoder)
    b = evaluate(bbc, combos)
    # one objective: WikiQA MRR, BBC fact and context MRR and hit@5, BBC quote recall
    objective = (w["fact:rr"] + b["fact:rr"] + b["context:h5"] + b["fact:h5"]
                 + b["context:rr"] + 2 * b["quote:recall"]) / 7
    order = np.argsort(-objective)
    print("weights (" + ", ".join(FEATURES) + ") | objective | wiki mrr h1 h5 | bbc fact mrr h1 h5 "
          "| context mrr h5 | quote recall")
    for i in [*order[:15], 0]:
        print(dict(zip(FEATURES, combos[i].tolist())), f"{objective[i]:.3f}",
              f"| {w['fact:rr'][i]:.3f} {w['fact:h1'][i]:.3f} {w['fact:h5'][i]:.3f}",
              f"| {b['fact:rr'][i]:.3f} {b['fact:h1'][i]:.3f} {b['fact:h5'][i]:.3f}",
              f"| {b['context:rr'][i]:.3f} {b['context:h5'][i]:.3f} | {b['quote:recall'][i]:.3f}")
    abstention({"wikiqa-dev": wiki, "bbc-dev": bbc}, combos[order[0]])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
