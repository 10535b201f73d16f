"""Deciding whether the retrieved sentences answer the question at all.

One rule for every corpus size, from one article to a million sentences: a small logistic model
(``tuning.ANSWER_MODEL``: plain numbers, chosen by cross-validation with folds by article over every
dev set at three sizes - one article, WikiQA-dev's 2.7k sentences, BBC's 40k - bench/cv.py --fit)
over what the question's own candidates show (``signals``). Two signals carried out of fold and
weigh: the evidence of the ranker's best candidate (its cosine plus BM25 of its article,
``tuning.EVIDENCE``), and ``unseen``, the names and numbers of the question that candidate's article
never mentions ("How much did News Corporation pay for MySpace?" over an article on News Corporation
that never names MySpace: the near misses BBC's `none` questions are). A third, ``margin``, carried
once the ranking read sentences in their articles: how far the best candidate's score stands above
the second's (an answer stands out; a near miss is one of several alike). ``asked_absent`` (a
question that asks who, when, how many ... whose best sentence holds no new item of that kind)
carried weakly in issue 18's third round and was retired when it no longer did. The others (score,
the best cosine's z-score among every ranked row, coverage of the question's words, corpus size,
lengths, the evidence's gap to the GAP_DEPTH-th candidate) weigh 0. The corpus answers when the
log-odds reach 0; the evidence cut is held at 1.0, below the fit's 1.023, for the shipped article
(tuning.py says why). The re-ranker orders candidates but does not decide this: its probabilities
are higher for topical sentences of questions the corpus cannot answer than for answers (measured on
the dev `none` questions, BENCHMARKS.md "Quality").
"""
from __future__ import annotations

import math
import re
from typing import Callable, Sequence

import numpy as np

from ..tuning import ANSWER_MODEL, COSINE_THRESHOLD, GAP_DEPTH
from ..types import Hit
from .kinds import holds_asked
from .lexical import terms


# What a question names: a capitalised word after its first (a name, a place, a title) or a number.
_NAMED = re.compile(r"(?<!^)(?<![\w'’\-])[A-Z][\w'’\-]*|\b\d[\w.,]*")


def named(question: str) -> list[str]:
    """The terms of the names and numbers ``question`` holds (``lexical.terms``, once each)."""
    return list(dict.fromkeys(t for w in _NAMED.findall(question.strip()) for t in terms(w)))


def unseen(question: str, articles, doc: int) -> float:
    """How many of the names and numbers ``question`` holds (``named``) article ``doc`` never
    mentions, in its title or text (``articles``: the corpus's article BM25,
    ``corpusdata.CorpusData.articles``): "How much did News Corporation pay for MySpace?" over an
    article on News Corporation that never names MySpace is 1."""
    return float(sum(not held for held in articles.holds(named(question), doc)))


def spread(dense: np.ndarray) -> tuple[float, float]:
    """The mean and standard deviation of the cosines of every row a question ranked."""
    if not len(dense):
        return 0.0, 0.0
    return float(dense.mean()), float(dense.std())


def signals(question: str, evidence: float, scores: Sequence[float], best_dense: float,
            texts: Sequence[str], dense_mean: float, dense_std: float, rows: int,
            evidences: Sequence[float] = (), unseen: float = 0.0) -> dict[str, float]:
    """The model's inputs for one question: ``evidence`` of the ranker's best candidate,
    ``scores`` of the best candidates (best first, 0 to 1), ``best_dense`` their best cosine,
    ``texts`` the best few sentences, the mean and spread of every ranked row's cosine, the
    corpus's ``rows``, ``evidences`` of the best candidates (best first, after the kind check) and
    ``unseen`` (what the question names that the best candidate's article never mentions:
    ``unseen``); ``asked_absent`` is 1 when the question asks for a kind of answer (a name, a
    date, a count ...) that the best of ``texts`` does not hold (``kinds.holds_asked``; retired,
    bench.cvfit still compares it). (The model weighs only some of them:
    ``tuning.ANSWER_MODEL``; bench/cv.py compared them all.)"""
    asked = set(terms(question))
    held = set().union(*(terms(t) for t in texts[:3])) if texts else set()
    deep = list(evidences[:GAP_DEPTH])
    return {
        "evidence": float(evidence),
        "score": float(scores[0]) if len(scores) else 0.0,
        "margin": float(scores[0] - scores[1]) if len(scores) > 1 else 0.0,
        "zscore": (best_dense - dense_mean) / dense_std if dense_std > 1e-6 else 0.0,
        "coverage": len(asked & held) / len(asked) if asked else 0.0,
        "log_rows": math.log10(max(rows, 1)),
        "terms": float(len(asked)),
        "length": math.log(1 + len(texts[0].split())) if texts else 0.0,
        # how far the best candidate's evidence stands above the GAP_DEPTH-th candidate's: an
        # answer stands out from the question's own candidates, a near miss is one of many alike
        "gap": float(evidence - deep[-1]) if len(deep) > 1 else 0.0,
        "unseen": float(unseen),
        # the question asks who / when / how many ... and the best candidate holds no new one
        "asked_absent": float(bool(texts) and holds_asked(question, texts[0]) is False),
    }


def question_odds(evidence: float, gather: Callable[[], dict[str, float]],
                  model: dict[str, float] | None = None) -> float:
    """The question's log-odds that the corpus answers, from the ranker's best candidate's
    ``evidence``; ``gather()`` (``signals`` of the question) is called only when the model weighs
    another signal (the shipped one weighs ``unseen`` too: 0.3 ms a question over BBC)."""
    model = ANSWER_MODEL if model is None else model
    if any(w for name, w in model.items() if name not in ("bias", "evidence")):
        return logit(gather(), model)
    return logit({"evidence": float(evidence)}, {"bias": model["bias"],
                                                  "evidence": model["evidence"]})


def logit(values: dict[str, float], model: dict[str, float] | None = None) -> float:
    """The model's log-odds that the corpus answers."""
    model = ANSWER_MODEL if model is None else model
    return model["bias"] + sum(w * values[name] for name, w in model.items() if name != "bias")


def decide(hits: list[Hit], threshold: float = 0.0, *, evidence: float | None = None) -> bool:
    """Whether ``hits`` (best first) answer the question: ``evidence`` when given, else the best
    hit's evidence (for the ranker's hits: the model's log-odds that it answers, ``hit_odds``),
    or its score where there is none (hits made without the ranker: the naive cosine rule)."""
    if not hits:
        return False
    best = hits[0]
    if evidence is None:
        evidence = best.evidence
    if evidence is None:
        return best.score >= COSINE_THRESHOLD
    return evidence >= threshold


def hit_odds(question_odds: float, evidence: float, best_evidence: float,
             model: dict[str, float] | None = None) -> float:
    """A hit's own log-odds that it answers: the question's, moved by how much less (or more)
    evidence it has than the ranker's best candidate (so a lower hit far weaker than the best is
    shown as not an answer, and the best is an answer exactly when the question is answered)."""
    model = ANSWER_MODEL if model is None else model
    return question_odds + model["evidence"] * (evidence - best_evidence)
