"""Dataclasses that cross the layers: documents in, hits and answers out."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Document:
    """One article. ``text`` is what sentences and offsets refer to."""

    id: str
    text: str
    title: str = ""
    published: str | None = None
    source: str | None = None
    url: str | None = None
    place: str | None = None
    origin: str | None = None  # where it was read from: a path, "path:line", or None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Span:
    """A sentence of a document: ``document.text[start:end]``."""

    start: int
    end: int


@dataclass
class Hit:
    """One retrieved sentence, exactly as it stands in its article.

    ``document.text[hit.start:hit.end] == hit.text`` always holds. ``context`` is the passage of
    the article around it (neighbouring sentences included, exact text), and the hit sits at
    ``context[hit.start - hit.context_start : hit.end - hit.context_start]``.
    """

    text: str
    score: float
    doc_id: str
    title: str
    sentence: int
    start: int
    end: int
    context: str
    context_start: int
    published: str | None = None
    source: str | None = None
    url: str | None = None
    speaker: str | None = None
    evidence: float | None = None  # how well it answers at all (qa.ranking.decide); None: unknown
    # the words that answer the question (qa/phrases.py): offsets into the article, or None
    answer_start: int | None = None
    answer_end: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Answer:
    """The answer to a question: ``answered`` is False when nothing in the corpus answers it;
    ``hits`` may then still hold the nearest candidates. ``statements``: the hits are every
    statement of the person a "what did X say" question names, grouped by article."""

    question: str
    hits: list[Hit] = field(default_factory=list)
    answered: bool = False
    taken_as: str | None = None  # the date and source limits, as read ("published 1–28 ...")
    statements: bool = False  # hits are everything the person asked about said (qa/statements.py)
    undated: list[str] = field(default_factory=list)  # hit articles kept by a date limit undated

    def to_dict(self) -> dict[str, Any]:
        return {"question": self.question, "answered": self.answered,
                "taken_as": self.taken_as, "statements": self.statements,
                "undated": list(self.undated), "hits": [h.to_dict() for h in self.hits]}
