"""The ranking core: plain functions over arrays. Nothing here loads a model or
touches disk."""
from __future__ import annotations

import re

import numpy as np


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` highest scores, best first (ties: lower index first)."""
    k = min(k, len(scores))
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    part = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
    return part[np.lexsort((part, -scores[part]))]


# Weights of the features in a sentence's score (``fuse``); tuned on WikiQA-dev and BBC dev
# (bench/tune.py, figures in BENCHMARKS.md).
# dense: the sentence's cosine; doc: its article's centroid cosine; neighbour: the better cosine of
# the sentences beside it; lex / doc_lex / title_lex: BM25 of the sentence / article / title;
# speaker: 1 when it is said by the person a "what did X say" question names; lead: 1/(1+position);
# answer_type: 1 when it holds what the question asks for (a number, a name).
WEIGHTS = {"dense": 1.0, "doc": 0.5, "neighbour": 0.3, "lex": 0.0, "doc_lex": 1.0,
           "title_lex": 0.2, "speaker": 1.0, "lead": 0.1, "answer_type": 0.15}

# The evidence that a sentence answers at all (qa.answer.decide): its own cosine, plus how much
# and how often its article holds the question's words (uncapped BM25), plus a little when it is
# said by the person the question names, less when a "what did X say about Y" question's Y is
# missing from its article (topic_miss: 1 - the share of Y's words the article holds, by idf).
# Chosen on the dev `none` questions: see BENCHMARKS.md.
EVIDENCE = {"dense": 1.0, "doc_bm25": 1.0, "speaker": 0.25, "topic_miss": -0.5}

NUMBER = re.compile(r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|hundred|thousand|"
                    r"million|billion|dozen)\b", re.IGNORECASE)
NAME = re.compile(r"(?<!^)(?<![.!?] )\b[A-Z][a-z]+(?: [A-Z][a-z]+)+")
_WANTS_NUMBER = re.compile(r"^\s*(?:how (?:many|much|long|old|far|big|tall|high|fast|often)|when|"
                           r"what (?:year|date|time|age|percentage|proportion)|in what year)\b",
                           re.IGNORECASE)
_WANTS_NAME = re.compile(r"^\s*(?:who|whom|whose)\b", re.IGNORECASE)


def answer_type(question: str, has_number: np.ndarray, has_name: np.ndarray) -> np.ndarray:
    """1 for sentences holding the kind of thing the question asks for (a number or date for
    "how many"/"when", a name for "who"), else 0."""
    if _WANTS_NUMBER.search(question):
        return has_number
    if _WANTS_NAME.search(question):
        return has_name
    return np.zeros(len(has_number), np.float32)


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


def neighbour_max(scores: np.ndarray, row_doc: np.ndarray) -> np.ndarray:
    """For each sentence, the best score of the sentence before or after it in its article."""
    out = np.full(len(scores), -1.0, np.float32)
    if len(scores) < 2:
        return np.maximum(out, 0) if len(scores) else out
    same_prev = row_doc[1:] == row_doc[:-1]
    out[1:] = np.where(same_prev, scores[:-1], out[1:])
    out[:-1] = np.maximum(out[:-1], np.where(same_prev, scores[1:], -1.0))
    return np.where(out < 0, 0.0, out).astype(np.float32)


def distinct(order: np.ndarray, texts: list[str], k: int) -> list[int]:
    """The first ``k`` rows of ``order`` whose sentences differ (wire copy repeated across articles
    shows once), ignoring case, spacing and punctuation."""
    import re

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


# Added to the statements of the asked-about person in the article that matches the question best,
# so that a "what did X say about Y" question gets X's statements on Y together, not X's best
# sentence from each of many articles.
FOCUS = 1.0


def focus_speaker(scores: np.ndarray, speaker: np.ndarray, row_doc: np.ndarray,
                  bonus: float = FOCUS) -> np.ndarray:
    """``scores`` with ``bonus`` added to the speaker's sentences in the article where the best
    of them stands (unchanged when no sentence is the speaker's)."""
    said = speaker > 0
    if not said.any():
        return scores
    best = np.flatnonzero(said)[np.argmax(scores[said])]
    return scores + bonus * (said & (row_doc == row_doc[best]))


def score_scale(weights: dict[str, float] | None = None, bonus: float = FOCUS) -> float:
    """The most a sentence can score (every feature at 1): fused scores divided by it read as a
    weighted mean of the features, between 0 and 1."""
    weights = WEIGHTS if weights is None else weights
    return float(sum(w for w in weights.values() if w > 0) + max(bonus, 0.0)) or 1.0
