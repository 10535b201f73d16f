"""What ranking knows about a corpus beyond its sentence vectors, and the ranking of one question.

Built from the index's documents and vectors on its first question after opening or a change:
article centroids and BM25 over sentences, articles and titles; who says each sentence is stored
with the index at ingest. (Large indexes rank candidates instead, from data stored at ingest:
qa/corpus.py.) A question is scored against every sentence by ``rank.fuse`` of these features.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import rank
from .lexical import BM25, terms
from .speakers import asked_about, asked_topic, attribute, matches, surname


@dataclass
class Ranked:
    row: int
    score: float
    speaker: str | None
    evidence: float  # how well the sentence and its article match the question (answer.decide)


class Ranker:
    def __init__(self, docs: list[tuple[str, str, list[tuple[int, int]]]], matrix: np.ndarray,
                 speakers: list[list[str | None]] | None = None):
        """``docs``: (title, text, sentence spans) in row order; ``matrix``: one unit row per
        sentence; ``speakers``: who says each sentence, per document, when known already (the
        index stores them at ingest), else worked out here."""
        self.matrix = np.ascontiguousarray(matrix, np.float32)
        sizes = np.array([len(spans) for _, _, spans in docs], np.int64)
        self.row_doc = np.repeat(np.arange(len(docs)), sizes)
        self.doc_start = np.concatenate([[0], np.cumsum(sizes)])[:-1] if len(docs) else sizes
        self.row_sent = np.arange(len(self.row_doc)) - self.doc_start[self.row_doc] \
            if len(docs) else np.zeros(0, np.int64)
        self.centroids = _centroids(self.matrix, self.row_doc, len(docs))
        texts = [[text[s:e] for s, e in spans] for _, text, spans in docs]
        self.texts = [t for doc in texts for t in doc]
        self.sentence_bm25 = BM25([terms(t) for t in self.texts])
        self.doc_bm25 = BM25([terms(title) + terms(text) for title, text, _ in docs])
        self.title_bm25 = BM25([terms(title) for title, _, _ in docs])
        self.lead = (1.0 / (1.0 + self.row_sent)).astype(np.float32)  # articles lead with the news
        self.has_number = np.array([bool(rank.NUMBER.search(t)) for t in self.texts], np.float32)
        self.has_name = np.array([bool(rank.NAME.search(t)) for t in self.texts], np.float32)
        self.speakers = [s for doc in (speakers if speakers is not None else map(attribute, texts))
                         for s in doc]
        self.surnames = np.array([surname(s) if s else "" for s in self.speakers], dtype=object)

    def __len__(self) -> int:
        return len(self.row_doc)

    def features(self, question: str, query: np.ndarray) -> dict[str, np.ndarray]:
        """Every sentence's features for one question (arrays of one value per sentence)."""
        q_terms = terms(question)
        dense = self.matrix @ query.astype(np.float32)
        names = asked_about(question)
        speaker = np.isin(self.surnames, list(names)).astype(np.float32) if names \
            else np.zeros(len(dense), np.float32)
        if names:  # surname matches confirmed by the full rule, once per speaker
            confirmed: dict[str, bool] = {}
            for i in np.flatnonzero(speaker):
                said = self.speakers[i]
                if said not in confirmed:
                    confirmed[said] = matches(said, names)
                speaker[i] = confirmed[said]
        topic = terms(asked_topic(question)) if names else []
        return {
            "dense": dense,
            "doc": (self.centroids @ query)[self.row_doc],
            "neighbour": rank.neighbour_max(dense, self.row_doc),
            "lex": self.sentence_bm25.scores(q_terms),
            "doc_lex": self.doc_bm25.scores(q_terms)[self.row_doc],
            "doc_bm25": self.doc_bm25.scores(q_terms, capped=False)[self.row_doc],
            "title_lex": self.title_bm25.scores(q_terms, )[self.row_doc],
            "speaker": speaker,
            "lead": self.lead,
            "answer_type": rank.answer_type(question, self.has_number, self.has_name),
            "topic_miss": (1.0 - self.doc_bm25.scores(topic))[self.row_doc] if topic
            else np.zeros(len(dense), np.float32),
        }

    def search(self, question: str, query: np.ndarray, k: int,
               rows: np.ndarray | None = None) -> list[Ranked]:
        with _one_blas_thread():
            return self._search(question, query, k, rows)

    def _search(self, question: str, query: np.ndarray, k: int,
                rows: np.ndarray | None) -> list[Ranked]:
        feats = self.features(question, query)
        scores = rank.fuse(feats)
        evidence = rank.fuse(feats, rank.EVIDENCE)
        scores = rank.focus_speaker(scores, feats["speaker"], self.row_doc)
        if rows is not None:
            keep = np.full(len(scores), -np.inf, np.float32)
            keep[rows] = scores[rows]
            scores = keep
        best = rank.top_k(scores, min(len(scores), 4 * k + 20))
        best = best[np.isfinite(scores[best])]
        chosen = rank.distinct(best, self.texts, k)
        scale = rank.score_scale()  # reported scores: a weighted mean of features, 0 to 1
        return [Ranked(int(i), float(scores[i]) / scale, self.speakers[i], float(evidence[i]))
                for i in chosen]


def _centroids(matrix: np.ndarray, row_doc: np.ndarray, n_docs: int) -> np.ndarray:
    """Unit mean vector of each article's sentences."""
    out = np.zeros((n_docs, matrix.shape[1] if matrix.ndim == 2 else 0), np.float32)
    if len(row_doc):
        np.add.at(out, row_doc, matrix)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return out / norms


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
