"""Issue 18, sessions 16 and 18: ranking changes tried on bench/cv.py's replay and not kept.

    PYTHONPATH=. HF_HUB_OFFLINE=1 .venv/bin/python -m bench.cvtried ctx-ce        # re-ranker reads the sentence before
    PYTHONPATH=. HF_HUB_OFFLINE=1 .venv/bin/python -m bench.cvtried temperature   # softened re-ranker probabilities
    PYTHONPATH=. HF_HUB_OFFLINE=1 .venv/bin/python -m bench.cvtried prev          # the sentence before, gated by how a sentence opens
    PYTHONPATH=. HF_HUB_OFFLINE=1 .venv/bin/python -m bench.cvtried weights       # the weights every fold re-picks, together
    PYTHONPATH=. HF_HUB_OFFLINE=1 .venv/bin/python -m bench.cvtried depth         # more candidates re-ranked
    PYTHONPATH=. HF_HUB_OFFLINE=1 .venv/bin/python -m bench.cvtried topic         # the speaker's statements by the topic alone
    PYTHONPATH=. HF_HUB_OFFLINE=1 .venv/bin/python -m bench.cvtried name-kind     # "where" / "which country" wanting a new name (session 18)
    PYTHONPATH=. HF_HUB_OFFLINE=1 .venv/bin/python -m bench.cvtried heads         # ranker, cross-encoder, blend: who is right first (session 18)

Each prints every variant's figures on all questions (in fold), the out-of-fold result of
choosing among them per fold (5 folds by article, bench/cv.py), and the mean utility pooled over
every answerable question of all six sets (the objective averages four sets, so small.jsonl's 36
answerable questions weigh as much as WikiQA-dev's 126: a change that wins it a few questions
moves the objective more than the pooled mean). Cross-encoder: out of fold (bench/cvoof.py), but
``ctx-ce``, which needs a model to read new text: the ``base`` one, trained on no dev question.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import re
from dataclasses import replace

import numpy as np

from bench import cv
from bench.cvdata import CACHE
from bench.cvoof import FOLDER, OutOfFold

_SPLIT: dict = {}


def before(r: dict, i: int) -> str | None:
    """The sentence before pool candidate ``i`` in its article as the product splits it (None for
    an article's first sentence)."""
    from bench.score import norm
    from qa.ingest.splitter import split_document

    doc = cv.article(r, i)
    if doc.id not in _SPLIT:
        spans, _ = split_document(doc.text)
        sents = [doc.text[s.start:s.end] for s in spans]
        _SPLIT[doc.id] = (sents, {norm(s): k for k, s in reversed(list(enumerate(sents)))})
    sents, where = _SPLIT[doc.id]
    k = where.get(norm(r["texts"][i]))
    return sents[k - 1] if k else None


def head(r: dict, base: cv.Params, depth: int) -> list[int]:
    s = r["F"] @ np.array([base.weights.get(f, 0.0) for f in cv.FEATURES], np.float32)
    return [int(i) for i in np.argsort(-s)[:depth]]


def pooled(rows, results) -> tuple[float, int]:
    """The mean utility over every answerable question of ``rows``, and how many there are."""
    u = [cv.utility(r, m) for r, (m, _) in zip(rows, results) if m is not None]
    return float(np.mean(u)), len(u)


def compare(rows, fold, variants: dict, ce_of=None) -> None:
    """Every variant on all questions, out of fold (``cv.picked``), and pooled (``ce_of(name)``:
    the cross-encoder a variant ranks with; default one out-of-fold model for all)."""
    ce = OutOfFold() if ce_of is None else None
    results = {name: cv.run_all(rows, p, ce if ce_of is None else ce_of(name))
               for name, p in variants.items()}
    if ce is not None:
        ce.save()
    compare_results(rows, fold, results)


def compare_results(rows, fold, results: dict) -> None:
    """``compare``'s report for variants already run (``cv.run_all`` of each)."""
    for name, res in results.items():
        mean, n = pooled(rows, res)
        print(f"{name}: objective {cv.objective(rows, res, np.ones(len(rows), bool)):.3f}"
              f", pooled {mean:.4f} ({n} q):", cv.fmt_table(cv.table(rows, res)), flush=True)
    out = cv.picked(rows, fold, results)
    print(f"out of fold (picks {out['picks']}): objective {out['oof_score']:.3f}, pooled "
          f"{pooled(rows, out['oof'])[0]:.4f}:", cv.fmt_table(cv.table(rows, out["oof"])))


def add_features(rows, names: list[str], columns: list[np.ndarray]) -> None:
    """New feature columns, one (rows, len(names)) array per cached question, added to the
    replay, out of the score's scale as the passage's are (qa/ranking/fuse.py UNSCALED)."""
    import qa.ranking.fuse as fuse

    for r, col in zip(rows, columns):
        r["F"] = np.hstack([r["F"], col])
    cv.FEATURES = list(cv.FEATURES) + names
    fuse.UNSCALED = tuple(fuse.UNSCALED) + tuple(names)


class BaseWithContext:
    """The ``base`` cross-encoder's probabilities for (question, sentence), (question, sentence
    before + sentence) ("ctx"), or the max or mean of both."""

    path = CACHE.with_name("cv-ce-ctx-base.json")

    def __init__(self, prev: dict, mode: str):
        from qa.encoders.crossencoder import Reranker

        self.model = Reranker(FOLDER / "weights-base.safetensors", expected_sha256="")
        self.memo = json.loads(self.path.read_text()) if self.path.is_file() else {}
        self.prev, self.mode = prev, mode

    def _p(self, question: str, texts: list[str]) -> np.ndarray:
        keys = [question + "\x00" + t for t in texts]
        missing = list(dict.fromkeys(t for k, t in zip(keys, texts) if k not in self.memo))
        for t, x in zip(missing, self.model.scores(question, missing) if missing else []):
            self.memo[question + "\x00" + t] = float(1 / (1 + np.exp(-float(x))))
        return np.array([self.memo[k] for k in keys])

    def probs(self, question: str, texts: list[str]) -> np.ndarray:
        alone = self._p(question, texts)
        if self.mode == "alone":
            return alone
        ctx = self._p(question, [((self.prev.get((question, t)) or "") + " " + t).strip()
                                 for t in texts])
        return {"ctx": ctx, "max": np.maximum(alone, ctx), "mean": (alone + ctx) / 2}[self.mode]

    def save(self) -> None:
        self.path.write_text(json.dumps(self.memo))


def ctx_ce(rows, fold, base) -> None:
    prev = {(r["q"], r["texts"][i]): before(r, i) for r in rows for i in head(r, base, 40)}
    ces = {m: BaseWithContext(prev, m) for m in ("alone", "ctx", "max", "mean")}
    variants = {f"{m} {w:g}": replace(base, rerank_weight=w)
                for m in ces for w in (0.2, 0.35, 0.5)}
    compare(rows, fold, variants, lambda name: ces[name.split()[0]])
    ces["mean"].save()


class Softened:
    """Out-of-fold probabilities with their logits divided by ``t``."""

    def __init__(self, inner: OutOfFold, t: float):
        self.inner, self.t = inner, t

    def probs(self, question: str, texts: list[str]) -> np.ndarray:
        p = np.clip(self.inner.probs(question, texts), 1e-6, 1 - 1e-6)
        return 1 / (1 + np.exp(-np.log(p / (1 - p)) / self.t))


def temperature(rows, fold, base) -> None:
    inner = OutOfFold()
    ces = {t: Softened(inner, t) for t in (1, 4, 8, 16)}
    variants = {f"T{t} {w:g}": replace(base, rerank_weight=w)
                for t in ces for w in (0.2, 0.35, 0.5, 0.75, 1.0, 1.5)}
    compare(rows, fold, variants, lambda name: ces[int(name.split()[0][1:])])
    inner.save()


_PRONOUN = {"he", "she", "it", "they", "his", "her", "its", "their", "this", "these", "those",
            "we", "i", "there"}


def opens_leaning(text: str, the: bool) -> bool:
    """Does the sentence open with a pronoun or demonstrative (``the``: or "The"), i.e. lean on
    what came before it?"""
    w = re.findall(r"[A-Za-z']+", text[:40].lower())
    return bool(w) and (w[0] in _PRONOUN or (the and w[0] == "the"))


def with_prev(rows, base) -> None:
    """Three features added to every cached row (``add_features``): the question's cosine with the sentence before
    (0 for an article's first), and the same where the sentence opens with a pronoun (or "The")."""
    from bench.cache import CachedEncoder
    from qa.encoders import load_encoder

    enc = CachedEncoder(load_encoder())
    qv = np.asarray(enc.encode([r["q"] for r in rows]), np.float32)
    prevs = [{i: before(r, i) for i in head(r, base, 120)} for r in rows]
    texts = sorted({t for o in prevs for t in o.values() if t})
    tv = np.asarray(enc.encode(texts), np.float32)
    enc.save()
    at = {t: j for j, t in enumerate(texts)}
    columns = []
    for r, o, q in zip(rows, prevs, qv):
        col = np.zeros((len(r["texts"]), 3), np.float32)
        for i, t in o.items():
            v = float(tv[at[t]] @ q) if t else 0.0
            col[i] = (v, v * opens_leaning(r["texts"][i], False), v * opens_leaning(r["texts"][i], True))
        columns.append(col)
    add_features(rows, ["prev", "prev_pronoun", "prev_the"], columns)


def prev(rows, fold, base) -> None:
    with_prev(rows, base)
    variants = {"shipped": base}
    for f in ("prev", "prev_pronoun", "prev_the"):
        variants.update({f"{f} {w:g}": replace(base, weights={**base.weights, f: w})
                         for w in (0.1, 0.2, 0.3)})
    compare(rows, fold, variants)


def topic(rows, fold, base) -> None:
    """Issue 18 item 3 (a): the asked person's statements ordered by the question's topic, a
    feature added to every cached row: cosine(the topic alone, "Y" of "what did X say about
    Y", with the sentence) on the candidates the pass gives to X, 0 elsewhere."""
    from bench.cache import CachedEncoder
    from qa.encoders import load_encoder
    from qa.ingest.speakers import asked_topic

    enc = CachedEncoder(load_encoder())
    said = cv.FEATURES.index("speaker")
    columns = []
    for r in rows:
        col = np.zeros((len(r["texts"]), 1), np.float32)
        t = asked_topic(r["q"])
        if t and (r["F"][:, said] > 0).any():
            v = np.asarray(enc.encode([t] + list(r["texts"])), np.float32)
            v /= np.linalg.norm(v, axis=1, keepdims=True)
            col[:, 0] = (v[1:] @ v[0]) * (r["F"][:, said] > 0)
        columns.append(col)
    enc.save()
    add_features(rows, ["topic"], columns)
    compare(rows, fold, {f"topic {w:g}": replace(base, weights={**base.weights, "topic": w})
                         for w in (0.0, 0.25, 0.5, 1.0, 2.0)})


def weights(rows, fold, base) -> None:
    w = base.weights
    variants = {"shipped": base,
                "answer_type 0.3": replace(base, weights={**w, "answer_type": 0.3}),
                "doc_lex 2": replace(base, weights={**w, "doc_lex": 2.0}),
                "both": replace(base, weights={**w, "answer_type": 0.3, "doc_lex": 2.0}),
                "both, title_lex 0": replace(base, weights={**w, "answer_type": 0.3,
                                                            "doc_lex": 2.0, "title_lex": 0.0})}
    compare(rows, fold, variants)


def depth(rows, fold, base) -> None:
    compare(rows, fold, {f"depth {d}": replace(base, rerank_depth=d) for d in (10, 15, 20)})


def name_kind(rows, fold, base) -> None:
    """Session 18: "where" and "which country / team ..." questions (and "who", second variant)
    given a fine answer kind, ``name``, for the kind re-score (qa/ranking/kinds.py rescore): a
    candidate fits (1) when it holds a capitalised word the question lacks, as the abstention's
    ``holds_asked`` reads it, else 0. The kind module is swapped for the replay only."""
    from qa.ranking import kinds

    ce = OutOfFold()
    results = {"shipped": cv.run_all(rows, base, ce)}
    shipped_wants = kinds.wants
    for label, who in (("where / which X", False), ("who, where / which X", True)):
        asks = {r["q"] for r in rows if shipped_wants(r["q"]) is None
                and kinds._ASKS_NAME.search(r["q"]) and (who or not kinds._WANTS_NAME.search(r["q"]))}
        kept = [r["fit"] for r in rows]
        for r in rows:
            if r["q"] in asks:
                r["fit"] = np.array([float(kinds.holds_asked(r["q"], t)) for t in r["texts"]],
                                    np.float32)
        kinds.wants = lambda q: "name" if q in asks else shipped_wants(q)
        try:
            results[label] = cv.run_all(rows, base, ce)
        finally:
            kinds.wants = shipped_wants
            for r, f in zip(rows, kept):
                r["fit"] = f
        print(f"{label}: {len(asks)} questions given the name kind")
    compare_results(rows, fold, results)


def heads(rows, fold, base) -> None:
    """Session 18: for each answerable question whose gold sentence is among the best
    ``base.rerank_depth`` the ranker gives the cross-encoder, whether the ranker's first, the
    cross-encoder's first and the blend's first hold it (out-of-fold cross-encoder): how much
    re-weighting the two could still win."""
    from collections import Counter

    ce = OutOfFold()
    alone = replace(base, rerank_weight=0.0)
    count: Counter = Counter()
    for r in rows:
        if r["type"] == "none" or r["set"] not in cv.SETS:
            continue
        head = cv.replay(r, alone, None)[0][:base.rerank_depth]
        if not any(r["which"][i].any() for i in head):
            count[r["set"], "gold not in the re-ranked head"] += 1
            continue
        p = ce.probs(r["q"], [r["texts"][i] for i in head])
        blend = cv.replay(r, base, ce)[0]
        firsts = (head[0], head[int(np.argmax(p))], blend[0])
        count[r["set"], "ranker %d, cross-encoder %d, blend %d"
              % tuple(bool(r["which"][i].any()) for i in firsts)] += 1
    for key in sorted(count):
        print(*key, count[key], sep="\t")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("what", choices=("ctx-ce", "temperature", "prev", "weights", "depth", "topic",
                                     "name-kind", "heads"))
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    rows = cv.load()
    run = {"ctx-ce": ctx_ce, "temperature": temperature, "prev": prev, "weights": weights,
           "depth": depth, "topic": topic, "name-kind": name_kind, "heads": heads}
    run[args.what](rows, cv.folds(rows), cv.shipped())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
