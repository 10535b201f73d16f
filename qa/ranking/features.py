"""The features of a question's rows: one function, whatever source picked the rows.

Each feature is one value per picked row (``tuning.WEIGHTS`` says what each means and weighs):
the sentence's cosine alone and read in its article, its neighbours' (from the source), its
article centroid's cosine, BM25 of its article and title, who says it, its position, whether it
holds the kind of thing asked for, how much of a "what did X say about Y" question's Y its
article misses, and which sentences of X's articles name X or continue X's quotation
(passage.py).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ..ingest.speakers import asked_about, asked_topic, matches
from .corpusdata import HAS_NAME, HAS_NUMBER
from .kinds import Kind, answer_type
from .lexical import terms
from .passage import passage
from .sources import Picked, RowSource, unique


def features(question: str, query: np.ndarray, kind: Kind, source: RowSource,
             picked: Picked) -> dict[str, np.ndarray]:
    """Every feature of the rows ``picked`` for ``question`` (its vector ``query``)."""
    rm, data, rows = source.rowmap, source.data, picked.rows
    doc = rm.row_doc if rows is None else rm.row_doc[rows]
    sent = rm.row_sent if rows is None else rm.row_sent[rows]
    # article-level scores are computed for the articles the rows stand in (all: None)
    docs = None if rows is None else unique(doc)
    doc_of = doc if rows is None else np.searchsorted(docs, doc)
    q_terms = terms(question)
    names = asked_about(question)
    topic = terms(asked_topic(question)) if names else []
    doc_lex, doc_bm25 = data.articles.both(q_terms, docs)
    zeros = np.zeros(len(picked), np.float32)
    said = said_by(names, picked.speakers, picked.surnames)
    mention, chain = passage(names, rm, data.articles, rows, docs, doc_lex, said) if names \
        else (zeros, zeros)
    doc_cos = data.article_cosines(query, docs)[doc_of]
    return {
        "dense": picked.dense,
        "in_article": in_article(picked.dense, doc_cos, picked.typical),
        "doc": doc_cos,
        "neighbour": picked.neighbour,
        "doc_lex": doc_lex[doc_of],
        "doc_bm25": doc_bm25[doc_of],
        "title_lex": data.titles.scores(q_terms, docs)[doc_of],
        "speaker": said,
        "mention": mention,  # the asked person's passage (passage.py)
        "chain": chain,
        "lead": (1.0 / (1.0 + sent)).astype(np.float32),  # articles lead with the news
        "answer_type": answer_type(kind, data.has(HAS_NUMBER, rows), data.has(HAS_NAME, rows))
        if kind.flag else zeros,
        "topic_miss": (1.0 - data.articles.scores(topic, docs))[doc_of] if topic else zeros,
    }


def in_article(dense: np.ndarray, doc_cos: np.ndarray, typical: np.ndarray) -> np.ndarray:
    """The question's cosine with each sentence read in its article: with the sum of the
    sentence's vector and its article's centroid (both unit length), from the cosines the ranker
    has (the question's with each, and theirs with each other). "At 3km/h, it is closer to a
    leisurely jog" says nothing of Honda's robot on its own; in its article it does."""
    norm = np.sqrt(np.maximum(2.0 + 2.0 * typical, 1e-6))
    return ((dense + doc_cos) / norm).astype(np.float32)


def said_by(names: set[str], speakers: Sequence[str | None],
            surnames: np.ndarray | None = None) -> np.ndarray:
    """1.0 for the rows said by the person ``names`` names (``speakers.matches``), else 0.0.
    ``surnames``, when given, filters first: a row whose speaker's surname is not among the
    names cannot match."""
    out = np.zeros(len(speakers), np.float32)
    if not names:
        return out
    maybe = np.flatnonzero(np.isin(surnames, list(names))) if surnames is not None \
        else range(len(speakers))
    confirmed: dict[str | None, bool] = {}  # once per speaker
    for i in maybe:
        said = speakers[i]
        if said not in confirmed:
            confirmed[said] = matches(said, names)
        out[i] = confirmed[said]
    return out
