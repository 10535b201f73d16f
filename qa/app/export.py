"""An answer taken elsewhere: a citation to copy, the whole answer as Markdown or JSON.

Every piece of text is the article's own; nothing is rewritten. Citations read
    “QUOTE” — HEADLINE, SOURCE, DATE (sentence N). URL
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from ..types import Hit


@dataclass(frozen=True)
class Shown:
    """An answer as the chat showed it: the question, how it was asked (a follow-up rewritten),
    the articles searched (``limits``: dates and sources, as ``Answer.taken_as`` says them), the
    hits on screen."""

    question: str
    asked_as: str
    answered: bool
    hits: list[Hit] = field(default_factory=list)
    limits: str | None = None


def citation(hit: Hit, quote: str | None = None) -> str:
    """The quote (``quote``: a shortened one) with its headline, source, date and link."""
    where = ", ".join(_iso(x) for x in (hit.title or hit.doc_id, hit.source, hit.published)
                      if x)
    text = f"“{_iso(hit.text if quote is None else quote)}” — {where} " \
           f"(sentence {hit.sentence + 1})."
    return f"{text} {hit.url}" if hit.url else text


def markdown(shown: Shown) -> str:
    lines = [f"# {_md(shown.question)}", ""]
    if shown.asked_as != shown.question:
        lines += [f"Taken as: “{_md(shown.asked_as)}”", ""]
    if shown.limits:
        lines += [f"Taken as: {_md(shown.limits)}", ""]
    if not shown.answered:
        lines += ["**The articles don’t cover this.** Nearest sentences, not an answer:", ""]
    for n, hit in enumerate(shown.hits, 1):
        where = ", ".join(_md(x) for x in (hit.title or hit.doc_id, hit.source, hit.published)
                          if x)
        lines += [f"{n}. > {_md(hit.text)}", "",
                  f"   — {where} (sentence {hit.sentence + 1})"
                  + (f" <{hit.url}>" if hit.url else ""), ""]
    return "\n".join(lines).rstrip() + "\n"


def as_json(shown: Shown) -> str:
    # taken_as: the dates and sources searched, as `qa ask --json` and /api/ask say them
    return json.dumps({"question": shown.question, "asked_as": shown.asked_as,
                       "taken_as": shown.limits, "answered": shown.answered,
                       "hits": [h.to_dict() for h in shown.hits],
                       "citations": [citation(h) for h in shown.hits]},
                      ensure_ascii=False, indent=1)


_BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")


def _iso(text: str) -> str:
    """Article text with a bidirectional control in it, isolated (FSI ... PDI): pasted
    elsewhere, it cannot reorder the citation around it."""
    return f"\u2068{text}\u2069" if _BIDI & set(text) else text


def _md(text: str) -> str:
    """Article text as literal Markdown text: markup characters escaped, one line, isolated."""
    out = _iso(" ".join(str(text).split()))
    for ch in "\\`*_{}[]<>()#+-!|":
        out = out.replace(ch, "\\" + ch)
    return out
