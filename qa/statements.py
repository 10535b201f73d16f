"""Everything a person said: the answer to "what did X say (think, tell, warn ...)?".

Such a question is not answered with a top k: it returns every sentence the index attributes to X
(qa/ingest/speakers.py, stored per sentence at ingest) in the articles searched, grouped by article,
newest article first (undated ones last), in article order inside each article. "... about Y"
narrows them to the topic: the statements the ranker scores at least ``TOPIC_THRESHOLD`` for the
whole question, best first (chosen by cross-validation on BBC dev + dev2, BENCHMARKS.md).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from . import periods
from .ingest import speakers
from .storage.stored import StoredDoc
from .types import Hit

# The ranker's score (0-1, qa/rerank.py) a statement needs to count as "about Y": chosen by
# cross-validation over BBC dev + dev2 (bench/statements.py); 0 keeps every statement of X.
# 0.60 until session 19; on the ranking since session 17 every fold picks 0.65: recall 0.896
# both, precision 0.857 -> 0.864 out of fold (BENCHMARKS.md "Session 19").
TOPIC_THRESHOLD = 0.65
CONTEXT_SENTENCES = 2
_WHAT = re.compile(r"^\s*(?:and\s+)?(?:what|how)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Asked:
    """A statements question as understood: who (name words), and on what ("" for anything)."""

    names: frozenset[str]
    topic: str


def asked(question: str) -> Asked | None:
    """Whether ``question`` asks what someone said: "What did Galuzin say?", "What does Peskov
    think about NATO?", "How did the minister warn ...". None for any other question."""
    if not _WHAT.match(question) or not speakers._ASK.search(question):
        return None
    names = speakers.asked_about(question)
    if not names:
        return None
    return Asked(frozenset(names), speakers.asked_topic(question))


def collect(docs: dict[str, StoredDoc], names: frozenset[str],
            scope: list[str] | None) -> list[tuple[StoredDoc, int]]:
    """(article, sentence number) of every statement by ``names`` in the articles ``scope``
    (None: all), newest article first, in article order inside each."""
    ids = list(docs) if scope is None else [i for i in dict.fromkeys(scope) if i in docs]
    found = []
    for order, doc_id in enumerate(ids):
        stored = docs[doc_id]
        said = [i for i, s in enumerate(stored.speakers or []) if s and speakers.matches(s, names)]
        if said:
            found.append((order, stored, said))
    found.sort(key=lambda f: (_newest_first(f[1]), f[0]))
    return [(stored, i) for _, stored, said in found for i in said]


def _newest_first(stored: StoredDoc) -> tuple:
    when = periods.article_date(stored.document)
    return (1, 0) if when is None else (0, -(when - date(1, 1, 1)).days)


def hit(stored: StoredDoc, i: int, score: float) -> Hit:
    """Sentence ``i`` of ``stored`` as a hit (the same fields as a ranked one)."""
    doc, bounds = stored.document, stored.bounds
    start, end = int(bounds[i][0]), int(bounds[i][1])
    lo = int(bounds[max(0, i - CONTEXT_SENTENCES)][0])
    hi = int(bounds[min(len(bounds) - 1, i + CONTEXT_SENTENCES)][1])
    return Hit(text=doc.text[start:end], score=score, doc_id=doc.id, title=doc.title,
               sentence=i, start=start, end=end, context=doc.text[lo:hi], context_start=lo,
               published=doc.published, source=doc.source, url=doc.url,
               speaker=(stored.speakers or [None] * (i + 1))[i])


def count_line(hits: list[Hit]) -> str:
    """ "6 statements in 1 article"."""
    n, a = len(hits), len({h.doc_id for h in hits})
    return (f"{n} statement{'' if n == 1 else 's'} in {a} article{'' if a == 1 else 's'}")
