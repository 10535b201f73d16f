"""Sentence splitting on a hand-made corpus of the hard cases of news text."""
import pytest

from qa.ingest.splitter import find_dateline, paragraphs, split_document, split_sentences


def sentences(text):
    return [text[s.start:s.end] for s in split_sentences(text)]


CASES = [
    # closing quote after the full stop stays with its sentence (straight and curly)
    ('He said: "We will win." Then he left.',
     ['He said: "We will win."', "Then he left."]),
    ("She said: “It is over.” The crowd cheered.",
     ["She said: “It is over.”", "The crowd cheered."]),
    ("“I don’t think it changes the world,” he said. Sales fell.",
     ["“I don’t think it changes the world,” he said.", "Sales fell."]),
    # a quote spanning two sentences splits inside the quote, as the BBC gold does
    ('"Kirkcaldy is where he was reared. I am led to ponder," he said. Next.',
     ['"Kirkcaldy is where he was reared.', 'I am led to ponder," he said.', "Next."]),
    # abbreviations
    ("The U.S. envoy met Mr. Smith on Feb. 3 in Washington. Gen. Jones was there.",
     ["The U.S. envoy met Mr. Smith on Feb. 3 in Washington.", "Gen. Jones was there."]),
    ("Dr. Greenspan spoke to the U.K. Treasury. It listened.",
     ["Dr. Greenspan spoke to the U.K. Treasury.", "It listened."]),
    # initials and numbers
    ("J. R. R. Tolkien wrote it. Profits rose to $1.13bn from $639m. Shares rose 2.5%.",
     ["J. R. R. Tolkien wrote it.", "Profits rose to $1.13bn from $639m.", "Shares rose 2.5%."]),
    # question and exclamation marks
    ("Is it over? No! It goes on.", ["Is it over?", "No!", "It goes on."]),
]


@pytest.mark.parametrize("text,expected", CASES)
def test_hard_cases(text, expected):
    assert sentences(text) == expected


def test_offsets_point_into_the_text():
    text = "  First one here.\n\nSecond “quoted” one.  Third.\n"
    for span in split_sentences(text):
        piece = text[span.start:span.end]
        assert piece == piece.strip() and piece


def test_blank_lines_separate_paragraphs_when_present():
    text = "Line one continues\nacross a wrap.\n\nNew paragraph"
    assert [text[p.start:p.end] for p in paragraphs(text)] == [
        "Line one continues\nacross a wrap.", "New paragraph"]


def test_every_line_is_a_paragraph_without_blank_lines():
    text = "A headline without a stop\nThe body starts here."
    assert sentences(text) == ["A headline without a stop", "The body starts here."]


@pytest.mark.parametrize("line,place,date,agency", [
    ("TOKYO, February 2. /TASS/. The envoy spoke.", "TOKYO", "February 2", "TASS"),
    ("MOSCOW, Dec 31. /TASS/. Text.", "MOSCOW", "Dec 31", "TASS"),
    ("LONDON, Feb 2 (Reuters) - Shares rose.", "LONDON", "Feb 2", "Reuters"),
    ("PARIS (AP) — Talks ended.", "PARIS", None, "AP"),
    ("NEW YORK — Markets fell.", "NEW YORK", None, None),
])
def test_datelines(line, place, date, agency):
    dl = find_dateline(line)
    assert (dl.place, dl.date, dl.agency) == (place, date, agency)
    assert line[dl.span.end:][0].isupper()


def test_no_dateline_in_ordinary_sentences():
    assert find_dateline("The rhetoric of Japanese authorities contradicts it.") is None
    assert find_dateline("US President Joe Biden said so.") is None


def test_dateline_is_not_a_sentence():
    text = ("Standfirst line here\nTOKYO, February 2. /TASS/. The rhetoric contradicts it, "
            "Galuzin said. \"It is bad,\" he noted.")
    spans, dl = split_document(text)
    got = [text[s.start:s.end] for s in spans]
    assert got == ["Standfirst line here", "The rhetoric contradicts it, Galuzin said.",
                   '"It is bad," he noted.']
    assert dl.agency == "TASS"
