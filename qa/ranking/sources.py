"""Where the rows a question ranks come from: the one part of ranking that differs by index size
or backend.

A row source gives, for one question, the rows to rank with each one's cosine and its
neighbours' (``pick``), over a ``RowMap`` (which article and sentence each row is) and a
``CorpusData`` (article centroids, BM25, number/name flags). Everything after that - the
features, their fusion, the checks - is the same code for every source (qa/ranking/question.py).

- ``AllRows``: every sentence, vectors in memory (indexes up to ``tuning.RANK_ALL_MAX``).
- ``GraphCandidates``: the vector store's nearest ``tuning.CANDIDATES`` sentences and every
  sentence of their best ``tuning.ARTICLES`` articles, vectors read from disk as needed.
- ``EngineCandidates``: the same, from a vector engine (Milvus: qa/milvusindex.py), whose
  nearest sentences are a search in the engine and whose vectors are read from it by key.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Protocol, Sequence

import numpy as np

from ..ingest.speakers import attribute, surname
from ..storage.stored import StoredDoc
from ..tuning import ARTICLES, CANDIDATES
from .corpusdata import CorpusData
from .fuse import neighbour_max
from .lexical import terms


@dataclass(frozen=True)
class RowMap:
    """Rows 0..n-1 are the articles' sentences, article after article: which article and which
    sentence each row is. Computed here only."""

    docs: tuple[StoredDoc, ...]
    doc_start: np.ndarray = field(repr=False)  # (articles + 1,) first row of each, then n
    row_doc: np.ndarray = field(repr=False)  # (n,) the article's position in ``docs``
    row_sent: np.ndarray = field(repr=False)  # (n,) the sentence's number in its article

    @classmethod
    def of(cls, docs: Sequence[StoredDoc]) -> "RowMap":
        sizes = np.array([d.size for d in docs], np.int64)
        doc_start = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        row_doc = np.repeat(np.arange(len(docs), dtype=np.int64), sizes)
        return cls(tuple(docs), doc_start, row_doc, np.arange(len(row_doc)) - doc_start[row_doc])

    def __len__(self) -> int:
        return len(self.row_doc)

    def doc(self, row: int) -> StoredDoc:
        return self.docs[self.row_doc[row]]

    def text(self, row: int) -> str:
        d = self.docs[self.row_doc[row]]
        s, e = d.bounds[self.row_sent[row]]
        return d.document.text[s:e]

    def speaker(self, row: int) -> str | None:
        d = self.docs[self.row_doc[row]]
        return d.speakers[self.row_sent[row]] if d.speakers is not None else None

    @cached_property
    def positions(self) -> dict[str, int]:
        """Each article's position in ``docs``, by id."""
        return {d.document.id: i for i, d in enumerate(self.docs)}

    def rows_of(self, doc_ids: Sequence[str]) -> np.ndarray:
        """The rows of the articles ``doc_ids`` (unknown ids are ignored), sorted."""
        at = self.positions
        parts = [np.arange(self.doc_start[at[d]], self.doc_start[at[d] + 1])
                 for d in dict.fromkeys(doc_ids) if d in at]
        return np.sort(np.concatenate(parts)) if parts else np.zeros(0, np.int64)


class Texts:
    """The sentences of some rows (``rows``; None: every row), read only where asked
    (``fuse.distinct`` reads the best few dozen)."""

    def __init__(self, rowmap: RowMap, rows: np.ndarray | None = None):
        self.rowmap, self.rows = rowmap, rows

    def __getitem__(self, i: int) -> str:
        return self._of(int(i if self.rows is None else self.rows[i]))

    def __len__(self) -> int:
        return len(self.rowmap) if self.rows is None else len(self.rows)

    def _of(self, row: int) -> str:
        return self.rowmap.text(row)


class Speakers(Texts):
    """Who says each of some rows, looked up only where asked (a question that names nobody
    reads the few it returns)."""

    def _of(self, row: int) -> str | None:
        return self.rowmap.speaker(row)


@dataclass(frozen=True)
class Picked:
    """The rows one question ranks, and what the source knows of them."""

    rows: np.ndarray | None  # sorted row numbers; None: every row, in order
    dense: np.ndarray  # each one's cosine with the question
    neighbour: np.ndarray  # the better cosine of the sentences beside it in its article
    speakers: Sequence[str | None]  # who says each
    surnames: np.ndarray | None  # their surnames, where kept (a fast first filter)
    texts: Sequence[str]  # each one's sentence
    typical: np.ndarray  # each one's cosine with its article's centroid (features.in_article)
    only: np.ndarray | None = None  # positions the question may return (None: all)

    def __len__(self) -> int:
        return len(self.dense)

    def row(self, i: int) -> int:
        return int(i if self.rows is None else self.rows[i])


class RowSource(Protocol):
    rowmap: RowMap
    data: CorpusData

    def pick(self, query: np.ndarray, only: np.ndarray | None, question: str = "") -> Picked:
        """The rows to rank for ``query`` (float32, unit length; ``question``: its text), among
        ``only`` when given."""

    @property
    def texts(self) -> Sequence[str]:
        """Every row's sentence (the checks after ranking read the few they need)."""


class AllRows:
    """Every sentence, with its vector in memory: one product per question."""

    def __init__(self, rowmap: RowMap, matrix: np.ndarray, data: CorpusData):
        self.rowmap, self.data = rowmap, data
        self.matrix = np.ascontiguousarray(matrix, np.float32)
        self.texts = [d.document.text[s:e] for d in rowmap.docs for s, e in d.bounds.tolist()]
        by_doc = [d.speakers if d.speakers is not None else
                  attribute([d.document.text[s:e] for s, e in d.bounds.tolist()])
                  for d in rowmap.docs]
        self.speakers = [s for doc in by_doc for s in doc]
        self.surnames = np.array([surname(s) if s else "" for s in self.speakers], dtype=object)
        self.typical = typical(self.matrix, data.centroids, rowmap.row_doc)

    def pick(self, query: np.ndarray, only: np.ndarray | None, question: str = "") -> Picked:
        dense = self.matrix @ query
        return Picked(None, dense, neighbour_max(dense, self.rowmap.row_doc), self.speakers,
                      self.surnames, self.texts, self.typical, only)


class GraphCandidates:
    """The vector store's candidates and the rest of their best articles; vectors, centroids
    and postings read where they are (on disk for a large index)."""

    def __init__(self, rowmap: RowMap, store, vectors, data: CorpusData,
                 candidates: int = CANDIDATES, articles: int = ARTICLES):
        """``store``: a qa.storage.vectors.VectorStore over the rows; ``vectors``: the same
        float vectors, rows read as needed (an array or RawRows); ``candidates``: how many of
        the store's nearest rows a question ranks, with every sentence of the best ``articles``
        of their articles."""
        self.rowmap, self.store, self.vectors, self.data = rowmap, store, vectors, data
        self.n_candidates, self.n_articles = candidates, articles
        self.texts = Texts(rowmap)

    def candidates(self, query: np.ndarray, only: np.ndarray | None,
                   question: str = "") -> np.ndarray:
        """The store's nearest rows and every sentence of the best of their articles (among
        ``only`` when given); sorted."""
        rm = self.rowmap
        found = self.store.candidates(query, self.n_candidates, only)
        if not len(found):
            return found
        best_docs = list(dict.fromkeys(rm.row_doc[found].tolist()))[:self.n_articles]
        return with_articles(rm, found, best_docs, only)

    def pick(self, query: np.ndarray, only: np.ndarray | None, question: str = "") -> Picked:
        rm, cand = self.rowmap, self.candidates(query, only, question)
        if not len(cand):
            none = np.zeros(0, np.float32)
            return Picked(cand, none, none, [], None, [], none)
        n = len(rm)
        # vectors of the candidates and of the sentences beside them, in one read
        near = unique(np.concatenate([cand, cand[cand > 0] - 1, cand[cand < n - 1] + 1]))
        near_vectors = np.asarray(self.vectors[near], np.float32).reshape(len(near), -1)
        near_dense = near_vectors @ query
        at = np.searchsorted(near, cand)
        dense = near_dense[at]
        neighbour = np.zeros(len(cand), np.float32)
        doc = rm.row_doc[cand]
        for step in (-1, 1):
            other = cand + step
            ok = (other >= 0) & (other < n)
            ok[ok] &= rm.row_doc[other[ok]] == doc[ok]
            val = np.where(ok, near_dense[np.searchsorted(near, np.clip(other, 0, n - 1))], 0.0)
            neighbour = np.maximum(neighbour, val)
        docs = unique(doc)
        centroids = np.asarray(self.data.centroids[docs], np.float32)
        return Picked(cand, dense, neighbour, Speakers(rm, cand), None, Texts(rm, cand),
                      typical(near_vectors[at], centroids, np.searchsorted(docs, doc)))


class EngineCandidates(GraphCandidates):
    """A vector engine's nearest sentences and the rest of their best articles, ranked as
    ``GraphCandidates`` ranks the graph's. ``store.candidates(query, n, only)`` is the engine's
    search (``only`` a filter expression there, not a scan); ``vectors[rows]`` reads the rows'
    vectors from the engine."""

    def __init__(self, rowmap: RowMap, engine_rows, data: CorpusData,
                 candidates: int = CANDIDATES, articles: int = ARTICLES):
        """``engine_rows``: the engine seen as rows of ``rowmap`` (qa.milvusindex.EngineRows):
        both the store (``candidates``) and the vectors (``[rows]``)."""
        super().__init__(rowmap, engine_rows, engine_rows, data, candidates, articles)

    def candidates(self, query: np.ndarray, only: np.ndarray | None,
                   question: str = "") -> np.ndarray:
        """The engine's candidates, and every sentence of the ``n_articles`` articles that
        BM25 of the articles (in memory, built from the articles the engine holds) scores best
        for ``question``: the full ranker weighs an article's BM25 as much as a sentence's
        cosine, and finds such articles without their sentences being among the nearest (on
        BBC dev, one question's answer was in the second-best BM25 article, its best sentence
        199th by cosine)."""
        found = super().candidates(query, only, question)
        words = terms(question)
        if not words:
            return found
        rm = self.rowmap
        allowed = unique(rm.row_doc[only]) if only is not None else None
        scores = self.data.articles.scores(words, allowed)
        best = np.argsort(-scores, kind="stable")[:self.n_articles]
        best = best[scores[best] > 0]
        docs = allowed[best] if allowed is not None else best
        return with_articles(rm, found, docs, only) if len(docs) else found


def with_articles(rm: RowMap, found: np.ndarray, docs, only: np.ndarray | None) -> np.ndarray:
    """``found`` rows and every sentence of the articles ``docs``, sorted (among ``only`` when
    given)."""
    extra = [np.arange(rm.doc_start[d], rm.doc_start[d + 1]) for d in docs]
    out = unique(np.concatenate([found] + extra))
    return np.intersect1d(out, only) if only is not None else out


def typical(vectors: np.ndarray, centroids, row_doc: np.ndarray,
            chunk: int = 2048) -> np.ndarray:
    """Each row's cosine with its article's centroid (``centroids[row_doc[i]]``), in chunks: the
    gathered centroids of a chunk are a copy (150,000 rows: 7 MB at a time and 20 ms with 2,048,
    200 MB and 47 ms with 65,536)."""
    out = np.zeros(len(row_doc), np.float32)
    for lo in range(0, len(row_doc), chunk):
        hi = min(lo + chunk, len(row_doc))
        cent = np.asarray(centroids[row_doc[lo:hi]], np.float32)
        out[lo:hi] = np.einsum("ij,ij->i", np.asarray(vectors[lo:hi], np.float32), cent)
    return out


def unique(a: np.ndarray) -> np.ndarray:
    """Sorted distinct values (np.unique, without its hashing: faster on a few hundred ints)."""
    a = np.sort(a)
    return a[np.concatenate([[True], a[1:] != a[:-1]])] if len(a) else a
