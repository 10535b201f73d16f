"""The cross-encoder stage: re-ordering the ranker's best candidates by what a cross-encoder
(qa/encoders/crossencoder.py) reads in each question-sentence pair."""
from __future__ import annotations

import threading
from dataclasses import replace
from typing import Sequence

import numpy as np

from .. import config
from ..ingest.speakers import asked_about, matches
from ..tuning import RERANK_DEPTH, RERANK_MAX, RERANK_WEIGHT

_LOADED: dict = {}  # QA_RERANKER (None: the shipped model) -> the loaded model
_LOAD_LOCK = threading.Lock()


def enabled(sentences: int = 0) -> bool:
    """Whether an index of ``sentences`` sentences is re-ranked: ``QA_RERANK`` off, on, or by
    default up to ``tuning.RERANK_MAX`` sentences."""
    setting = config.rerank_mode()
    return setting == "on" or (setting == "auto" and sentences <= RERANK_MAX)


def load():
    """The configured cross-encoder (``QA_RERANKER``, else the shipped one), loaded once a
    process."""
    name = config.reranker()
    with _LOAD_LOCK:
        if name not in _LOADED:
            from ..encoders.crossencoder import load_model

            _LOADED[name] = load_model()
        return _LOADED[name]


def install(model) -> None:
    """Use ``model`` as the configured cross-encoder from now on in this process (the chat puts
    its batcher in front of the loaded one: qa/app/batching.py)."""
    with _LOAD_LOCK:
        _LOADED[config.reranker()] = model


def wanted(question: str, ranked: list) -> bool:
    """Whether to re-rank: not when the question asks what a named person said and the ranker's
    best candidate is that person's statement. The cross-encoder was trained on factoid
    questions and does not know who is speaking ("the diplomat added" is Galuzin to the ranker,
    no one to it): on "What did Galuzin say about NATO?" it pushed his NATO statement below
    three others of his."""
    names = asked_about(question)
    return not (names and ranked and matches(ranked[0].speaker, names))


def rerank(model, question: str, ranked: list, texts: Sequence[str],
           depth: int = RERANK_DEPTH, weight: float = RERANK_WEIGHT) -> list:
    """The ranker's candidates (``Ranked``, best first) with the best ``depth`` re-ordered by the
    ranker's score plus ``weight`` times the cross-encoder's probability; reported scores stay
    between 0 and 1."""
    if not ranked:
        return ranked
    head = ranked[:depth]
    prob = 1.0 / (1.0 + np.exp(-model.scores(question, [texts[r.row] for r in head])))
    scored = [replace(r, score=(r.score + weight * float(p)) / (1.0 + weight))
              for r, p in zip(head, prob)]
    scored.sort(key=lambda r: -r.score)
    return scored + [replace(r, score=r.score / (1.0 + weight)) for r in ranked[depth:]]
