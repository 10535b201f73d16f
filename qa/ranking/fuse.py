"""Turning features into a ranked list: plain functions over arrays. Nothing here loads a model
or touches disk."""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ..tuning import FOCUS, WEIGHTS


@dataclass(frozen=True)
class Ranked:
    row: int  # the sentence's row in the index
    score: float  # 0 to 1 (a weighted mean of its features, later blended with the checks)
    speaker: str | None
    evidence: float  # how well the sentence and its article match the question (decide.py)


def fuse(features: dict[str, np.ndarray], weights: dict[str, float] | None = None) -> np.ndarray:
    """A sentence's score: the weighted sum of its features."""
    weights = WEIGHTS if weights is None else weights
    total = None
    for name, w in weights.items():
        if w and name in features:
            total = features[name] * w if total is None else total + features[name] * w
    if total is None:
        return np.zeros(len(next(iter(features.values()))), np.float32)
    return total.astype(np.float32)


def focus_speaker(scores: np.ndarray, speaker: np.ndarray, row_doc: np.ndarray,
                  bonus: float = FOCUS) -> np.ndarray:
    """``scores`` with ``bonus`` added to the speaker's sentences in the article where the best
    of them stands (unchanged when no sentence is the speaker's)."""
    said = speaker > 0
    if not said.any():
        return scores
    best = np.flatnonzero(said)[np.argmax(scores[said])]
    return scores + bonus * (said & (row_doc == row_doc[best]))


def only(scores: np.ndarray, rows: np.ndarray | None) -> np.ndarray:
    """``scores`` with every position but ``rows`` (None: all) out of the running."""
    if rows is None:
        return scores
    keep = np.full(len(scores), -np.inf, np.float32)
    keep[rows] = scores[rows]
    return keep


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` highest scores, best first (ties: lower index first)."""
    k = min(k, len(scores))
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    part = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
    return part[np.lexsort((part, -scores[part]))]


def distinct(order: np.ndarray, texts, k: int) -> list[int]:
    """The first ``k`` positions of ``order`` whose sentences differ (wire copy repeated across
    articles shows once), ignoring case, spacing and punctuation."""
    seen: set[str] = set()
    out: list[int] = []
    for i in order:
        key = re.sub(r"[\W_]+", "", texts[i].lower())
        if key in seen:
            continue
        seen.add(key)
        out.append(int(i))
        if len(out) == k:
            break
    return out


# Features that only the rows of a "what did X say" question hold (passage.py): left
# out of the scale, so that adding them leaves every other question's scores, and so the weight
# the answer kind and the cross-encoder have against them, as they were.
UNSCALED = ("mention", "chain")


def score_scale(weights: dict[str, float] | None = None, bonus: float = FOCUS) -> float:
    """The most a sentence can score (every feature at 1, but the ``UNSCALED`` ones): fused
    scores divided by it read as a weighted mean of the features, about 0 to 1."""
    weights = WEIGHTS if weights is None else weights
    return float(sum(w for f, w in weights.items() if w > 0 and f not in UNSCALED)
                 + max(bonus, 0.0)) or 1.0


def neighbour_max(scores: np.ndarray, row_doc: np.ndarray) -> np.ndarray:
    """For each sentence, the best score of the sentence before or after it in its article (0
    where there is none, or the best is negative)."""
    out = np.full(len(scores), -1.0, np.float32)
    if len(scores) < 2:
        return np.maximum(out, 0) if len(scores) else out
    same_prev = row_doc[1:] == row_doc[:-1]
    out[1:] = np.where(same_prev, scores[:-1], out[1:])
    out[:-1] = np.maximum(out[:-1], np.where(same_prev, scores[1:], -1.0))
    return np.where(out < 0, 0.0, out).astype(np.float32)
