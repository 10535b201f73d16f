"""Does a candidate sentence hold the kind of thing the question asks for?

A finer check than the ranker's ``answer_type`` flag (any number, any name), run on the few
candidates left at the top: "when" wants a date, not just any number ("aged 91" does not say when
Fletcher first appeared on TV, "in 1937" does); "how many flights" wants a number counting flights
("77 ... flights", "92-cap"); "how much" wants an amount of money or a share; "why" wants a cause
("due to", "because"). Numbers and dates the question already holds do not count: they are what
it asks about, not the answer. ("Who" is left to the ranker's flag: a name-kind check here cost
WikiQA-dev questions, BENCHMARKS.md.)
"""
from __future__ import annotations

import re
from dataclasses import replace

from .lexical import terms

_MONTH = ("January|February|March|April|May|June|July|August|September|October|November|December|"
          "Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec")
_DATE = re.compile(
    rf"\b(?:1[0-9]\d\d|20\d\d)s?\b|\b(?:{_MONTH})\b|\b(?:Monday|Tuesday|Wednesday|Thursday|Friday|"
    r"Saturday|Sunday)\b|\b(?:yesterday|today|tomorrow)\b|\b(?:last|next|this|earlier this|later "
    r"this) (?:week|month|year|season|summer|winter|spring|autumn|weekend)\b|\bsince \d|\b\d+ "
    r"(?:days|weeks|months|years|decades) (?:ago|later|earlier)\b|\bcentury\b")
_NUMBER = re.compile(r"\d[\d,.]*|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|"
                     r"twelve|twenty|thirty|forty|fifty|hundred|thousand|million|billion|dozen|"
                     r"half|double|twice|first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|"
                     r"tenth)\b", re.IGNORECASE)
_MONEY = re.compile(r"[£$€¥]\s?\d|\d\s?(?:%|per ?cent|bn\b|m\b|euros?|dollars?|pounds?|"
                    r"rupees?|yen|yuan)|\b(?:million|billion) (?:euros|dollars|pounds)", re.IGNORECASE)
_CAUSE = re.compile(r"\b(?:because|due to|as a result|owing to|thanks to|caused by|blamed|"
                    r"reasons?|in order to|so that|after|following|amid)\b", re.IGNORECASE)
_WORD = re.compile(r"\d[\d,.]*[^\W_]*|[^\W_]+(?:['’][^\W_]+)*")

_WANTS = [  # (kind, question pattern); the first that matches
    ("date", re.compile(r"^\s*(?:(?:since |until |by |from )?when|(?:in |by |since )?what "
                        r"(?:year|date|day|month|decade|century)|(?:in )?which (?:year|month|day))\b",
                        re.IGNORECASE)),
    ("amount", re.compile(r"^\s*(?:(?:by |for |to )?how much|(?:at |for )?what (?:price|cost)|"
                          r"what (?:percentage|proportion|share|amount|sum))\b", re.IGNORECASE)),
    ("count", re.compile(r"^\s*(?:(?:in |on |at |for |by |of |with )?how (?:many|long|old|far|big|"
                         r"tall|high|fast|often|large|heavy|deep)|what (?:number|figure|age|"
                         r"speed|score|size|rate|total|level))\b", re.IGNORECASE)),
    ("cause", re.compile(r"^\s*why\b", re.IGNORECASE)),
]
_UNIT_AFTER = 5  # "77 short and medium-distance flights": a counted noun within this many words


def wants(question: str) -> str | None:
    """The kind of answer ``question`` asks for: date, amount, count, cause, or None."""
    for kind, pattern in _WANTS:
        if pattern.search(question):
            return kind
    return None


def fit(question: str, sentences: list[str]) -> list[float]:
    """For each sentence, 0 to 1: how well it holds the kind of answer the question wants
    (0 for every sentence when the question's kind is not known)."""
    kind = wants(question)
    if kind is None:
        return [0.0] * len(sentences)
    asked = question.lower()
    if kind == "date":
        return [float(any(m.group(0).lower() not in asked for m in _DATE.finditer(s)))
                for s in sentences]
    if kind == "cause":
        return [float(bool(_CAUSE.search(s))) for s in sentences]
    units = set(_counted(question))
    out = []
    for s in sentences:
        words = _WORD.findall(s)
        new = _new_numbers(words, asked)
        if not new:
            out.append(0.0)
        elif kind == "amount" and any(m.group(0).lower() not in asked for m in _MONEY.finditer(s)):
            out.append(1.0)
        elif units and _counts(words, new, units):
            out.append(1.0)
        else:
            out.append(0.5)
    return out


def _counted(question: str) -> list[str]:
    """The terms of what a "how many ..." question counts (the words after "how many")."""
    m = re.search(r"\bhow (?:many|much)\s+(.*)", question, re.IGNORECASE)
    return terms(" ".join(m.group(1).split()[:3])) if m else []


def _new_numbers(words: list[str], asked: str) -> list[int]:
    """Positions of the numbers among a sentence's ``words`` that the question does not hold."""
    return [i for i, w in enumerate(words)
            if (w[0].isdigit() or _NUMBER.fullmatch(w)) and w.lower().rstrip(".,") not in asked]


def _counts(words: list[str], numbers: list[int], units: set[str]) -> bool:
    """Whether one of the numbers (positions in ``words``) is followed closely by a word of what
    is counted."""
    near = {j for i in numbers for j in range(i + 1, min(len(words), i + 1 + _UNIT_AFTER))}
    return any((terms(words[j]) or [""])[0] in units for j in near)


# Added to a candidate's score times its fit (scores stay 0 to 1: divided by 1 + WEIGHT), for the
# ranker's best DEPTH candidates, before the cross-encoder reads the best 10 of them. Chosen on
# WikiQA-dev and BBC dev (BENCHMARKS.md): it moved three BBC fact answers to the top, and looking
# 20 deep brought WikiQA-dev answers the ranker had at 11-20 ("When was the 27th amendment
# proposed?") within the cross-encoder's reach.
WEIGHT = 0.15
DEPTH = 20


# Taken from / added to the evidence that anything answers (qa.answer.decide) when the ranker's
# best candidate holds nothing / exactly of the kind asked for: a "when" question whose best
# sentence has no date is less likely answered by the corpus at all, one whose best sentence has a
# date more. Chosen on the dev `none` questions (BENCHMARKS.md): MISSING took WikiQA-dev `none`
# abstained 0.371 -> 0.394 with answerable answered unchanged (0.905); FOUND then traded two of
# them for two answered answerable ones (0.382 / 0.921), BBC unchanged, and answers "When did
# Kishida and Biden talk?" on the seed article alone (0.96 -> 1.06).
MISSING = 0.1
FOUND = 0.1


def rescore(question: str, ranked: list, texts, weight: float = WEIGHT) -> list:
    """The ranker's candidates (``Ranked``, best first) re-ordered by score plus ``weight`` times
    their fit to the question; the evidence of each lowered by ``MISSING`` when it fits not at
    all, raised by ``FOUND`` when it fits fully."""
    if not ranked or wants(question) is None:
        return ranked
    fits = fit(question, [texts[r.row] for r in ranked])
    scored = [replace(r, score=(r.score + weight * f) / (1.0 + weight),
                      evidence=r.evidence - MISSING * (f == 0) + FOUND * (f == 1))
              for r, f in zip(ranked, fits)]
    return sorted(scored, key=lambda r: -r.score)
