"""Deciding whether the retrieved sentences answer the question at all."""
from __future__ import annotations

from .types import Hit

# Cosine similarity of the best sentence below which the corpus is taken not to answer.
# Measured on ../shared/bench (bench/abstain.py): see BENCHMARKS.md.
ANSWER_THRESHOLD = 0.35


def decide(hits: list[Hit], threshold: float = ANSWER_THRESHOLD) -> bool:
    return bool(hits) and hits[0].score >= threshold
