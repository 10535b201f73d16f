"""Ranking a large index: the ranker's features over a candidate set, from data stored at ingest.

Up to ``qa.index.RANK_ALL_MAX`` sentences ``qa.ranker.Ranker`` scores every sentence with every
feature. Above, that scan (and the memory for it) does not pay, so ``CandidateRanker`` asks the
vector store for the ``CANDIDATES`` sentences nearest the question, adds every sentence of the
best ``ARTICLES`` of their articles (so that "what did X say" finds X's other statements there),
and scores those rows with the same features and weights (``qa.rank.fuse``): the sentence's and
its neighbours' cosines, its article's centroid, BM25 of the sentence, article and title, who
says it, its position, the kind of answer it holds.

What these features need about the whole corpus is computed once, when the index is saved, and
stored beside it (``CorpusData``), so opening a large index computes nothing:

    rank.centroids.f32    article centroids, raw float32 (articles, dimension)
    rank.flags.u8         per sentence: 1 if it holds a number, 2 if a name (rank.answer_type)
    rank.lexicon.json     the vocabulary, and the size of each BM25 collection
    rank.<name>.postings  BM25 of the sentences, articles and titles, term by term:
                          indptr int64, idf float32 (terms), texts int32, weights float32 (postings)

The centroids and postings are read from disk as a question needs them (``qa.vectors.RawRows``):
a few hundred rows and the question's terms.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import rank
from .errors import IndexFileError
from .lexical import BM25, Postings, terms
from .ranker import Ranked
from .speakers import asked_about, asked_topic, matches
from .store import StoredDoc
from .vectors import RawRows

log = logging.getLogger(__name__)

CANDIDATES = 128  # sentences from the vector store per question (256 ranked the dev questions
# the same, BENCHMARKS.md, and took 3 ms more at 1M)
ARTICLES = 8  # the best candidate articles whose every sentence is ranked too
COLLECTIONS = ("sentences", "articles", "titles")
CENTROIDS = "rank.centroids.f32"
FLAGS = "rank.flags.u8"
NUMBER, NAME = 1, 2
LEXICON = "rank.lexicon.json"


@dataclass
class CorpusData:
    """Whole-corpus data for ranking: article centroids and BM25 postings (in memory, or on
    disk)."""

    centroids: object  # (articles, dim) float32 array or RawRows
    postings: dict[str, Postings]
    flags: np.ndarray  # (sentences,) uint8: NUMBER | NAME bits (in memory: a byte a sentence)

    @classmethod
    def build(cls, docs: list[StoredDoc], vectors, dim: int) -> "CorpusData":
        """From the documents and their vectors (rows in document order; read in chunks)."""
        centroids = np.zeros((len(docs), dim), np.float32)
        row = 0
        for i, d in enumerate(docs):
            if d.size:
                centroids[i] = np.asarray(vectors[row:row + d.size], np.float32).sum(axis=0)
            row += d.size
        norms = np.linalg.norm(centroids, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        centroids /= norms
        texts = [(d.document.title or "", d.document.text, d.bounds) for d in docs]
        sentences = [text[s:e] for _, text, bounds in texts for s, e in bounds.tolist()]
        flags = np.array([bool(rank.NUMBER.search(t)) * NUMBER + bool(rank.NAME.search(t)) * NAME
                          for t in sentences], np.uint8)
        bm25 = {
            "sentences": BM25([terms(t) for t in sentences]),
            "articles": BM25([terms(title) + terms(text) for title, text, _ in texts]),
            "titles": BM25([terms(title) for title, _, _ in texts]),
        }
        vocab: dict[str, int] = {}
        for b in bm25.values():
            for term in b.vocab:
                vocab.setdefault(term, len(vocab))
        return cls(centroids, {name: Postings.from_bm25(b, vocab) for name, b in bm25.items()},
                   flags)

    def to_files(self) -> dict[str, bytes]:
        vocab = next(iter(self.postings.values())).vocab
        lexicon = {"terms": sorted(vocab, key=vocab.get), "collections": {
            name: {"texts": p.n_texts, "postings": int(p.indptr[-1])}
            for name, p in self.postings.items()}}
        files = {CENTROIDS: np.ascontiguousarray(self.centroids, "<f4").tobytes(),
                 FLAGS: np.ascontiguousarray(self.flags, np.uint8).tobytes(),
                 LEXICON: json.dumps(lexicon, ensure_ascii=False).encode("utf-8")}
        for name, p in self.postings.items():
            files[f"rank.{name}.postings"] = b"".join(
                np.ascontiguousarray(a, dt).tobytes() for a, dt in (
                    (p.indptr, "<i8"), (p.idf, "<f4"), (p.indices, "<i4"), (p.weights, "<f4")))
        return files

    @classmethod
    def from_files(cls, side: dict[str, Path], n_docs: int, n: int,
                   dim: int) -> "CorpusData | None":
        """The stored data (checksums already verified by qa.store), or None when the index
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
        return cls(centroids, postings, flags)


class CandidateRanker:
    """``Ranker.search`` for a large index: the same features and scores, over candidates."""

    def __init__(self, docs: list[StoredDoc], store, vectors, data: CorpusData):
        """``docs`` in row order; ``store``: a qa.vectors.VectorStore over their sentences;
        ``vectors``: the same float vectors, rows read as needed (an array or RawRows)."""
        self.docs, self.store, self.vectors, self.data = docs, store, vectors, data
        sizes = np.array([d.size for d in docs], np.int64)
        self.doc_start = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        self.row_doc = np.repeat(np.arange(len(docs), dtype=np.int32), sizes)
        self.row_sent = (np.arange(len(self.row_doc)) - self.doc_start[self.row_doc]).astype(np.int32)

    def __len__(self) -> int:
        return len(self.row_doc)

    @property
    def texts(self) -> "_Texts":
        """Every row's sentence, read where indexed (as ``Ranker.texts``; qa/rerank.py)."""
        return _Texts(self, None)

    def text(self, row: int) -> str:
        d = self.docs[self.row_doc[row]]
        s, e = d.bounds[self.row_sent[row]]
        return d.document.text[s:e]

    def speaker(self, row: int) -> str | None:
        d = self.docs[self.row_doc[row]]
        return d.speakers[self.row_sent[row]] if d.speakers is not None else None

    def candidates(self, query: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """The rows to rank: the vector store's nearest sentences and every sentence of the best
        ARTICLES of their articles (only among ``rows`` when given); sorted."""
        found = self.store.candidates(query, CANDIDATES, rows)
        if not len(found):
            return found
        best_docs = list(dict.fromkeys(self.row_doc[found].tolist()))[:ARTICLES]
        extra = [np.arange(self.doc_start[d], self.doc_start[d + 1]) for d in best_docs]
        out = _unique(np.concatenate([found] + extra))
        if rows is not None:
            out = np.intersect1d(out, rows)
        return out

    def features(self, question: str, query: np.ndarray,
                 cand: np.ndarray) -> tuple[dict[str, np.ndarray], "_Texts"]:
        """The features of rows ``cand`` (sorted) that the scores weigh, computed as
        ``Ranker.features`` computes them, and the rows' sentences."""
        query = query.astype(np.float32)
        q_terms = terms(question)
        doc = self.row_doc[cand]
        sent = self.row_sent[cand]
        n = len(self.row_doc)
        # vectors of the candidates and of the sentences beside them, in one read
        near = _unique(np.concatenate([cand, cand[cand > 0] - 1, cand[cand < n - 1] + 1]))
        near_dense = np.asarray(self.vectors[near], np.float32) @ query
        dense = near_dense[np.searchsorted(near, cand)]
        neighbour = np.zeros(len(cand), np.float32)
        for step in (-1, 1):
            other = cand + step
            ok = (other >= 0) & (other < n)
            ok[ok] &= self.row_doc[other[ok]] == doc[ok]
            val = np.where(ok, near_dense[np.searchsorted(near, np.clip(other, 0, n - 1))], 0.0)
            neighbour = np.maximum(neighbour, val)
        docs = _unique(doc)  # doc is sorted (cand is): a row's article is its position in docs
        doc_of = np.searchsorted(docs, doc)
        names = asked_about(question)
        speaker = np.array([matches(s, names) for s in map(self.speaker, cand)],
                           np.float32) if names else np.zeros(len(cand), np.float32)
        flags = self.data.flags[cand]
        has_number = (flags & NUMBER).astype(bool).astype(np.float32)
        has_name = (flags & NAME).astype(bool).astype(np.float32)
        articles = self.data.postings["articles"]
        topic = terms(asked_topic(question)) if names else []

        cache: list = []

        def article_scores():  # capped and plain BM25 of the articles, from one read
            if not cache:
                cache.append(articles.scores(q_terms, docs, both=True))
            return cache[0]

        feats = {
            "dense": lambda: dense,
            "doc": lambda: (np.asarray(self.data.centroids[docs], np.float32) @ query)[doc_of],
            "neighbour": lambda: neighbour,
            "lex": lambda: self.data.postings["sentences"].scores(q_terms, cand),
            "doc_lex": lambda: article_scores()[0][doc_of],
            "doc_bm25": lambda: article_scores()[1][doc_of],
            "title_lex": lambda: self.data.postings["titles"].scores(q_terms, docs)[doc_of],
            "speaker": lambda: speaker,
            "lead": lambda: (1.0 / (1.0 + sent)).astype(np.float32),
            "answer_type": lambda: rank.answer_type(question, has_number, has_name),
            "topic_miss": lambda: (1.0 - articles.scores(topic, docs))[doc_of] if topic
            else np.zeros(len(cand), np.float32),
        }
        # a feature no score weighs (the sentence's own BM25 today) is not read from disk
        used = {name for w in (rank.WEIGHTS, rank.EVIDENCE) for name, x in w.items() if x}
        return {name: f() for name, f in feats.items() if name in used}, _Texts(self, cand)

    def search(self, question: str, query: np.ndarray, k: int,
               rows: np.ndarray | None = None) -> list[Ranked]:
        cand = self.candidates(query, rows)
        if not len(cand):
            return []
        feats, texts = self.features(question, query, cand)
        scores = rank.fuse(feats)
        evidence = rank.fuse(feats, rank.EVIDENCE)
        scores = rank.focus_speaker(scores, feats["speaker"], self.row_doc[cand])
        best = rank.top_k(scores, min(len(scores), 4 * k + 20))
        chosen = rank.distinct(best, texts, k)
        scale = rank.score_scale()
        return [Ranked(int(cand[i]), float(scores[i]) / scale, self.speaker(int(cand[i])),
                       float(evidence[i])) for i in chosen]


class _Texts:
    """The sentences of candidate rows (or of every row: ``rows`` None), read only where asked
    (``rank.distinct`` reads the best few dozen)."""

    def __init__(self, ranker: CandidateRanker, rows: np.ndarray):
        self.ranker, self.rows = ranker, rows

    def __getitem__(self, i: int) -> str:
        return self.ranker.text(int(i if self.rows is None else self.rows[i]))

    def __len__(self) -> int:
        return len(self.ranker) if self.rows is None else len(self.rows)


def _unique(a: np.ndarray) -> np.ndarray:
    """Sorted distinct values (np.unique, without its hashing: faster on a few hundred ints)."""
    a = np.sort(a)
    return a[np.concatenate([[True], a[1:] != a[:-1]])] if len(a) else a
