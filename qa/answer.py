"""Deciding whether the retrieved sentences answer the question at all."""
from __future__ import annotations

from .types import Hit

# The corpus is taken to answer when the best sentence's evidence (qa.rank.EVIDENCE: its cosine
# with the question, plus BM25 of its article for the question's words, plus a little when it is
# said by the person the question names) reaches this. Chosen on WikiQA-dev and BBC dev
# (bench/tune.py): about the highest value that still answers 90% of the answerable questions of
# both; BENCHMARKS.md gives what it abstains on.
ANSWER_THRESHOLD = 1.0
# Hits that carry no evidence (made without the ranker) are judged by their score alone: the
# naive rule of the benchmark's baseline.
COSINE_THRESHOLD = 0.35


def decide(hits: list[Hit], threshold: float = ANSWER_THRESHOLD, *,
           evidence: float | None = None) -> bool:
    """Whether ``hits`` (best first) answer the question: ``evidence`` (the ranker's best
    candidate's, when the hits were re-ranked after it), else the best hit's evidence, or its
    score where the ranker gave none, reaches its threshold.

    The re-ranker (qa/rerank.py) orders candidates but does not decide this: its probabilities
    are high for topical sentences of questions the corpus cannot answer (measured on the dev
    `none` questions, BENCHMARKS.md)."""
    if not hits:
        return False
    best = hits[0]
    if evidence is None:
        evidence = best.evidence
    if evidence is None:
        return best.score >= COSINE_THRESHOLD
    return evidence >= threshold
