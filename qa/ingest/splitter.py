"""Sentence splitting for news text, with exact character offsets.

syntok does the splitting (it keeps a closing quote with its sentence, knows abbreviations such as
U.S., Mr., Feb. and Gen., initials and numbers like 1.13bn). On top of it this module decides what a
paragraph is and finds the dateline (``TOKYO, February 2. /TASS/.``), which is metadata, not a
sentence.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..types import Span

# Bump when splitting changes: it is part of the index fingerprint, so indexes re-split.
SPLITTER_VERSION = "syntok-1"

_MONTH = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
          r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?")
_PLACE = r"(?P<place>[A-Z][A-Z.'\-]+(?: [A-Z][A-Z.'\-]+)*(?:, [A-Z][A-Za-z.]+)?)"
_DATE = rf"(?P<date>{_MONTH} \d{{1,2}}(?:, \d{{4}})?)"
# TASS: "TOKYO, February 2. /TASS/."   Reuters/AP: "LONDON, Feb 2 (Reuters) -", "PARIS (AP) —"
_DATELINES = [
    re.compile(rf"{_PLACE}, {_DATE}\.? */(?P<agency>[A-Za-z\-]+)/\.?[ \t]*"),
    re.compile(rf"{_PLACE}(?:, {_DATE})? \((?P<agency>[A-Za-z][A-Za-z .\-]*)\) *[-\u2013\u2014]+[ \t]*"),
    re.compile(rf"{_PLACE}(?:, {_DATE})? *[\u2013\u2014][ \t]*"),
]


@dataclass(frozen=True)
class Dateline:
    place: str
    date: str | None
    agency: str | None
    span: Span


def find_dateline(text: str, start: int = 0) -> Dateline | None:
    """A dateline at ``text[start:]`` (after leading spaces), or None."""
    pos = start
    while pos < len(text) and text[pos] in " \t":
        pos += 1
    for pattern in _DATELINES:
        m = pattern.match(text, pos)
        if m:
            groups = m.groupdict()
            return Dateline(place=groups["place"], date=groups.get("date"),
                            agency=groups.get("agency"), span=Span(m.start(), m.end()))
    return None


def paragraphs(text: str) -> list[Span]:
    """Paragraph spans. Blank lines separate paragraphs where the text has any; otherwise every
    line is a paragraph (the one-paragraph-a-line shape of wire copy)."""
    sep = re.compile(r"\n[ \t]*\n\s*") if re.search(r"\n[ \t]*\n", text) else re.compile(r"\n\s*")
    spans, pos = [], 0
    for m in sep.finditer(text):
        spans.append(Span(pos, m.start()))
        pos = m.end()
    spans.append(Span(pos, len(text)))
    return [s for s in (_strip(text, s) for s in spans) if s.end > s.start]


def _strip(text: str, span: Span) -> Span:
    start, end = span.start, span.end
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return Span(start, end)


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[Span]:
    """Sentence spans of ``text[start:end]``, offsets into ``text``."""
    import syntok.segmenter as segmenter  # light, but only needed when splitting

    end = len(text) if end is None else end
    spans: list[Span] = []
    for para in paragraphs(text[start:end]):
        chunk = text[start + para.start:start + para.end]
        base = start + para.start
        for sentences in segmenter.analyze(chunk):
            for tokens in sentences:
                real = [t for t in tokens if t.value]
                if not real:
                    continue
                s = base + real[0].offset
                e = base + real[-1].offset + len(real[-1].value)
                span = _strip(text, Span(s, e))
                if span.end > span.start and any(c.isalnum() for c in text[span.start:span.end]):
                    spans.append(span)
    return spans


def split_document(text: str) -> tuple[list[Span], Dateline | None]:
    """Sentence spans of an article body, and its dateline if it has one.

    The dateline is looked for at the start of each of the first three paragraphs (the seed
    shape has a standfirst before the body) and is cut out of the sentence it would open.
    """
    dateline = None
    paras = paragraphs(text)
    for para in paras[:3]:
        dateline = find_dateline(text, para.start)
        if dateline and dateline.span.end < para.end:
            break
        dateline = None
    if dateline is None:
        return split_sentences(text), None
    before = split_sentences(text, 0, dateline.span.start)
    after = split_sentences(text, dateline.span.end)
    return before + after, dateline
