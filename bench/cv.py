"""Cross-validation of every tuned choice of the question path, folds by article, over every dev
set (WikiQA-dev, BBC dev + dev2, small.jsonl), on the candidate cache of bench/cvdata.py.

    PYTHONPATH=. HF_HUB_OFFLINE=1 /work/main/.venv/bin/python -m bench.cvdata   # once (~5 min)
    PYTHONPATH=. HF_HUB_OFFLINE=1 /work/main/.venv/bin/python -m bench.cv [--fit] [--oof-ce]

(``--oof-ce``: the cross-encoder's probabilities of models that never saw the question,
bench/cvoof.py, instead of the shipped model's, which trained on every dev question.)

The ranking after the candidates is replayed here from the cached features exactly as
qa/ranking/question.py runs it (fused score, the speaker's focus, distinct sentences, the answer
kind's re-scoring, the cross-encoder's re-ordering with its probabilities computed once and kept
in bench/cache/cv-ce-SHA-vN.json, SHA: the weights', N: their int8 recipe), so a choice is varied without running the pipeline again.

For each choice (a weight, a rule's strength): the value chosen on all questions ("in-fold") and,
for each of 5 folds, the value chosen on the other four, scored on the held-out fold
("out-of-fold"); beside them the shipped value and the rule switched off. ``--fit`` fits the
abstention model (qa.tuning.ANSWER_MODEL) on every set of signals compared (decide.signals and
``extra_signals``), beside the fixed evidence threshold, then the weight of ``unseen`` on top of
the shipped evidence cut (bench/cvfit.py).
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import re
from dataclasses import dataclass, field, replace

import numpy as np

from bench import cvsignals
from bench.cvdata import CACHE, FEATURES, load

FOLDS = 5
SETS = ("wikiqa-dev", "bbc-dev", "bbc-dev2", "small")  # the ranking's objective
ONE = ("wikiqa-dev-1", "bbc-1")  # the same questions, each of one article alone (cvdata --one)
K = 10


@dataclass(frozen=True)
class Params:
    weights: dict = field(default_factory=dict)
    focus: float = 1.0
    kind_weight: float = 0.15
    kind_depth: int = 20
    kind_missing: float = 0.1
    kind_found: float = 0.1
    rerank_weight: float = 0.2
    rerank_depth: int = 10
    rerank_skip_speaker: bool = True
    evidence: dict = field(default_factory=dict)


def shipped() -> Params:
    from qa import tuning

    return Params(dict(tuning.WEIGHTS), tuning.FOCUS, tuning.KIND_WEIGHT, tuning.KIND_DEPTH,
                  tuning.KIND_MISSING, tuning.KIND_FOUND, tuning.RERANK_WEIGHT,
                  tuning.RERANK_DEPTH, True,
                  dict(tuning.EVIDENCE))


class CrossEncoder:
    """The shipped cross-encoder's probabilities, each (question, sentence) pair scored once."""

    def __init__(self):
        from qa.encoders.crossencoder import EXPORT_VERSION, WEIGHTS_SHA256

        # probabilities of the shipped weights and int8 recipe: a new one gets a new cache
        self.path = CACHE.with_name(f"cv-ce-{WEIGHTS_SHA256[:12]}-v{EXPORT_VERSION}.json")
        self.memo = json.loads(self.path.read_text()) if self.path.is_file() else {}
        self.model = None
        self.new = 0

    def probs(self, question: str, texts: list[str]) -> np.ndarray:
        keys = [question + "\x00" + t for t in texts]
        missing = [t for k, t in zip(keys, texts) if k not in self.memo]
        if missing:
            if self.model is None:
                from qa.ranking.crossencoder import load

                self.model = load()
            logits = self.model.scores(question, missing)
            for t, x in zip(missing, logits):
                self.memo[question + "\x00" + t] = float(1 / (1 + np.exp(-x)))
            self.new += len(missing)
        return np.array([self.memo[k] for k in keys])

    def save(self):
        if self.new:
            self.path.write_text(json.dumps(self.memo))
            self.new = 0


def keys_of(r: dict) -> list[str]:
    from bench.score import norm

    if "keys" not in r:
        r["keys"] = [norm(t) for t in r["texts"]]
    return r["keys"]


def best_distinct(r: dict, s: np.ndarray, depth: int) -> list[int]:
    """The pool's best ``depth`` rows by ``s``, a sentence's copies (same text) only once."""
    seen, order = set(), []
    keys = keys_of(r)
    for i in np.argsort(-s, kind="stable"):
        if keys[i] in seen:
            continue
        seen.add(keys[i])
        order.append(int(i))
        if len(order) == depth:
            break
    return order


def replay(r: dict, p: Params, ce: CrossEncoder | None, extra: bool = False):
    """One question through the ranker's steps after the features: (rows of the pool best first,
    the question's abstention signals; ``extra``: with those only compared, ``extra_signals``,
    which a ranking choice never reads)."""
    from qa.ranking.decide import signals
    from qa.ranking.fuse import score_scale
    from qa.ranking.kinds import wants

    F = r["F"]
    w = np.array([p.weights.get(f, 0.0) for f in FEATURES], np.float32)
    s = F @ w
    said = F[:, FEATURES.index("speaker")] > 0
    if p.focus and said.any():
        best = np.flatnonzero(said)[np.argmax(s[said])]
        s = s + p.focus * (said & (r["doc"] == r["doc"][best]))
    scale = score_scale(p.weights, p.focus)
    ev = F @ np.array([p.evidence.get(f, 0.0) for f in FEATURES], np.float32)
    k = max(K, r["n_gold"])
    depth = max(k, p.kind_depth, p.rerank_depth)
    order = best_distinct(r, s, depth)
    score = {i: float(s[i]) / scale for i in order}
    evid = {i: float(ev[i]) for i in order}
    first = order[0]
    if p.kind_weight >= 0 and wants(r["q"]) is not None:
        head = order[:max(p.kind_depth, k)]
        for i in head:
            f = float(r["fit"][i])
            score[i] = (score[i] + p.kind_weight * f) / (1 + p.kind_weight)
            evid[i] += -p.kind_missing * (f == 0) + p.kind_found * (f == 1)
        order = sorted(head, key=lambda i: -score[i]) + order[len(head):]
    sig = signals(r["q"], evid[first], [score[i] for i in order], float(F[:, 0].max()),
                  [r["texts"][i] for i in order[:3]], r["dense_mean"], r["dense_std"],
                  r["n_rows"], [evid[i] for i in order], unseen(r, first))
    sig.update({"f_dense": float(F[first, 0]), "f_bm25": float(F[first, FEATURES.index("doc_bm25")]),
                "f_topic": float(F[first, FEATURES.index("topic_miss")]),
                "f_kind": evid[first] - float(ev[first]), "said": float(said[first]),
                "article": float(F[first, FEATURES.index("doc_lex")]),
                "evidence3": max(evid[i] for i in order[:3]),
                "evidence5": max(evid[i] for i in order[:5]),
                "evidence10": max(evid[i] for i in order[:10])})
    if extra:
        sig.update(extra_signals(r, order, first, evid, said, ce, p))
    after = order
    if ce is not None and p.rerank_weight > 0 and not (p.rerank_skip_speaker and said[order[0]]):
        head = order[:p.rerank_depth]
        prob = ce.probs(r["q"], [r["texts"][i] for i in head])
        sc = {i: (score[i] + p.rerank_weight * float(pr)) / (1 + p.rerank_weight)
              for i, pr in zip(head, prob)}
        after = sorted(head, key=lambda i: -sc[i]) + order[len(head):]
    return after[:k], sig


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return float(np.log(p / (1 - p)))


_DOCS: dict = {}


def article(r: dict, row: int):
    """The article (``qa.types.Document``) of pool candidate ``row`` of question ``r``: the
    corpus's documents in the order cvdata indexed them (one-article sets: the article itself)."""
    from bench import data

    if not _DOCS:
        _DOCS["wikiqa-dev"] = data.wikiqa("dev").documents
        _DOCS["bbc"] = data.bbc("dev").documents
        _DOCS["id"] = {d.id: d for d in _DOCS["wikiqa-dev"] + _DOCS["bbc"]}
    if r["set"] == "wikiqa-dev":
        return _DOCS["wikiqa-dev"][int(r["doc"][row])]
    if r["set"] in ("bbc-dev", "bbc-dev2"):
        return _DOCS["bbc"][int(r["doc"][row])]
    return _DOCS["id"][r["corpus"]]


def unseen(r: dict, row: int) -> float:
    """decide.unseen for the article of pool candidate ``row``, through the product's BM25 of
    that article alone (a term scores above 0 exactly where the article holds it). Kept beside
    it, for bench/cvfit.py's comparison: the same count of the names alone (no numbers) and of
    names and numbers but years."""
    from qa.ranking.decide import named, unseen as count
    from qa.ranking.lexical import BM25, terms

    if ("unseen", row) not in r:
        doc = article(r, row)
        bm25 = BM25([terms(doc.title or "") + terms(doc.text)])
        r[("unseen", row)] = count(r["q"], bm25, 0)
        missing = [t for t, held in zip(named(r["q"]), bm25.holds(named(r["q"]), 0)) if not held]
        r[("names", row)] = float(sum(not t[0].isdigit() for t in missing))
        r[("noyear", row)] = float(sum(not re.fullmatch(r"(?:19|20)\d\d", t) for t in missing))
    return r[("unseen", row)]


def extra_signals(r: dict, order: list[int], first: int, evid: dict, said: np.ndarray, ce,
                  p: Params) -> dict[str, float]:
    """Signals issue 18 compared for abstention beyond decide.signals (bench/cvfit.py): the
    cross-encoder's view of the best candidates (its probability for the ranker's best, its best
    and runner-up over the re-ranked head, whether both agree), the best evidence relative to the
    question's own top candidates, the answer-kind check of the best sentence, and for a "what did
    X say" question whether X has statements at all; then the third round's (bench/cvsignals.py)."""
    from qa.ingest.speakers import asked_about
    from qa.ranking.decide import named
    from qa.ranking.kinds import wants

    top = [evid[i] for i in order[:K]]
    ev = evid[first]
    out = {"ev_gap2": ev - sorted(top)[-2] if len(top) > 1 else 0.0,
           "ev_z": (ev - float(np.mean(top))) / float(np.std(top)) if np.std(top) > 1e-6 else 0.0}
    n_named = len(named(r["q"]))
    miss = unseen(r, first)
    out.update({"unseen_any": float(miss > 0),
                "unseen_names": r[("names", first)], "unseen_noyear": r[("noyear", first)],
                "unseen_names_any": float(r[("names", first)] > 0),
                "unseen_noyear_any": float(r[("noyear", first)] > 0),
                "unseen_share": miss / n_named if n_named else 0.0})
    asked = wants(r["q"]) is not None
    f = float(r["fit"][first])
    out.update({"kind_asked": float(asked), "kind_found": float(asked and f == 1),
                "kind_missing": float(asked and f == 0)})
    stmt = bool(asked_about(r["q"]))
    out.update({"stmt": float(stmt), "stmt_unsaid": float(stmt and not said.any()),
                "stmt_said": float(stmt and bool(said.any()))})
    head, prob = [], None
    if ce is not None:
        head = list(order[:p.rerank_depth])
        if first not in head:
            head.append(first)
        prob = ce.probs(r["q"], [r["texts"][i] for i in head])
        srt = np.sort(prob)[::-1]
        pf = float(prob[head.index(first)])
        out.update({"ce_first": pf, "ce_first_logit": _logit(pf),
                    "ce_max": float(srt[0]), "ce_max_logit": _logit(float(srt[0])),
                    "ce_second": float(srt[1]) if len(srt) > 1 else 0.0,
                    "ce_second_logit": _logit(float(srt[1])) if len(srt) > 1 else _logit(0.0),
                    "ce_top1": float(prob[0]), "ce_top1_logit": _logit(float(prob[0])),
                    "ce_agree": float(head[int(np.argmax(prob))] == first),
                    "ce_mean": float(prob.mean())})
    F = r["F"]
    pool_ev = F @ np.array([p.evidence.get(f, 0.0) for f in FEATURES], np.float32)
    out.update(cvsignals.signals(
        r["q"], r["texts"], order, first, evid, pool_ev, F[:, FEATURES.index("dense")],
        F[:, FEATURES.index("doc")], F[:, FEATURES.index("neighbour")],
        lambda row: article_terms(r, row), prob, head))
    return out


def article_terms(r: dict, row: int) -> set[str]:
    """The terms (``lexical.terms``) of the title and text of pool candidate ``row``'s article."""
    from qa.ranking.lexical import terms

    doc = article(r, row)
    if doc.id not in _TERMS:
        _TERMS[doc.id] = set(terms(doc.title or "")) | set(terms(doc.text))
    return _TERMS[doc.id]


_TERMS: dict[str, set[str]] = {}


def metrics(r: dict, top: list[int]) -> dict:
    """The benchmark's rules for one answerable question (bench/score.py)."""
    which = r["which"]
    hits = [bool(which[i].any()) for i in top[:K]]
    rank = hits.index(True) + 1 if True in hits else None
    out = {"rr": 1 / rank if rank else 0.0, "h1": float(rank == 1), "h5": float(bool(rank and rank <= 5))}
    if r["type"] == "quote":
        m = max(5, r["n_gold"])
        out["recall"] = float(which[top[:m]].any(0).mean()) if r["n_gold"] else 0.0
    return out


def utility(r: dict, m: dict) -> float:
    """One number per answerable question: MRR, with hit@5 for context and recall for quotes."""
    if r["type"] == "quote":
        return (m["rr"] + m["recall"]) / 2
    if r["type"] == "context":
        return (m["rr"] + m["h5"]) / 2
    return m["rr"]


def folds(rows: list[dict], n: int = FOLDS, seed: int = 18) -> np.ndarray:
    """Each question's fold, by its article (a question without one is its own group)."""
    groups = sorted({r["group"] for r in rows})
    rng = np.random.default_rng(seed)
    fold_of = dict(zip(groups, rng.permutation(len(groups)) % n))
    return np.array([fold_of[r["group"]] for r in rows])


def run_all(rows, p: Params, ce, extra: bool = False) -> list[tuple[dict | None, dict]]:
    """Each question's metrics (None for a `none` question) and abstention signals (``extra``:
    all that --fit compares, ``replay``)."""
    out = []
    for r in rows:
        top, sig = replay(r, p, ce, extra)
        out.append((metrics(r, top) if r["type"] != "none" else None, sig))
    return out


def objective(rows, results, mask) -> float:
    """Mean over the dev sets of the mean utility of their answerable questions in ``mask``."""
    per = []
    for s in SETS:
        u = [utility(r, m) for r, (m, _), keep in zip(rows, results, mask)
             if keep and r["set"] == s and m is not None]
        if u:
            per.append(np.mean(u))
    return float(np.mean(per))


def table(rows, results, mask=None) -> dict[str, dict[str, float]]:
    mask = np.ones(len(rows), bool) if mask is None else mask
    out = {}
    for s in SETS + ONE:
        ms = [(r, m) for r, (m, _), keep in zip(rows, results, mask)
              if keep and r["set"] == s and m is not None]
        if not ms:
            continue
        t = {"mrr": np.mean([m["rr"] for _, m in ms])}
        for kind, key in (("fact", "h1"), ("fact", "h5"), ("context", "h5"), ("quote", "recall")):
            v = [m[key] for r, m in ms if r["type"] == kind or (kind == "fact" and s == "wikiqa-dev")]
            if v:
                t[f"{kind} {key}"] = float(np.mean(v))
        out[s] = t
    return out


def cross_validate(rows, fold, variants: dict[str, Params], ce) -> dict:
    """For named variants of one choice: each one's results, the in-fold pick (best on all) and
    the out-of-fold results (each fold's questions under the variant best on the other folds)."""
    return picked(rows, fold, {name: run_all(rows, p, ce) for name, p in variants.items()})


def picked(rows, fold, results: dict[str, list]) -> dict:
    """cross_validate's picks over each variant's ``results`` (one per row of ``rows``)."""
    every = np.ones(len(rows), bool)
    score = {name: objective(rows, res, every) for name, res in results.items()}
    in_fold = max(score, key=score.get)
    oof, picks = [None] * len(rows), []
    for f in range(FOLDS):
        train = fold != f
        pick = max(results, key=lambda n: objective(rows, results[n], train))
        picks.append(pick)
        for i in np.flatnonzero(~train):
            oof[i] = results[pick][i]
    return {"results": results, "score": score, "in_fold": in_fold, "picks": picks,
            "oof": oof, "oof_score": objective(rows, oof, every)}


def against(rows, fold, path: str, p: Params, ce) -> dict:
    """The features of this tree's cache against those of another's (``path``: its cv2.json,
    cv2-one.json beside it), as one choice: each question ranked from either cache with the
    same ``p``, picked per fold like any other choice. Questions are matched by set and id."""
    from pathlib import Path

    other = {(r["set"], r["id"]): r for r in load(Path(path).with_suffix(""))}
    mine = [r for r in rows if (r["set"], r["id"]) in other]
    if len(mine) != len(rows):
        raise SystemExit(f"{path} lacks {len(rows) - len(mine)} of this cache's questions: "
                         "build both with the same bench.cvdata")
    cv = picked(rows, fold, {"against": run_all([other[(r["set"], r["id"])] for r in rows], p, ce),
                             "this": run_all(rows, p, ce)})
    for name in ("against", "this"):
        print(f"{name}:", fmt_table(table(rows, cv["results"][name])),
              f"objective {cv['score'][name]:.3f}")
    print("out of fold:", fmt_table(table(rows, cv["oof"])), f"objective {cv['oof_score']:.3f}",
          "picks", ",".join(cv["picks"]))
    return cv


def choices(base: Params) -> dict[str, dict[str, Params]]:
    """Each tuned choice with the values tried: the shipped one, 0 (off), and a few around."""
    out = {}
    for f, v in base.weights.items():
        if f in ("dense", "in_article", "speaker"):  # in_article and speaker: below
            continue
        out[f"weight {f}"] = {f"{x:g}": replace(base, weights={**base.weights, f: x})
                              for x in sorted({0.0, v / 2, v, v * 2})}
    rest = {f: w for f, w in base.weights.items() if f not in ("dense", "in_article")}
    out["cosine read in the article (dense 1 - b, in_article b)"] = {
        f"{b:g}": replace(base, weights={**rest, **{f: w for f, w in
                                                    (("dense", 1.0 - b), ("in_article", b)) if w}})
        for b in (0.0, 0.25, 0.5, 0.75, 1.0)}
    out["passage (mention, chain)"] = {
        f"{a:g},{b:g}": replace(base, weights={**base.weights, "mention": a, "chain": b})
        for a in (0.0, 0.25, 0.5, 1.0) for b in (0.0, 0.5, 1.0, 1.5, 2.0)}
    # the speaker weight and the focus both lift the asked person's statements: one choice, as
    # each picked alone by a fold with the other left on, both could be merged off together
    speaker = base.weights.get("speaker", 0.0)
    out["speaker (weight, focus)"] = {
        f"{w:g},{x:g}": replace(base, weights={**base.weights, "speaker": w}, focus=x)
        for w in sorted({0.0, speaker / 2, speaker, speaker * 2})
        for x in (0.0, 0.5, 1.0, 2.0)}
    out["kind re-score"] = {f"{x:g}": replace(base, kind_weight=x) for x in (0.0, 0.15, 0.3)}
    out["kind depth"] = {f"{x}": replace(base, kind_depth=x) for x in (10, 20, 30)}
    out["re-ranker weight"] = {f"{x:g}": replace(base, rerank_weight=x)
                               for x in (0.0, 0.1, 0.2, 0.35, 0.5)}
    out["re-ranker depth"] = {f"{x}": replace(base, rerank_depth=x) for x in (5, 10, 20)}
    out["re-ranker skipped for the speaker's statement"] = {
        "no": replace(base, rerank_skip_speaker=False), "yes": base}
    return out


def retired(base: Params, names: list[str]) -> Params:
    """``base`` with the weights ``names`` at 0 ("focus": the speaker's focus off)."""
    return replace(base, weights={f: (0.0 if f in names else v) for f, v in base.weights.items()},
                   focus=0.0 if "focus" in names else base.focus)


def merged(base: Params, chosen: list[Params]) -> Params:
    """``base`` with every field (every weight) that one of ``chosen`` changed from it."""
    from dataclasses import fields

    p = base
    for v in chosen:
        for f in fields(Params):
            new, old = getattr(v, f.name), getattr(base, f.name)
            if f.name == "weights":
                p = replace(p, weights={**p.weights, **{k: x for k, x in new.items()
                                                        if old.get(k) != x}})
            elif new != old:
                p = replace(p, **{f.name: new})
    return p


def whole(rows, fold, base: Params, ce) -> list:
    """Out of fold for the whole configuration: for each fold, every choice set to the value
    best on the other folds (each choice on its own, the others as shipped), all together, and
    the held-out fold's questions ranked so."""
    every = choices(base)
    cvs = {name: cross_validate(rows, fold, v, ce) for name, v in every.items()}
    out = [None] * len(rows)
    for f in range(FOLDS):
        p = merged(base, [every[name][cv["picks"][f]] for name, cv in cvs.items()])
        held = [i for i in range(len(rows)) if fold[i] == f]
        res = run_all([rows[i] for i in held], p, ce)
        for i, r in zip(held, res):
            out[i] = r
    return out


def fmt_table(t: dict) -> str:
    return "; ".join(f"{s}: " + ", ".join(f"{k} {v:.3f}" for k, v in m.items()) for s, m in t.items())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--fit", action="store_true", help="fit and compare the abstention model")
    ap.add_argument("--only", help="cross-validate only choices whose name contains this")
    ap.add_argument("--table", action="store_true",
                    help="the whole configuration out of fold beside as shipped and plain")
    ap.add_argument("--kind-missing", type=float,
                    help="with --fit: evidence taken away for no fit (shipped: KIND_MISSING)")
    ap.add_argument("--kind-found", type=float,
                    help="with --fit: evidence added for a full fit (shipped: KIND_FOUND)")
    ap.add_argument("--oof-ce", action="store_true",
                    help="the cross-encoder's probabilities out of fold (bench/cvoof.py), not the "
                    "shipped model's, which trained on these questions")
    ap.add_argument("--against", metavar="CV2_JSON",
                    help="this cache's features against another tree's cache (its cv2.json), "
                    "as one choice, shipped weights for both")
    ap.add_argument("--retire", help="comma-separated weights (or 'focus') to set to 0 together, "
                    "cross-validated against the shipped values as one choice")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    rows = load()
    fold = folds(rows)
    if args.oof_ce:
        from bench.cvoof import OutOfFold

        ce = OutOfFold()
    else:
        ce = CrossEncoder()
    base = shipped()
    print(f"{len(rows)} questions: " + ", ".join(
        f"{s} {sum(r['set'] == s for r in rows)}" for s in SETS))
    plain = replace(base, weights={"dense": 1.0}, focus=0.0, kind_weight=-1, rerank_weight=0.0)
    res = run_all(rows, plain, ce)
    print("plain embeddings:", fmt_table(table(rows, res)), f"objective {objective(rows, res, fold >= 0):.3f}")
    res = run_all(rows, base, ce, extra=args.fit)
    ce.save()
    print("shipped:", fmt_table(table(rows, res)), f"objective {objective(rows, res, fold >= 0):.3f}")
    if args.against:
        against(rows, fold, args.against, base, ce)
        ce.save()
        return 0
    if args.table:
        oof = whole(rows, fold, base, ce)
        ce.save()
        print("whole configuration, out of fold:", fmt_table(table(rows, oof)),
              f"objective {objective(rows, oof, fold >= 0):.3f}")
        return 0
    if args.fit:
        from bench.cvfit import report

        found = base.kind_found if args.kind_found is None else args.kind_found
        missing = base.kind_missing if args.kind_missing is None else args.kind_missing
        if (missing, found) != (base.kind_missing, base.kind_found):
            res = run_all(rows, replace(base, kind_missing=missing, kind_found=found), ce,
                          extra=True)
        report(rows, fold, res, args.only)
        from bench.cvfit import GRID, PENALTY_SIGNALS, SIGNED, penalty, stacked, trees

        for signal in PENALTY_SIGNALS if args.oof_ce else ("unseen", "unseen_any", "unseen_noyear"):
            penalty(rows, fold, res, signal, GRID if signal.startswith("unseen") else SIGNED)
        stacked(rows, fold, res, ("unseen",))
        stacked(rows, fold, res)
        if args.oof_ce:
            trees(rows, fold, res)
        return 0
    print("\n| choice | shipped | off | objective: shipped / off / in-fold best | "
          "out-of-fold | fold picks |\n|---|---|---|---|---|---|")
    every = choices(base)
    if args.retire:
        every = {f"retire {args.retire}": {"retired": retired(base, args.retire.split(",")),
                                           "shipped": base}}
    for name, variants in every.items():
        if args.only and args.only not in name:
            continue
        cv = cross_validate(rows, fold, variants, ce)
        ce.save()
        names = list(variants)
        ship = next(n for n, p in variants.items() if p == base)
        if args.retire:
            for label in names:
                print(label, "all:", fmt_table(table(rows, cv["results"][label])))
            print("out-of-fold:", fmt_table(table(rows, cv["oof"])))
        off = names[0]
        sc = cv["score"]
        print(f"| {name} | {ship} | {off} | {sc[ship]:.3f} / {sc[off]:.3f} / "
              f"{sc[cv['in_fold']]:.3f} ({cv['in_fold']}) | {cv['oof_score']:.3f} | "
              f"{','.join(cv['picks'])} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
