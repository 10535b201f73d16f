"""The answer phrase: the words of a sentence that answer a who / whom / when / where / which /
how many / how much question ("Dmitry Peskov" in "Kremlin spokesman Dmitry Peskov said ...").

Rule-based, and cautious: the candidates of the kind the question asks for (names for who /
which, places after "in"/"at"/"from" for where, dates for when, amounts for how many / how much)
are found in the sentence; those made of the question's own words are dropped (the question
names what it asks about, not the answer); when several are left, the one nearest the question's
words wins only if it is clearly nearer than the next. Otherwise nothing is marked: a missing mark
costs the reader a scan, a wrong one misleads. How often the mark is the answer is measured on the
BBC dev fact questions (bench/phrases.py, BENCHMARKS.md).
"""
from __future__ import annotations

import re

_MONTHS = ("January|February|March|April|May|June|July|August|September|October|November|"
           "December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec")
_DAYS = "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"
_DATE = re.compile(
    rf"\b(?:(?:\d{{1,2}}(?:st|nd|rd|th)?\s+)?(?:{_MONTHS})\.?(?:\s+\d{{1,2}}(?:st|nd|rd|th)?)?"
    rf"(?:,?\s+(?:19|20)\d\d)?|(?:in\s+the\s+)?(?:19|20)\d0s|(?:19|20)\d\d|(?:last|next)\s+"
    rf"(?:week|month|year|{_DAYS})|yesterday|(?:{_DAYS})|"
    rf"\d{{1,2}}(?:[:.]\d\d)\s*(?:am|pm|GMT|BST)?)\b")
_SCALE = r"(?:\s*(?:m|bn|k|million|billion|trillion|thousand|hundred|per\s*cent|percent|%))?"
_NUMBER_WORDS = ("two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|"
                 "fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|"
                 "sixty|seventy|eighty|ninety|hundred|a hundred|dozens|hundreds|thousands|"
                 "millions|a dozen|half")
_AMOUNT = re.compile(
    rf"(?:[£$€¥]\s?\d(?:[\d,]*\d)?(?:\.\d+)?{_SCALE}"
    rf"|\b\d(?:[\d,]*\d)?(?:\.\d+)?(?:st|nd|rd|th)?{_SCALE}"
    rf"(?:\s*(?:dollars|euros|pounds|pence|cents|yen))?"
    rf"|\b(?:{_NUMBER_WORDS})(?:[\s-]+(?:{_NUMBER_WORDS}))*{_SCALE})(?![\w£$€])", re.IGNORECASE)
_NAME_WORD = r"(?<![\w'’])(?:[A-Z][\w'’.\-]*[\w.]|[A-Z])"
_NAME = re.compile(rf"{_NAME_WORD}(?:\s+(?:(?:of|de|des|du|da|di|van|von|der|the|al|bin|le|la)\s+)?"
                   rf"{_NAME_WORD})*")
_WORD = re.compile(r"[\w'’]+")
_NOT_NAMES = {"the", "a", "an", "but", "and", "he", "she", "it", "they", "we", "i", "in", "on",
              "at", "as", "if", "so", "this", "that", "there", "his", "her", "their", "its",
              "mr", "mrs", "ms", "dr", "sir", "however", "meanwhile", "after", "before", "when",
              "while", "although", "speaking", "last", "earlier", "bbc", "news", "one", "some"}
_MONTH_OR_DAY = {m.lower() for m in (_MONTHS + "|" + _DAYS).split("|")}
_STOP = {"who", "whom", "whose", "what", "when", "where", "which", "how", "many", "much", "is",
         "was", "were", "are", "did", "does", "do", "the", "a", "an", "of", "in", "on", "at", "to",
         "for", "by", "and", "has", "have", "had", "its", "his", "her", "their", "with", "from",
         "as", "be", "been", "that", "this", "it", "s", "year", "years", "first", "new"}
_WHERE_PREP = re.compile(r"\b(?:in|at|from|to|near|into|outside|inside|across|between)\s+"
                         r"(?:the\s+)?$",
                         re.IGNORECASE)
MARGIN = 3  # words: the nearest candidate must be this much nearer than the next one
REACH = 12  # words: a candidate further than this from every question word is not marked


def kind(question: str) -> str | None:
    """What a question asks for: "person", "which", "place", "date", "amount", or None."""
    q = question.strip().lower()
    q = re.sub(r"^(?:and|so|but)\s+", "", q)
    if re.match(r"^(?:by\s+)?how\s+(?:many|much)\b|^(?:which|what)\s+number\b", q) or re.match(
            r"^what\s+(?:is|was|were|are)\s+the\s+(?:number|amount|price|cost|value|total|"
            r"figure|size)\b", q):
        return "amount"
    if re.match(r"^(?:who|whom)\b", q):
        return "person"
    if re.match(r"^(?:when|what\s+(?:year|date|day|month|time))\b", q):
        return "date"
    if re.match(r"^where\b", q):
        return "place"
    if re.match(r"^which\b", q):
        return "which"
    return None


def find(question: str, sentence: str) -> tuple[int, int] | None:
    """(start, end) of the answer phrase in ``sentence``, or None when the question is not of a
    kind that has one, or no phrase is clearly the answer."""
    want = kind(question)
    if want is None:
        return None
    asked = {w.lower() for w in _WORD.findall(question)}
    spans = _candidates(want, sentence, asked)
    if not spans:
        return None
    words = [(m.start(), m.end()) for m in _WORD.finditer(sentence)]
    stems = {_stem(w) for w in asked - _STOP}
    anchors = [i for i, (a, b) in enumerate(words) if _stem(sentence[a:b].lower()) in stems]
    if want == "amount":  # "how many jobs": the amount of jobs, when one is
        counted = _counted_noun(question)
        of_it = [s for s in spans if counted and counted in {
            _stem(w.lower()) for w in _WORD.findall(sentence[s[1]:s[1] + 40])[:3]}]
        if len(of_it) == 1:
            return of_it[0]
    if not anchors:
        return spans[0] if len(spans) == 1 else None

    def distance(span):
        first = next((i for i, (a, b) in enumerate(words) if b > span[0]), len(words) - 1)
        last = max((i for i, (a, b) in enumerate(words) if a < span[1]), default=first)
        return min(abs(first - j) if j < first else abs(j - last) if j > last else 0
                   for j in anchors)

    ranked = sorted((distance(s), s) for s in spans)
    if ranked[0][0] > REACH:
        return None
    if len(ranked) > 1 and ranked[1][0] - ranked[0][0] < MARGIN:
        return None
    return ranked[0][1]


def _candidates(want: str, sentence: str, asked: set[str]) -> list[tuple[int, int]]:
    if want == "amount":  # not a year, nor part of a compound ("six-cylinder", "46-strong")
        found = [(m.start(), m.end()) for m in _AMOUNT.finditer(sentence)
                 if not _is_year(m.group(0)) and not re.match(r"-[a-z]", sentence[m.end():])]
    elif want == "date":
        found = [(m.start(), m.end()) for m in _DATE.finditer(sentence)]
    else:
        found = []
        for m in _NAME.finditer(sentence):
            a, b = _trim(sentence, m.start(), m.end(), asked)
            if a is None:
                continue
            if want == "place" and not _WHERE_PREP.search(sentence[:a]):
                continue
            found.append((a, b))
    stems = {_stem(w) for w in asked - _STOP}
    found = [(a, b) for a, b in found  # not the question's own words ("Japanese" for "Japan")
             if {_stem(w) for w in _WORD.findall(sentence[a:b])} - stems - _STOP]
    if want in ("person", "which"):  # "Labour chancellor", "Turkish investment": a modifier
        found = [(a, b) for a, b in found if not _modifier(sentence, a, b)]
    if want == "person" and any(" " in sentence[a:b] for a, b in found):
        found = [(a, b) for a, b in found if " " in sentence[a:b]]  # a person has two names
    return _merged(sentence, found)


def _trim(sentence: str, a: int, b: int, asked: set[str]) -> tuple[int | None, int]:
    """A name run without leading words that are the question's own, titles or function words
    ("Kremlin Spokesman Dmitry Peskov" asked as "Who is the Kremlin spokesman?": "Dmitry
    Peskov"); (None, 0) when nothing is left or it is a date word."""
    words = list(re.finditer(r"\S+", sentence[a:b]))
    cut = 0
    while words and (words[0].group(0).lower().strip(".,’'") in asked | _NOT_NAMES):
        cut += words[0].group(0).lower().strip(".,’'") in asked
        words = words[1:]
    for i, w in enumerate(words[:-1]):  # "Scotland's Andrew Murray": Andrew Murray
        if re.search(r"['’]s?$", w.group(0)):
            words = words[i + 1:]
            break
    if cut and len(words) == 1:
        return None, 0  # "Hollywood Boulevard" asked as "Hollywood": not a name of its own
    while words and words[-1].group(0).lower().strip(".,’'") in _NOT_NAMES | asked:
        words = words[:-1]
    if not words:
        return None, 0
    lo, hi = a + words[0].start(), a + words[-1].end()
    text = sentence[lo:hi].rstrip(".")
    if text.lower() in _MONTH_OR_DAY or (lo == 0 and len(words) == 1):
        return None, 0  # a one-word run opening the sentence is as often not a name
    return lo, lo + len(text)


_NOT_NOUNS = {"last", "on", "in", "at", "has", "had", "have", "is", "was", "were", "are", "said",
              "says", "will", "would", "could", "and", "or", "to", "for", "of", "by", "from",
              "with", "which", "who", "that", "as", "after", "before", "also", "this", "the", "a",
              "an", "but", "did", "does", "may", "might", "should", "can", "won", "beat", "met"}


def _modifier(sentence: str, a: int, b: int) -> bool:
    """Whether a one-word candidate qualifies the noun after it ("Labour chancellor")."""
    if " " in sentence[a:b]:
        return False
    after = re.match(r"\s+([a-z][\w'’-]*)", sentence[b:])
    return bool(after) and after.group(1) not in _NOT_NOUNS and not after.group(1).endswith("ed")


def _stem(word: str) -> str:
    """A crude stem, so that "leak" finds "leaking" and "jobs" finds "job"."""
    word = re.sub(r"['’]s?$", "", word.lower()).strip("'’")
    word = re.sub(r"(?:ing|ed|es|s)$", "", word) if len(word) > 4 else word
    return word[:5]


def _counted_noun(question: str) -> str | None:
    """The stem of what "how many X" / "how much X" counts, if named."""
    m = re.search(r"how\s+(?:many|much)\s+(?:more\s+|of\s+the\s+)?([\w'’-]+)", question, re.I)
    if not m or m.group(1).lower() in _STOP | {"did", "does", "is", "was", "were", "are", "will",
                                               "has", "have", "had", "more", "money"}:
        return None
    return _stem(m.group(1))


def _merged(sentence: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Candidates in a list ("X and Y", "X, Y and Z") or an amount with its conversion
    ("$336m (£178m)") as one: together they are the answer."""
    out: list[tuple[int, int]] = []
    for span in sorted(spans):
        between = sentence[out[-1][1]:span[0]] if out else ""
        closed = sentence[span[1]:span[1] + 1] == ")"
        if out and (_listed(sentence, out[-1], span)
                    or re.fullmatch(r"\s*\(\s*", between) and closed):
            end = span[1] + (1 if closed and "(" in between else 0)
            out[-1] = (out[-1][0], end)
        else:
            out.append(span)
    return out


def _listed(sentence: str, a: tuple[int, int], b: tuple[int, int]) -> bool:
    """Whether two candidates stand side by side in a list ("X and Y", "X, Y")."""
    lo, hi = (a, b) if a[0] < b[0] else (b, a)
    return bool(re.fullmatch(r"\s*(?:,|and|&|or|,\s*and)\s*", sentence[lo[1]:hi[0]]))


def _is_year(text: str) -> bool:
    return bool(re.fullmatch(r"(?:19|20)\d\d", text.strip()))
