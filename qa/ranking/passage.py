"""The asked person's passage: for a "what did X say" question, the sentences of X's articles
that the attribution pass (qa/ingest/speakers.py) leaves without a speaker but that still carry
X's words.

News reports one person's words over several sentences, and only some of them carry a speech
verb (or another form the pass reads) with X as its subject. The rest name X some other way
("Mr Gref also poured cold water on ...", "Saints boss Redknapp was upbeat about ...") or continue
a quotation after the sentence that attributed it. Two features, one value per picked row (0 for
every row of a question that names nobody):

- ``mention``: the sentence names X (one of the question's words for X, in any case, or with a
  possessive);
- ``chain``: the sentence holds quotation marks and follows, in its article, a sentence said by X,
  naming X, or itself in the chain; a sentence said by or naming X is not in the chain.

Only the articles that name X are read, the best ``tuning.ARTICLES`` of them by how much of the
question and of X's name they hold: a few hundred sentences at most, whatever the index's size.
"""
from __future__ import annotations

import re

import numpy as np

from ..tuning import ARTICLES
from .lexical import terms
from .sources import RowMap

_QUOTE = re.compile(r"[\"“”]")


def passage(names: set[str], rowmap: RowMap, articles, rows: np.ndarray | None,
            docs: np.ndarray | None, doc_lex: np.ndarray, said: np.ndarray,
            limit: int = ARTICLES) -> tuple[np.ndarray, np.ndarray]:
    """(``mention``, ``chain``) of the picked ``rows`` (None: every row) for a question asking
    what the person ``names`` (speakers.asked_about) said. ``articles``: the corpus's article
    BM25 (CorpusData.articles); ``docs``: the picked articles (None: all), ``doc_lex`` the
    question's BM25 of each of them; ``said``: the speaker feature of the picked rows."""
    n = len(said)
    mention, chain = np.zeros(n, np.float32), np.zeros(n, np.float32)
    words = sorted(set(terms(" ".join(sorted(names)))))
    if not words:
        return mention, chain
    # the name's words as written ("Gref", "Gref's"): one search a sentence
    named = re.compile(r"\b(?:%s)(?:['’]s)?\b" % "|".join(map(re.escape, sorted(names))),
                       re.IGNORECASE)
    held = articles.scores(words, docs)
    hold = np.flatnonzero(held > 0)
    best = hold[np.argsort(-(held[hold] + doc_lex[hold]), kind="stable")[:limit]]
    for j in best:
        doc = int(j if docs is None else docs[j])
        lo, hi = int(rowmap.doc_start[doc]), int(rowmap.doc_start[doc + 1])
        at = np.arange(lo, hi) if rows is None else np.searchsorted(rows, np.arange(lo, hi))
        follows = False  # the sentence before is X's: said by X, naming X, or in the chain
        for row, i in zip(range(lo, hi), at.tolist()):
            picked = rows is None or (i < len(rows) and rows[i] == row)
            text = rowmap.text(row)
            names_x = named.search(text) is not None
            is_said = picked and said[i] > 0
            quoted = follows and not (names_x or is_said) and bool(_QUOTE.search(text))
            if picked:
                mention[i], chain[i] = names_x, quoted
            follows = names_x or is_said or quoted
    return mention, chain
