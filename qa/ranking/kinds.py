"""The kind of answer a question asks for, and whether a sentence holds it.

Two checks, both read from the question here, once (``Kind``):
- ``flag``: what the ranker's ``answer_type`` feature looks for in every candidate, from a flag
  stored per sentence (``corpusdata.CorpusData.flags``): any number ("how many", "when", ...) or
  any name ("who");
- ``fine``: a finer check run on the few candidates left at the top (``rescore``): "when" wants a date, not just any number ("aged 91" does not say when
Fletcher first appeared on TV, "in 1937" does); "how many flights" wants a number counting flights
("77 ... flights", "92-cap"); "how much" wants an amount of money or a share; "why" wants a cause
("due to", "because"). Numbers and dates the question already holds do not count: they are what
it asks about, not the answer. ("Who" is left to the ranker's flag: a name-kind check here cost
WikiQA-dev questions, BENCHMARKS.md.)
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace

import numpy as np

from ..tuning import KIND_FOUND, KIND_MISSING, KIND_UNIT_AFTER, KIND_WEIGHT
from .lexical import terms

# The ranker's flags: a sentence that holds a number or a name (stored per sentence at ingest).
NUMBER = re.compile(r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|hundred|thousand|"
                    r"million|billion|dozen)\b", re.IGNORECASE)
NAME = re.compile(r"(?<!^)(?<![.!?] )\b[A-Z][a-z]+(?: [A-Z][a-z]+)+")
# What a question wants for the flag. Broader than the fine kinds below ("how long" wants a
# number either way; "who" a name, which the fine check leaves alone): the weights were tuned with
# these, and narrowing one to the other changed dev figures (BENCHMARKS.md).
_WANTS_NUMBER = re.compile(r"^\s*(?:how (?:many|much|long|old|far|big|tall|high|fast|often)|when|"
                           r"what (?:year|date|time|age|percentage|proportion)|in what year)\b",
                           re.IGNORECASE)
_WANTS_NAME = re.compile(r"^\s*(?:who|whom|whose)\b", re.IGNORECASE)

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


@dataclass(frozen=True)
class Kind:
    flag: str | None  # "number", "name" or None: what the answer_type feature rewards
    fine: str | None  # date, amount, count, cause or None: what ``rescore`` checks


def kind(question: str) -> Kind:
    """The kind of answer ``question`` asks for, both ways."""
    flag = "number" if _WANTS_NUMBER.search(question) else \
        "name" if _WANTS_NAME.search(question) else None
    return Kind(flag, wants(question))


def answer_type(kind: Kind, has_number, has_name):
    """1 for sentences holding the kind of thing the question asks for (a number or date for
    "how many"/"when", a name for "who"), else 0: the ranker's ``answer_type`` feature."""
    if kind.flag == "number":
        return has_number
    if kind.flag == "name":
        return has_name
    return np.zeros(len(has_number), np.float32)


def wants(question: str) -> str | None:
    """The kind of answer ``question`` asks for: date, amount, count, cause, or None."""
    for kind, pattern in _WANTS:
        if pattern.search(question):
            return kind
    return None


# Questions whose answer is a name: "who", "where", "which actor / team / country ..."
_ASKS_NAME = re.compile(r"^\s*(?:who|whom|whose|where|in which (?:country|city|town)|which "
                        r"(?:person|man|woman|player|actor|team|club|company|country|city|town|"
                        r"film|album|band))\b", re.IGNORECASE)
_CAPITALISED = re.compile(r"\b[A-Z][\w'’\-]+")


def holds_asked(question: str, sentence: str) -> bool | None:
    """Whether ``sentence`` holds an item of the kind ``question`` asks for that the question
    does not hold itself: for "who" / "where" / "which actor ..." a capitalised word the question
    lacks ("Who succeeded Pierce Brosnan as James Bond?" over a sentence naming only Brosnan and
    Bond: False); for the fine kinds (``wants``) a fit above 0. None when it asks for no known
    kind. (The abstention rule's ``asked_absent``, qa/ranking/decide.py.)"""
    if _ASKS_NAME.search(question):
        asked = set(terms(question))
        return any(not set(terms(w)) <= asked for w in _CAPITALISED.findall(sentence))
    if wants(question) is None:
        return None
    return fit(question, [sentence])[0] > 0


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
    near = {j for i in numbers for j in range(i + 1, min(len(words), i + 1 + KIND_UNIT_AFTER))}
    return any((terms(words[j]) or [""])[0] in units for j in near)


def rescore(question: str, ranked: list, texts, weight: float = KIND_WEIGHT) -> list:
    """The ranker's candidates (``Ranked``, best first) re-ordered by score plus ``weight`` times
    their fit to the question (scores stay 0 to 1: divided by 1 + weight); the evidence of each
    lowered by ``KIND_MISSING`` when it fits not at all, raised by ``KIND_FOUND`` when it fits
    fully (qa.tuning says where these were measured)."""
    if not ranked or wants(question) is None:
        return ranked
    fits = fit(question, [texts[r.row] for r in ranked])
    scored = [replace(r, score=(r.score + weight * f) / (1.0 + weight),
                      evidence=r.evidence - KIND_MISSING * (f == 0) + KIND_FOUND * (f == 1))
              for r, f in zip(ranked, fits)]
    return sorted(scored, key=lambda r: -r.score)
