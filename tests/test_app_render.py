"""Article and question text becomes HTML text, never markup (the browser test checks it live)."""
import re
import unicodedata
from html import unescape
from html.parser import HTMLParser

from hypothesis import given, settings, strategies as st

from qa import Answer, Document, Hit
from qa.app.render import answer_html, escape, question_html, sources_html

PAYLOADS = [
    "<script>window.__pwned=1;alert('script')</script>",
    '<img src="http://198.51.100.7/x.png" onerror="alert(1)">',
    "<iframe src=\"javascript:alert('iframe')\"></iframe>",
    '<a href="javascript:alert(1)">click</a>',
    "![pixel](http://198.51.100.7/pixel.png)",
    "[link](javascript:alert(1))",
    "<svg onload=alert(1)>",
    "${alert(1)} {{constructor.constructor('alert(1)')()}}",
    "$$\\href{javascript:alert(1)}{x}$$",
    "www.example.com and http://198.51.100.7/ and mail@example.com",
    "```mermaid\ngraph TD; A-->B\n```",
    "&lt;script&gt; already escaped &amp;",
]
ENTITY_OR_PLAIN = re.compile(r"(?:[A-Za-z0-9 ,;?\-]|[^\x00-\x7f]|&#\d+;)*")


class Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.attrs = set(), set()

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.attrs.update(name for name, _ in attrs)


def tags_of(html):
    parser = Tags()
    parser.feed(html)
    return parser.tags, parser.attrs


@settings(max_examples=500)
@given(st.text())
def test_escape_keeps_the_text_and_leaves_no_syntax(text):
    out = escape(text)
    assert ENTITY_OR_PLAIN.fullmatch(out)
    text = re.sub(r"[\t\r\n]", " ", text)
    carried = "".join(c for c in text  # controls are dropped, and what HTML cannot hold
                      if unicodedata.category(c) != "Cc" and unescape(f"&#{ord(c)};") == c)
    assert unescape(out) == carried


def test_escape_with_breaks_makes_newlines_br_only():
    assert escape("a<b>\nc", breaks=True) == "a&#60;b&#62;<br>c"


def hit_for(text, title="<b>Headline</b>"):
    doc_text = f"Before it. {text} After it."
    start = doc_text.index(text)
    return Hit(text=text, score=0.5, doc_id="d<1>", title=title, sentence=1, start=start,
               end=start + len(text), context=doc_text, context_start=0,
               published="<i>today</i>", source="[src](http://198.51.100.7/)")


def test_a_what_else_page_of_sentences_that_do_not_answer_says_so():
    from dataclasses import replace

    weak = [replace(hit_for("The weather was cold."), evidence=-4.0)]
    html = answer_html(Answer("q", weak, True), weak, more=True)
    assert "Nothing more answers this." in html and "not an answer" in html
    assert "More from the articles" not in html
    good = [replace(hit_for("Galuzin warned NATO."), evidence=0.5)]
    assert "More from the articles" in answer_html(Answer("q", good, True), good, more=True)


def test_answers_with_payloads_contain_only_our_own_tags():
    hits = [hit_for(p) for p in PAYLOADS]
    for answered in (True, False):
        html = answer_html(Answer("q", hits, answered), hits, understood="<script>x</script>")
        tags, attrs = tags_of(html)
        assert tags <= {"div", "p", "b", "blockquote", "span", "details", "summary", "mark", "br",
                        "bdi", "button"}
        assert attrs <= {"class", "title", "type"}
        for p in PAYLOADS:
            assert escape(p) in html  # shown, as text
    tags, _ = tags_of(question_html(PAYLOADS[0] + PAYLOADS[1]))
    assert tags == {"span", "bdi"}


def test_sources_table_shows_titles_as_text():
    docs = [Document(id=f"d{i}", text="x", title=p, source=p, published=p)
            for i, p in enumerate(PAYLOADS)]
    html = sources_html(docs, {d.id: 3 for d in docs})
    tags, attrs = tags_of(html)
    assert tags <= {"table", "thead", "tbody", "tr", "th", "td", "bdi"} and attrs <= {"class"}
    assert html.count("<tr>") == len(PAYLOADS) + 1


def test_in_context_highlights_exactly_the_hit():
    hit = hit_for("The <middle> one.")
    html = answer_html(Answer("q", [hit], True), [hit])
    marked = re.search(r'<mark class="qa-hit">(.*?)</mark>', html).group(1)
    assert unescape(marked) == "<bdi>The <middle> one.</bdi>"
    assert "<bdi>Before it&#46; </bdi><mark" in html and "</mark><bdi> After it&#46;</bdi>" in html


def test_compact_keeps_markup_and_short_text_and_shortens_long_text():
    from qa.app.render import MAX_QUOTE_CHARS, compact

    short, long = hit_for("A short <one>."), hit_for("Long " * 5000 + "end.")
    html = answer_html(Answer("q", [short, long], True), [short, long])
    small = compact(html)
    assert tags_of(small) == tags_of(html)
    assert "A short &#60;one&#62;&#46;" in small and len(small) < 8 * MAX_QUOTE_CHARS * 3
    assert len(html) > 25_000 and compact(small) == small
