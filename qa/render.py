"""Answers, questions and the sources list as HTML that shows article text as text.

Every piece of article or question text goes through ``escape``: anything that could be markup
in HTML, in Markdown, in a template (``${}``, ``{{}}``) or an autolink (``www.``, ``http://``,
``a@b``) becomes a numeric character reference, so the browser shows the characters and never
builds an element, a link, an image or a script from them. The app renders these strings with
Markdown off and Gradio's sanitiser on; the escaping does not rely on either.
"""
from __future__ import annotations

import string
from typing import Iterable

from .answer import decide
from .types import Answer, Document, Hit

# Characters that are never syntax in HTML, Markdown, LaTeX delimiters or templates.
_PLAIN = frozenset(string.ascii_letters + string.digits + " ,;?-")


def escape(text: str, *, breaks: bool = False) -> str:
    """``text`` as HTML text content; with ``breaks`` a newline becomes ``<br>``."""
    out = []
    for ch in text:
        if ch in _PLAIN or (ord(ch) > 127 and ch.isprintable()):
            out.append(ch)
        elif ch == "\n":
            out.append("<br>" if breaks else " ")
        elif ch in "\t\r":
            out.append(" ")
        elif _not_text(ord(ch)):
            continue  # control characters, noncharacters, lone surrogates: not allowed in HTML
        else:
            out.append(f"&#{ord(ch)};")
    return "".join(out)


def _not_text(o: int) -> bool:
    return (o < 32 or 127 <= o < 160 or 0xD800 <= o <= 0xDFFF or 0xFDD0 <= o <= 0xFDEF
            or (o & 0xFFFE) == 0xFFFE)


def question_html(message: str) -> str:
    """What the person typed, shown in the chat as they typed it."""
    return f'<span class="qa-question">{escape(message.strip())}</span>'


def citation(hit: Hit, sentences: int | None = None) -> str:
    where = f"sentence {hit.sentence + 1}" + (f" of {sentences}" if sentences else "")
    parts = [hit.title or hit.doc_id, hit.source, hit.published]
    cite = " · ".join(escape(p) for p in parts if p)
    return (f'<div class="qa-cite">— {cite} · {where} '
            f'<span class="qa-score" title="similarity to the question">score {hit.score:.2f}'
            '</span></div>')


def in_context(hit: Hit) -> str:
    """The sentences around the hit, the hit itself highlighted, in a fold."""
    a, b = hit.start - hit.context_start, hit.end - hit.context_start
    passage = (escape(hit.context[:a], breaks=True) + '<mark class="qa-hit">'
               + escape(hit.context[a:b], breaks=True) + "</mark>"
               + escape(hit.context[b:], breaks=True))
    return (f'<details class="qa-context"><summary>In context</summary>'
            f'<p>{passage}</p></details>')


def hit_html(hit: Hit, sentences: int | None = None, *, weak: bool = False) -> str:
    cls = "qa-quote qa-weak" if weak else "qa-quote"
    return (f'<div class="{cls}"><blockquote>{escape(hit.text)}</blockquote>'
            f"{citation(hit, sentences)}{in_context(hit)}</div>")


def answer_html(answer: Answer, hits: list[Hit], *, understood: str | None = None,
                more: bool = False, counts: dict[str, int] | None = None) -> str:
    """The bot's reply: ``hits`` (a page of ``answer.hits``), cited, each openable in context.

    ``understood`` is the question as the bot took it (a rewritten follow-up); ``more`` marks a
    "what else?" page; ``counts`` gives sentence counts per article for the citations.
    """
    counts = counts or {}
    parts = []
    if understood:
        parts.append(f'<p class="qa-understood">Taken as: “{escape(understood)}”</p>')
    if not answer.answered:
        parts.append('<p class="qa-none"><b>The articles don’t cover this.</b></p>')
        if hits:
            parts.append('<p class="qa-nearest">Nearest sentences — <b>not an answer</b>, shown '
                         "only for reference:</p>")
    elif more and not hits:
        parts.append('<p class="qa-none">That is all the articles have on this.</p>')
    elif more:
        parts.append('<p class="qa-lead">More from the articles:</p>')
    for hit in hits:
        weak = not answer.answered or not decide([hit])
        parts.append(hit_html(hit, counts.get(hit.doc_id), weak=weak))
    return '<div class="qa-answer">' + "".join(parts) + "</div>"


def note_html(text: str) -> str:
    """A plain message from the bot (an error, a hint)."""
    return f'<div class="qa-answer"><p class="qa-note">{escape(text)}</p></div>'


def sources_html(docs: Iterable[Document], counts: dict[str, int]) -> str:
    """The indexed articles as a table: headline, source, date, sentences."""
    rows = []
    for doc in docs:
        rows.append("<tr>" + "".join(f"<td>{escape(v)}</td>" for v in (
            doc.title or doc.id, doc.source or "", doc.published or "",
            str(counts.get(doc.id, 0)))) + "</tr>")
    if not rows:
        return '<p class="qa-note">No article is indexed yet: upload one below.</p>'
    return ('<table class="qa-sources"><thead><tr><th>Headline</th><th>Source</th><th>Date</th>'
            "<th>Sentences</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>")


def stats_line(articles: int, sentences: int) -> str:
    a = "article" if articles == 1 else "articles"
    s = "sentence" if sentences == 1 else "sentences"
    return f"{articles} {a} and {sentences} {s} indexed."
