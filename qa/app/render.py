"""Answers, questions and the sources list as HTML that shows article text as text.

Every piece of article or question text goes through ``escape``: anything that could be markup
in HTML, in Markdown, in a template (``${}``, ``{{}}``) or an autolink (``www.``, ``http://``,
``a@b``) becomes a numeric character reference, so the browser shows the characters and never
builds an element, a link, an image or a script from them. The app renders these strings with
Markdown off and Gradio's sanitiser on; the escaping does not rely on either.

Each piece of article text is also isolated in a ``<bdi>``: a right-to-left override in a
headline reorders that headline only, never the app's own labels around it ("sentence 2 of 2 ·
score 0.34"). A sentence longer than ``MAX_QUOTE_CHARS`` is quoted shortened; the "In context"
view holds it whole, with its neighbours shortened. ``compact`` makes an earlier answer small for
the chat history.
"""
from __future__ import annotations

import html as _html
import string
from html.parser import HTMLParser
from typing import Iterable

from ..ranking.decide import decide
from ..types import Answer, Document, Hit

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


MAX_QUOTE_CHARS = 400  # a quoted sentence, a neighbour in context, any text of an earlier answer


def text(piece: str, *, breaks: bool = False) -> str:
    """A piece of article or question text: escaped, and isolated for bidirectional layout."""
    return f"<bdi>{escape(piece, breaks=breaks)}</bdi>" if piece else ""


def shorten(piece: str, limit: int = MAX_QUOTE_CHARS, *, keep_end: bool = False) -> str:
    """``piece`` cut to about ``limit`` characters at a space, with "…" where it was cut
    (at the start when ``keep_end``)."""
    if len(piece) <= limit:
        return piece
    if keep_end:
        cut = piece[-limit:]
        space = cut.find(" ")
        return "…" + (cut[space + 1:] if 0 <= space < limit // 4 else cut)
    cut = piece[:limit]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit * 3 // 4 else cut) + "…"


def _not_text(o: int) -> bool:
    return (o < 32 or 127 <= o < 160 or 0xD800 <= o <= 0xDFFF or 0xFDD0 <= o <= 0xFDEF
            or (o & 0xFFFE) == 0xFFFE)


def question_html(message: str) -> str:
    """What the person typed, shown in the chat as they typed it."""
    return f'<span class="qa-question">{text(message.strip())}</span>'


def citation(hit: Hit, sentences: int | None = None, *, undated: bool = False) -> str:
    where = f"sentence {hit.sentence + 1}" + (f" of {sentences}" if sentences else "")
    cite = _cited(hit, undated)
    return (f'<div class="qa-cite">— {cite} · {where} '
            f'<span class="qa-score" title="similarity to the question">score {hit.score:.2f}'
            '</span></div>')


def _cited(hit: Hit, undated: bool = False) -> str:
    """Headline · source · date of a hit's article (the date marked when it has no year)."""
    parts = [hit.title or hit.doc_id, hit.source, hit.published]
    cite = " · ".join(text(p) for p in parts if p)
    if undated:
        cite += (' <span class="qa-undated" title="no year known: kept by the date limit">'
                 "(undated)</span>")
    return cite


def in_context(hit: Hit) -> str:
    """The sentences around the hit, the hit itself highlighted (whole), in a fold."""
    a, b = hit.start - hit.context_start, hit.end - hit.context_start
    before = shorten(hit.context[:a], keep_end=True)
    after = shorten(hit.context[b:])
    passage = (text(before, breaks=True) + '<mark class="qa-hit">'
               + text(hit.context[a:b], breaks=True) + "</mark>" + text(after, breaks=True))
    return (f'<details class="qa-context"><summary>In context</summary>'
            f'<p>{passage}</p></details>')


def quote_html(hit: Hit) -> str:
    """The quoted sentence (shortened when long), its answer phrase in a ``<mark>`` when one
    is set and shown (qa/phrases.py)."""
    shown = shorten(hit.text)
    if hit.answer_start is None or hit.answer_end is None:
        return text(shown)
    a, b = hit.answer_start - hit.start, hit.answer_end - hit.start
    if not 0 <= a < b <= len(shown) or shown[a:b] != hit.text[a:b]:
        return text(shown)
    return (f"<bdi>{escape(shown[:a])}<mark class=\"qa-answer-phrase\">{escape(shown[a:b])}"
            f"</mark>{escape(shown[b:])}</bdi>")


def hit_html(hit: Hit, sentences: int | None = None, *, weak: bool = False,
             undated: bool = False) -> str:
    """A quoted sentence with its citation, copy button and context."""
    cls = "qa-quote qa-weak" if weak else "qa-quote"
    quote = quote_html(hit)
    if len(hit.text) > MAX_QUOTE_CHARS:
        quote += (f' <span class="qa-shortened">(shortened from {len(hit.text):,} characters: '
                  "the whole sentence is in context)</span>")
    return (f'<div class="{cls}"><blockquote>{quote}</blockquote>'
            f"{citation(hit, sentences, undated=undated)}{copy_button(hit)}{in_context(hit)}"
            "</div>")


def copy_button(hit: Hit) -> str:
    """A button that copies the quote and its citation (``qa.app.export.citation``), kept as hidden
    text beside it (the chat's sanitiser drops data attributes); the page's ``COPY_SCRIPT``
    does the copying."""
    from .export import citation as plain

    cite = plain(hit, quote=shorten(hit.text))  # a very long sentence as it is quoted
    return ('<span class="qa-copy-box"><button type="button" class="qa-copy" '
            'title="Copy the quote with its headline, source, date and link">Copy citation'
            f'</button><span class="qa-cite-text">{escape(cite)}</span></span>')


# Copies a .qa-copy button's citation (the hidden .qa-cite-text beside it) when clicked (one listener for the whole page: answers
# come and go). The clipboard API needs a secure context (https or localhost); elsewhere a
# hidden text area and the copy command do it.
COPY_SCRIPT = """<script>
document.addEventListener("click", function (event) {
  var button = event.target.closest ? event.target.closest(".qa-copy") : null;
  if (!button) return;
  var box = button.closest(".qa-copy-box");
  var source = box ? box.querySelector(".qa-cite-text") : null;
  var text = source ? source.textContent : "";
  function done() { button.textContent = "Copied"; setTimeout(function () {
    button.textContent = "Copy citation"; }, 1500); }
  function fallback() {
    var area = document.createElement("textarea");
    area.value = text; area.setAttribute("readonly", ""); area.style.position = "fixed";
    area.style.opacity = "0"; document.body.appendChild(area); area.select();
    try { document.execCommand("copy"); } finally { area.remove(); }
    done();
  }
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(done, fallback);
  } else { fallback(); }
});
</script>"""


def answer_html(answer: Answer, hits: list[Hit], *, understood: str | None = None,
                more: bool = False, counts: dict[str, int] | None = None) -> str:
    """The bot's reply: ``hits`` (a page of ``answer.hits``), cited, each openable in context.

    ``understood`` is the question as the bot took it (a rewritten follow-up); ``more`` marks a
    "what else?" page; ``counts`` gives sentence counts per article for the citations.
    """
    counts = counts or {}
    parts = []
    if understood:
        parts.append(f'<p class="qa-understood">Taken as: “{text(understood)}”</p>')
    if answer.taken_as:
        parts.append(f'<p class="qa-limits">Taken as: {text(answer.taken_as)}</p>')
    if answer.statements and answer.answered and not more:
        return '<div class="qa-answer">' + "".join(parts) + statements_html(
            hits, counts, set(answer.undated)) + "</div>"
    if not answer.answered:
        parts.append('<p class="qa-none"><b>The articles don’t cover this.</b></p>')
        if hits:
            parts.append('<p class="qa-nearest">Nearest sentences — <b>not an answer</b>, shown '
                         "only for reference:</p>")
    elif more and not hits:
        parts.append('<p class="qa-none">That is all the articles have on this.</p>')
    elif more and not any(decide([hit]) for hit in hits):  # only sentences that do not answer
        parts.append('<p class="qa-none">Nothing more answers this.</p>')
        parts.append('<p class="qa-nearest">Nearest sentences — <b>not an answer</b>, shown only '
                     "for reference:</p>")
    elif more:
        parts.append('<p class="qa-lead">More from the articles:</p>')
    for hit in hits:
        weak = not answer.answered or not decide([hit])
        parts.append(hit_html(hit, counts.get(hit.doc_id), weak=weak,
                              undated=hit.doc_id in answer.undated))
    return '<div class="qa-answer">' + "".join(parts) + "</div>"


def statements_html(hits: list[Hit], counts: dict[str, int], undated: set[str]) -> str:
    """Everything a person said (qa/statements.py): how many, then each article's statements
    under its headline, source and date, in the order given (newest article first)."""
    from ..statements import count_line

    parts = [f'<p class="qa-lead qa-count">{escape(count_line(hits))}</p>']
    groups: dict[str, list[Hit]] = {}
    for hit in hits:
        groups.setdefault(hit.doc_id, []).append(hit)
    for doc_id, group in groups.items():
        n = len(group)
        parts.append(f'<div class="qa-article"><p class="qa-article-head"><b>'
                     f"{_cited(group[0], doc_id in undated)}</b> · {n} statement"
                     f"{'' if n == 1 else 's'}</p>")
        parts += [hit_html(h, counts.get(doc_id), undated=doc_id in undated) for h in group]
        parts.append("</div>")
    return "".join(parts)


def note_html(text: str) -> str:
    """A plain message from the bot (an error, a hint)."""
    return f'<div class="qa-answer"><p class="qa-note">{escape(text)}</p></div>'


def sources_html(docs: Iterable[Document], counts: dict[str, int]) -> str:
    """The indexed articles as a table: headline, source, date, sentences."""
    rows = []
    for doc in docs:
        rows.append("<tr>" + "".join(f"<td>{text(v)}</td>" for v in (
            doc.title or doc.id, doc.source or "", doc.published or ""))
            + f"<td>{counts.get(doc.id, 0)}</td></tr>")
    if not rows:
        return '<p class="qa-note">No article is indexed yet: upload one below.</p>'
    return ('<table class="qa-sources"><thead><tr><th>Headline</th><th>Source</th><th>Date</th>'
            "<th>Sentences</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>")


def stats_line(articles: int, sentences: int) -> str:
    a = "article" if articles == 1 else "articles"
    s = "sentence" if sentences == 1 else "sentences"
    return f"{articles} {a} and {sentences} {s} indexed."


def compact(message: str, limit: int = MAX_QUOTE_CHARS) -> str:
    """``message`` (HTML made by this module) with every run of text over ``limit`` characters
    shortened: what an earlier answer keeps in the chat history, so that the history sent with
    each answer stays small whatever the articles hold. Idempotent."""
    out: list[str] = []

    class _Compactor(HTMLParser):
        def handle_starttag(self, tag, attrs):
            out.append(f"<{tag}" + "".join(f' {k}="{_html.escape(v or "", quote=True)}"'
                                           for k, v in attrs) + ">")

        def handle_endtag(self, tag):
            out.append(f"</{tag}>")

        def handle_data(self, data):
            out.append(escape(shorten(data, limit)))

    parser = _Compactor(convert_charrefs=True)
    parser.feed(message)
    parser.close()
    return "".join(out)
