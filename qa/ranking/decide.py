"""Deciding whether the retrieved sentences answer the question at all.

The corpus is taken to answer when the evidence of the ranker's best candidate (qa.tuning
EVIDENCE: its cosine with the question, plus BM25 of its article for the question's words, plus a
little when it is said by the person the question names, adjusted by the answer-kind check)
reaches ``tuning.ANSWER_THRESHOLD``. The re-ranker orders candidates but does not decide this: its
probabilities are high for topical sentences of questions the corpus cannot answer (measured on
the dev `none` questions, BENCHMARKS.md).
"""
from __future__ import annotations

from ..tuning import ANSWER_THRESHOLD, COSINE_THRESHOLD
from ..types import Hit


def answers(evidence: float | None, threshold: float = ANSWER_THRESHOLD) -> bool:
    """Whether the ranker's best candidate's ``evidence`` (None: there was none) says the
    corpus answers."""
    return evidence is not None and evidence >= threshold


def decide(hits: list[Hit], threshold: float = ANSWER_THRESHOLD, *,
           evidence: float | None = None) -> bool:
    """Whether ``hits`` (best first) answer the question: ``evidence`` (the ranker's best
    candidate's, when the hits were re-ranked after it), else the best hit's evidence, or its
    score where the ranker gave none (hits made without it: the naive cosine rule)."""
    if not hits:
        return False
    best = hits[0]
    if evidence is None:
        evidence = best.evidence
    if evidence is None:
        return best.score >= COSINE_THRESHOLD
    return answers(evidence, threshold)
