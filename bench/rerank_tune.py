"""Choose how the cross-encoder re-ranker (qa/ranking/crossencoder.py) combines with the ranker, on dev sets.

    PYTHONPATH=. HF_HUB_OFFLINE=1 .venv/bin/python -m bench.rerank_tune [--weights FILE]

For every WikiQA-dev and BBC-dev question the product's ranker gives its top ``DEPTH`` candidates
once (score, evidence, text); the cross-encoder scores each (question, candidate) pair once; then
every combination of depth and weight is scored offline with the benchmark's rules. Prints three
tables: the answer-kind check (qa/ranking/kinds.py: how deep, what weight) with the re-ranker after it as the
product runs them; depth and weight of the re-ranker alone; abstention rules.
"""
from __future__ import annotations

import argparse
import itertools
import json
import logging
import os
from pathlib import Path

import numpy as np

from bench import data
from bench.cache import CachedEncoder
from bench.score import Tally, first_rank, recall
from qa.storage.files import sha256_file

CACHE = Path(__file__).resolve().parent / "cache"

DEPTH = 30
WEIGHTS = (0.05, 0.1, 0.15, 0.2, 0.25, 0.35, 0.5, 1.0)


def candidates(corpus: data.Corpus, encoder) -> list[dict]:
    from qa.index import Index
    from qa.ranking.features import features
    from qa.ranking.kinds import kind
    from qa.ranking.question import best

    index = Index.build(corpus.documents, encoder=encoder)
    encoder.save()
    source = index.row_source()
    out = []
    for q in corpus.questions:
        query = encoder.inner.encode([q.text])[0]
        picked = source.pick(query, None)  # the ranker's steps of qa.ranking.question.answer
        ranked = best(features(q.text, query, kind(q.text), source, picked), picked,
                      source.rowmap, DEPTH)
        out.append({"q": q, "texts": [source.texts[r.row] for r in ranked],
                    "score": np.array([r.score for r in ranked]),
                    "evidence": np.array([r.evidence for r in ranked])})
    return out


def prob(x):
    return 1 / (1 + np.exp(-x))


def reranked(depth: int, w: float):
    """The order of a question's candidates once the top ``depth`` are re-ranked as
    ``qa.ranking.crossencoder.rerank`` does: ranker score + ``w`` x the cross-encoder's probability (``fitted``
    with no answer-kind weight)."""
    return fitted(DEPTH, 0.0, depth, w)


def fitted(fit_depth: int, f: float, depth: int, w: float):
    """The order once the answer-kind check (qa/ranking/kinds.py) re-scores the top ``fit_depth`` with
    weight ``f`` and the top ``depth`` of that order are re-ranked with weight ``w``, as
    ``qa.ranking.question.answer`` does."""
    def order_of(c):
        n = len(c["texts"])
        m = min(fit_depth, n)
        s = (c["score"][:m] + f * c["fit"][:m]) / (1 + f)
        idx = sorted(range(m), key=lambda i: -s[i])
        head = idx[:depth]
        combined = {i: s[i] + w * prob(c["ce"][i]) for i in head}
        return sorted(head, key=lambda i: -combined[i]) + idx[depth:] + list(range(m, n))
    return order_of


def metrics(cands: list[dict], order_of, answered_of) -> dict:
    tally, by_type, quote, abst, ans = Tally(), {}, [], [], []
    for c in cands:
        q = c["q"]
        order = order_of(c)
        texts = [c["texts"][i] for i in order]
        if q.type == "none":
            abst.append(not answered_of(c, order))
            continue
        ans.append(answered_of(c, order))
        rank = first_rank(q.gold, texts[:10])
        tally.add(rank)
        by_type.setdefault(q.type, Tally()).add(rank)
        if q.type == "quote":
            quote.append(recall(q.gold, texts[:max(5, len(q.gold))]))
    out = {"all": tally.summary()}
    out.update({t: v.summary() for t, v in by_type.items()})
    out["quote_recall"] = float(np.mean(quote)) if quote else None
    out["abstain"] = float(np.mean(abst)) if abst else None
    out["answered"] = float(np.mean(ans)) if ans else None
    return out


def main() -> None:
    from bench.rerank_training import score_pairs_torch
    from qa.encoders import crossencoder as rerank
    from qa.encoders import load_encoder
    from qa.ranking import kinds as fit
    from qa.tuning import RERANK_DEPTH

    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", default=str(rerank.WEIGHTS))
    ap.add_argument("--torch", action="store_true", help="score with the torch model, not ONNX int8")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    encoder = CachedEncoder(load_encoder())
    if args.torch:
        model = rerank.build_torch_model(Path(args.weights))
        score = lambda q, texts: score_pairs_torch(model, q, texts)  # noqa: E731
    else:
        scorer = rerank.Reranker(Path(args.weights), "")
        score = scorer.scores
    sets = {"wikiqa-dev": data.wikiqa("dev"), "bbc-dev": data.bbc("dev")}
    backend = "-torch" if args.torch else ""  # fp32 scores differ from int8: cached apart
    saved = CACHE / f"rerank-{sha256_file(Path(args.weights))[:16]}{backend}-{DEPTH}.json"
    cands = {}
    if saved.is_file():
        rows = json.loads(saved.read_text(encoding="utf-8"))
        for name, corpus in sets.items():
            by_id = {q.id: q for q in corpus.questions}
            cands[name] = [{"q": by_id[r["id"]], "texts": r["texts"],
                            **{k: np.array(r[k], np.float32) for k in ("score", "evidence", "ce")}}
                           for r in rows[name]]
    for name, corpus in sets.items():
        if name in cands:
            continue
        cands[name] = candidates(corpus, encoder)
        for c in cands[name]:
            c["ce"] = np.asarray(score(c["q"].text, c["texts"]), np.float32) if c["texts"] \
                else np.zeros(0, np.float32)
        logging.info("%s: %d questions scored", name, len(cands[name]))
    saved.write_text(json.dumps({name: [{"id": c["q"].id, "texts": c["texts"],
                                         **{k: c[k].tolist() for k in ("score", "evidence", "ce")}}
                                        for c in cs] for name, cs in cands.items()}),
                     encoding="utf-8")

    for cs in cands.values():
        for c in cs:
            c["fit"] = np.array(fit.fit(c["q"].text, c["texts"]), np.float32)
    answered = lambda c, o: bool(len(o)) and c["evidence"][0] >= 1.0  # noqa: E731
    print("| fit depth | fit weight | ce weight | wikiqa mrr | hit@1 | hit@5 | bbc fact hit@1 | "
          "hit@5 | context hit@1 | hit@5 | quote recall |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for fd, f, w in itertools.product((10, 15, 20, 30), (0.0, 0.1, 0.15, 0.2, 0.3), (0.15, 0.2, 0.3)):
        res = {name: metrics(cs, fitted(fd, f, RERANK_DEPTH, w), answered)
               for name, cs in cands.items()}
        wq, bb = res["wikiqa-dev"], res["bbc-dev"]
        print(f"| {fd} | {f} | {w} | {wq['all']['mrr@10']:.3f} | {wq['all']['hit@1']:.3f} | "
              f"{wq['all']['hit@5']:.3f} | {bb['fact']['hit@1']:.3f} | {bb['fact']['hit@5']:.3f} | "
              f"{bb['context']['hit@1']:.3f} | {bb['context']['hit@5']:.3f} | "
              f"{bb['quote_recall']:.3f} |")
    print()

    rows = []
    for depth, w in [(0, 0.0)] + list(itertools.product((5, 10, 15, 20, 30), WEIGHTS)):
        res = {name: metrics(cs, reranked(depth, w), answered) for name, cs in cands.items()}
        rows.append((depth, w, res))
    print("| depth | w | wikiqa mrr | hit@1 | hit@5 | bbc fact hit@1 | hit@5 | context hit@5 | "
          "quote recall |")
    print("|---|---|---|---|---|---|---|---|---|")
    for depth, w, res in rows:
        wq, bb = res["wikiqa-dev"], res["bbc-dev"]
        print(f"| {depth} | {w} | {wq['all']['mrr@10']:.3f} | {wq['all']['hit@1']:.3f} | "
              f"{wq['all']['hit@5']:.3f} | {bb['fact']['hit@1']:.3f} | {bb['fact']['hit@5']:.3f} | "
              f"{bb['context']['hit@5']:.3f} | {bb['quote_recall']:.3f} |")
    # abstention: the best candidate's evidence plus v x its cross-encoder probability
    print("\n| depth | w | v | threshold | wikiqa answered | bbc answered | bbc none abstained | "
          "wikiqa none abstained |")
    print("|---|---|---|---|---|---|---|---|")
    for depth, w in ((10, 1.0), (20, 1.0), (20, 2.0)):
        for v, t in itertools.product((0.0, 0.5, 1.0, 2.0), np.arange(0.6, 2.01, 0.1)):
            def answered(c, o, v=v, t=t):
                return bool(len(o)) and c["evidence"][o[0]] + v * prob(c["ce"][o[0]]) >= t
            res = {name: metrics(cs, reranked(depth, w), answered) for name, cs in cands.items()}
            wq, bb = res["wikiqa-dev"], res["bbc-dev"]
            if min(wq["answered"], bb["answered"]) >= 0.88:
                print(f"| {depth} | {w} | {v} | {t:.1f} | {wq['answered']:.3f} | {bb['answered']:.3f} "
                      f"| {bb['abstain']:.3f} | {wq['abstain']:.3f} |")


if __name__ == "__main__":
    main()
