"""What ranking knows about the whole corpus beyond each sentence's vector: article centroids,
BM25 of the articles and of their titles, and whether each sentence holds a number or a name.

Built in memory from the articles and their vectors (``CorpusData.build``: every index, on its
first question after a change). A large index also stores it when saved, so opening one
computes nothing and reads from disk only what a question needs (``qa.storage.rows.RawRows``):

    rank.centroids.f32    article centroids, raw float32 (articles, dimension)
    rank.flags.u8         per sentence: 1 if it holds a number, 2 if a name (qa.ranking.kinds)
    rank.lexicon.json     the vocabulary, and the size of each BM25 collection
    rank.<name>.postings  BM25 of the articles and the titles, term by term:
                          indptr int64, idf float32 (terms), texts int32, weights float32 (postings)

(Indexes saved before this version also hold ``rank.sentences.postings``: BM25 of each sentence,
a feature that weighed 0. It is checked and ignored.)
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import IndexFileError
from ..storage.rows import RawRows
from ..storage.stored import StoredDoc
from ..tuning import ARTICLE_LENGTH
from .kinds import NAME, NUMBER
from .lexical import BM25, Postings, terms

log = logging.getLogger(__name__)

COLLECTIONS = ("articles", "titles")
CENTROIDS = "rank.centroids.f32"
FLAGS = "rank.flags.u8"
HAS_NUMBER, HAS_NAME = 1, 2
LEXICON = "rank.lexicon.json"


@dataclass(frozen=True)
class CorpusData:
    """Whole-corpus data for ranking, in memory or on disk. ``articles`` and ``titles`` score
    chosen articles for a question's terms (``scores``/``both``: ``lexical.BM25`` in memory,
    ``lexical.Postings`` from disk)."""

    centroids: object  # (articles, dim) float32 array or RawRows
    articles: BM25 | Postings
    titles: BM25 | Postings
    flags: np.ndarray  # (sentences,) uint8: HAS_NUMBER | HAS_NAME bits

    def has(self, bit: int, rows: np.ndarray | None = None) -> np.ndarray:
        """1.0 for the sentences (``rows``, or all) whose flags hold ``bit``, else 0.0."""
        flags = self.flags if rows is None else self.flags[rows]
        return (flags & bit).astype(bool).astype(np.float32)

    def article_cosines(self, query: np.ndarray, docs: np.ndarray | None = None) -> np.ndarray:
        """Cosine of the question with each article's centroid (``docs``, or all)."""
        if docs is None:
            return self.centroids @ query
        return np.asarray(self.centroids[docs], np.float32) @ query

    @classmethod
    def build(cls, docs: list[StoredDoc], vectors, dim: int, *,
              postings: bool = False, centroids: np.ndarray | None = None) -> "CorpusData":
        """From the documents and their vectors (rows in document order; read in chunks).
        ``postings``: BM25 term by term, the form a large index stores and reads.
        ``centroids``: the articles' centroids as stored (a vector engine's), instead of
        computed from ``vectors`` (then unused)."""
        if centroids is None:
            centroids = np.zeros((len(docs), dim), np.float32)
            row = 0
            for i, d in enumerate(docs):
                if d.size:
                    centroids[i] = np.asarray(vectors[row:row + d.size], np.float32).sum(axis=0)
                row += d.size
            norms = np.linalg.norm(centroids, axis=1, keepdims=True)
            norms[norms == 0] = 1.0
            centroids /= norms
        # One pass over the sentences (read one at a time, never all held as strings): their
        # flags, and for postings one vocabulary for both collections, its terms in order of
        # first use in the sentences, then the articles, then the titles: the order stored
        # indexes have (a question's terms are summed in it, so it fixes the scores to the
        # last bit).
        flags = bytearray(sum(d.size for d in docs))
        vocab: dict[str, int] = {}
        row = 0
        for d in docs:
            text = d.document.text
            for s, e in d.bounds.tolist():
                t = text[s:e]
                flags[row] = bool(NUMBER.search(t)) * HAS_NUMBER + bool(NAME.search(t)) * HAS_NAME
                row += 1
                if postings:
                    for term in terms(t):
                        vocab.setdefault(term, len(vocab))
        flags = np.frombuffer(flags, np.uint8).copy()
        articles = BM25((terms(d.document.title or "") + terms(d.document.text) for d in docs),
                        typical=ARTICLE_LENGTH)
        titles = BM25(terms(d.document.title or "") for d in docs)
        if postings:
            for b in (articles, titles):
                for term in b.vocab:
                    vocab.setdefault(term, len(vocab))
            articles, titles = Postings.from_bm25(articles, vocab), Postings.from_bm25(titles, vocab)
        return cls(centroids, articles, titles, flags)

    def to_files(self) -> dict[str, bytes | tuple]:
        """The files a large index stores (built with ``postings=True``): each its bytes, or
        its parts in order (the postings' arrays as they are, not copied into one)."""
        postings = {"articles": self.articles, "titles": self.titles}
        vocab = self.articles.vocab
        lexicon = {"terms": sorted(vocab, key=vocab.get), "collections": {
            name: {"texts": p.n_texts, "postings": int(p.indptr[-1])}
            for name, p in postings.items()}}
        files = {CENTROIDS: np.ascontiguousarray(self.centroids, "<f4").tobytes(),
                 FLAGS: np.ascontiguousarray(self.flags, np.uint8).tobytes(),
                 LEXICON: json.dumps(lexicon, ensure_ascii=False).encode("utf-8")}
        for name, p in postings.items():
            files[f"rank.{name}.postings"] = tuple(
                memoryview(np.ascontiguousarray(a, dt)).cast("B") for a, dt in (
                    (p.indptr, "<i8"), (p.idf, "<f4"), (p.indices, "<i4"), (p.weights, "<f4")))
        return files

    @classmethod
    def from_files(cls, side: dict[str, Path], n_docs: int, n: int,
                   dim: int) -> "CorpusData | None":
        """The stored data (checksums already verified by qa.storage.folder), or None when the index
        has none (it is then computed in memory)."""
        names = [CENTROIDS, FLAGS, LEXICON] + [f"rank.{c}.postings" for c in COLLECTIONS]
        if not all(n in side for n in names):
            return None
        try:
            lexicon = json.loads(side[LEXICON].read_text(encoding="utf-8"))
            vocab = {t: i for i, t in enumerate(lexicon["terms"])}
            postings = {}
            for name in COLLECTIONS:
                info = lexicon["collections"][name]
                f, v, nnz = side[f"rank.{name}.postings"], len(vocab), int(info["postings"])
                indptr = np.fromfile(f, "<i8", v + 1)
                idf = np.fromfile(f, "<f4", v, offset=8 * (v + 1))
                base = 8 * (v + 1) + 4 * v
                if len(indptr) != v + 1 or len(idf) != v or indptr[-1] != nnz or \
                        f.stat().st_size != base + 8 * nnz:
                    raise ValueError(f"{f.name} does not match its {v} terms / {nnz} postings")
                postings[name] = Postings(vocab, indptr, idf, RawRows(f, (nnz,), "<i4", base),
                                          RawRows(f, (nnz,), "<f4", base + 4 * nnz),
                                          int(info["texts"]))
            centroids = RawRows(side[CENTROIDS], (n_docs, dim), "<f4")
            if side[CENTROIDS].stat().st_size != n_docs * dim * 4:
                raise ValueError(f"{CENTROIDS} does not hold {n_docs} centroids")
            flags = np.fromfile(side[FLAGS], np.uint8)
            if len(flags) != n:
                raise ValueError(f"{FLAGS} does not hold {n} sentences")
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise IndexFileError(f"the ranking data of the index is damaged ({e}); rebuild it "
                                 "with `qa ingest --rebuild`") from None
        return cls(centroids, postings["articles"], postings["titles"], flags)


def _unique(a: np.ndarray) -> np.ndarray:
    """Sorted distinct values (np.unique, without its hashing: faster on a few hundred ints)."""
    a = np.sort(a)
    return a[np.concatenate([[True], a[1:] != a[:-1]])] if len(a) else a
