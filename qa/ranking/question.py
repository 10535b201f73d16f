"""The path of one question, top to bottom: encode, pick candidate rows, compute their features,
fuse them into scores, check the answer kind, let the cross-encoder re-order the best, decide
whether anything answers, and make the hits. Each step is a small function of its own module;
this one only runs them in order.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..display import not_text
from ..errors import InputError
from ..tuning import (EVIDENCE, KIND_DEPTH, MAX_K, MAX_QUESTION_CHARS, RERANK_DEPTH, WEIGHTS,
                      pool)
from ..types import Hit
from . import crossencoder, decide, fuse, kinds
from .features import features
from .fuse import Ranked
from .sources import Picked, RowMap, RowSource


@dataclass(frozen=True)
class Result:
    hits: list[Hit]
    answered: bool


def clean(question: str) -> str:
    """The question as asked, spacing folded and cut to ``tuning.MAX_QUESTION_CHARS``; an empty
    one is refused with an example."""
    if not isinstance(question, str):
        raise InputError(f"the question must be text, not {type(question).__name__}")
    if not question.strip():
        raise InputError("the question is empty; ask something, e.g. \"What did Galuzin say?\"")
    if not_text(question):
        raise InputError("the question is not valid Unicode (a lone surrogate); type or paste "
                         "it again")
    return " ".join(question.split())[:MAX_QUESTION_CHARS]


def check_k(k: int) -> int:
    """How many hits may be asked for: a whole number from 1, at most ``tuning.MAX_K``."""
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise InputError(f"k must be a whole number of at least 1, not {k!r}")
    return min(k, MAX_K)


def answer(question: str, k: int, source: RowSource, encoder, reranker=None,
           only: np.ndarray | None = None, context: int = 2) -> Result:
    """The ``k`` sentences of ``source`` that best answer ``question`` (cleaned already), best
    first, and whether any does. ``reranker``: the cross-encoder, or None to skip that stage;
    ``only``: the rows it may return (None: all)."""
    # 1. encode
    query = np.asarray(encoder.encode([question])[0], np.float32)
    with _one_blas_thread():
        # 2. candidates: the rows this source ranks (all of them, or the graph's)
        picked = source.pick(query, only, question)
        if not len(picked):
            return Result([], False)
        # 3. features of those rows; 4. fused into scores: the best distinct rows, deep enough
        # for the checks after
        feats = features(question, query, kinds.kind(question), source, picked)
        ranked = best(feats, picked, source.rowmap, max(k, KIND_DEPTH, RERANK_DEPTH))
    if not ranked:
        return Result([], False)
    first = ranked[0].row
    # 5. answer kind: the best KIND_DEPTH re-scored by whether they hold what is asked for
    ranked = kinds.rescore(question, ranked, source.texts)
    # 6. cross-encoder: the best RERANK_DEPTH re-ordered
    if reranker is not None and crossencoder.wanted(question, ranked):
        ranked_after = crossencoder.rerank(reranker, question, ranked, source.texts)
    else:
        ranked_after = ranked
    # 7. decide from what the question's own candidates show (decide.py): the ranker's best
    # candidate's evidence as the kind check adjusted it, not the cross-encoder's order
    best_evidence = next(r.evidence for r in ranked if r.row == first)
    odds = decide.question_odds(best_evidence, lambda: decide.signals(
        question, best_evidence, [r.score for r in ranked], float(picked.dense.max()),
        [source.texts[r.row] for r in ranked[:3]], *decide.spread(picked.dense),
        len(source.rowmap), [r.evidence for r in ranked],
        decide.unseen(question, source.data.articles, int(source.rowmap.row_doc[first]))))
    # 8. hits, each with its own log-odds of answering (decide.hit_odds)
    return Result([hit(source.rowmap, r, context,
                       decide.hit_odds(odds, r.evidence, best_evidence))
                   for r in ranked_after[:k]], odds >= 0.0)


def best(feats: dict[str, np.ndarray], picked: Picked, rowmap: RowMap, k: int) -> list[Ranked]:
    """The ``k`` best distinct rows by the fused score (scaled 0 to 1), with their evidence."""
    scores = fuse.fuse(feats, WEIGHTS)
    evidence = fuse.fuse(feats, EVIDENCE)
    doc = rowmap.row_doc if picked.rows is None else rowmap.row_doc[picked.rows]
    scores = fuse.focus_speaker(scores, feats["speaker"], doc)
    scores = fuse.only(scores, picked.only)
    top = fuse.top_k(scores, min(len(scores), pool(k)))
    top = top[np.isfinite(scores[top])]
    scale = fuse.score_scale()  # reported scores: a weighted mean of features, 0 to 1
    return [Ranked(picked.row(i), float(scores[i]) / scale, picked.speakers[i],
                   float(evidence[i])) for i in fuse.distinct(top, picked.texts, k)]


def hit(rowmap: RowMap, ranked: Ranked, context: int, odds: float | None = None) -> Hit:
    """The hit for a ranked row: its sentence as it stands in its article, with ``context``
    sentences each side; ``odds``: its log-odds of answering (None: its raw evidence)."""
    stored = rowmap.doc(ranked.row)
    i = int(rowmap.row_sent[ranked.row])
    doc, bounds = stored.document, stored.bounds
    start, end = int(bounds[i][0]), int(bounds[i][1])
    lo = int(bounds[max(0, i - context)][0])
    hi = int(bounds[min(len(bounds) - 1, i + context)][1])
    return Hit(text=doc.text[start:end], score=ranked.score, doc_id=doc.id,
               title=doc.title, sentence=i, start=start, end=end, context=doc.text[lo:hi],
               context_start=lo, published=doc.published, source=doc.source, url=doc.url,
               speaker=ranked.speaker,
               evidence=ranked.evidence if odds is None else odds)


_BLAS = None


def _one_blas_thread():
    """numpy's matrix products of one question on one thread. A multi-threaded BLAS keeps its
    threads spinning after a product, and they then take the cores from onnxruntime encoding and
    re-ranking the same question: measured on BBC dev, re-ranking 10 candidates took 47 ms a
    question after the ranker's products with two BLAS threads and 27 ms with one."""
    global _BLAS
    if _BLAS is None:
        from threadpoolctl import ThreadpoolController

        _BLAS = ThreadpoolController()
    return _BLAS.limit(limits=1, user_api="blas")
