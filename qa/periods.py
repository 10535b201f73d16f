"""Dates and sources: which articles a question searches.

``Limits`` is what ``Index.ask(since=, until=, sources=)`` and a time phrase in the question ("in
February 2022", "last week", "since Monday"; not "on Monday", ``find_phrase``) say; ``limits_of``
reads both and ``allowed`` picks the articles. A time phrase is parsed by dateparser relative to the
newest article's date (the archive's "now", not the machine's), so "last week" over a 2005 archive
is a week of 2005.

An article's date is its ``published`` field. One without a year (the TASS dateline "February
2") takes the year from the article's own metadata when it holds one (a dated URL such as
``.../2022/02/02/...``, or a dated folder in the path it was read from, ``.../2022/02/14/``);
otherwise it is undated, as is a date of a year alone ("2022": no telling when in it).
Undated articles are never dropped by a date limit: they are kept, and the answer marks them
undated, because nobody can tell whether they fall inside it.
"""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Iterable, Sequence

from .errors import InputError
from .types import Document

_MONTHS = ("january|february|march|april|may|june|july|august|september|october|november|"
           "december|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec")
_DAYS = "monday|tuesday|wednesday|thursday|friday|saturday|sunday"
_YEAR = r"(?:19|20)\d\d"
_COUNT = "two|three|four|five|six|seven|eight|nine|ten|eleven|twelve"
_WHEN = (rf"(?:(?:(?:early|mid|late)[\s-]+)?(?:\d{{1,2}}(?:st|nd|rd|th)?\s+)?(?:{_MONTHS})\.?"
         rf"(?:\s+\d{{1,2}}(?:st|nd|rd|th)?)?(?:,?\s+{_YEAR})?|{_YEAR}|"
         rf"the\s+(?:last|past)\s+(?:(?:\d+|{_COUNT})\s+(?:days|weeks|months|years)|"
         rf"week|month|year)|"
         rf"(?:last|past)\s+(?:\d+|{_COUNT})\s+(?:days|weeks|months|years)|"
         rf"(?:last|this|past|previous)\s+(?:week|month|year)|"
         rf"(?:last\s+|this\s+)?(?:{_DAYS})|yesterday|today|\d+\s+(?:days?|weeks?|months?)\s+ago)")
# The lead word says which way the limit runs; "in"/"on"/"during" (or none, for "last week")
# mean within the period.
_PHRASE = re.compile(rf"(?:\b(?P<lead>in|on|during|since|from|after|before|until|till|by)\s+)?"
                     rf"\b(?P<when>{_WHEN})\b", re.IGNORECASE)
_BARE_OK = re.compile(rf"^(?:(?:last|this|past|previous|the)\s|yesterday|today|\d+\s)", re.I)
# "between February 1 and February 20, 2022": from the first day of one to the last of the other
_BETWEEN = re.compile(rf"\bbetween\s+(?:(?P<day>\d{{1,2}})(?:st|nd|rd|th)?|(?P<a>{_WHEN}))\s+and\s+"
                      rf"(?P<b>{_WHEN})\b", re.IGNORECASE)  # also "between 1 and 20 February"
_ROLLING = re.compile(rf"^(?:the\s+)?(?:last|past)\s+(?:(?P<n>\d+|{_COUNT})\s+)?"
                      rf"(?P<unit>day|week|month|year)s?$", re.IGNORECASE)
_PART = re.compile(r"^(?P<part>early|mid|late)[\s-]+(?P<rest>.+)$", re.IGNORECASE)
_YEAR_IN = re.compile(rf"(?<!\d)({_YEAR})(?!\d)")
# A year in an article's URL or path only as a dated folder ("/2022/", ".../2022/02/14/") or a
# name opening with an ISO date ("2022-02-14-strike.txt"): never "report_2015_v2.txt" or a
# folder "drop-a2019f", whose numbers say nothing of when the article was published.
_YEAR_PATH = re.compile(rf"(?:^|[/\\])({_YEAR})(?=$|[/\\]|-[01]\d(?:$|[-/\\_.]))")


@dataclass(frozen=True)
class Limits:
    """Which articles to search: published on or after ``since``, on or before ``until``
    (either may be None), from one of ``sources`` (None: any). ``phrase`` is the question's time
    phrase they came from, if any."""

    since: date | None = None
    until: date | None = None
    sources: tuple[str, ...] | None = None
    phrase: str | None = None

    @property
    def active(self) -> bool:
        return self.since is not None or self.until is not None or bool(self.sources)

    def describe(self) -> str:
        """How the limits were taken: "published 1–28 February 2022, from TASS"."""
        parts = []
        if self.since and self.until:
            parts.append(f"published {span(self.since, self.until)}")
        elif self.since:
            parts.append(f"published on or after {day(self.since)}")
        elif self.until:
            parts.append(f"published on or before {day(self.until)}")
        if self.sources:
            parts.append("from " + " or ".join(self.sources))
        text = ", ".join(parts)
        return f"“{self.phrase}”: {text}" if self.phrase else text


def day(d: date) -> str:
    return f"{d.day} {calendar.month_name[d.month]} {d.year}"


def span(a: date, b: date) -> str:
    """ "1–28 February 2022", "26 January – 1 February 2022", "2 February 2022"."""
    if a == b:
        return day(a)
    if (a.year, a.month) == (b.year, b.month):
        return f"{a.day}–{b.day} {calendar.month_name[a.month]} {a.year}"
    if a.year == b.year:
        return f"{a.day} {calendar.month_name[a.month]} – {day(b)}"
    return f"{day(a)} – {day(b)}"


def to_date(value, name: str, base=None) -> date | None:
    """``since``/``until`` as given: a date, a datetime, an ISO string or anything dateparser
    reads ("1 February 2022", "yesterday": relative to ``base()``, the archive's "now", when
    given); None stays None."""
    if value is None or isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, str) and value.strip():
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            parsed = _parse(value.strip(), base() if base is not None else None)
            if parsed is not None:
                return parsed[0].date()
    raise InputError(f"{name} must be a date such as 2022-02-01, not {value!r}")


def article_date(doc: Document) -> date | None:
    """The date an article was published, or None (undated: no date, or a date without a year
    and no year in its metadata)."""
    return _article_date(doc.published or "", doc.url or "", doc.origin or "")


@lru_cache(maxsize=65536)
def _article_date(published: str, url: str, origin: str) -> date | None:
    if not published.strip():
        return None
    text = published.strip()
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        pass
    if not _YEAR_IN.search(text):
        year = _YEAR_PATH.search(url) or _YEAR_PATH.search(origin)
        if year is None:
            return None
        text = f"{text} {year.group(1)}"
    parsed = _parse(text, None)
    if parsed is None or parsed[1] == "year":  # "2022" alone: no telling when in the year
        return None
    return parsed[0].date()


def undated(doc: Document) -> bool:
    return article_date(doc) is None


def newest(docs: Iterable[Document]) -> date | None:
    dates = [d for d in (article_date(doc) for doc in docs) if d is not None]
    return max(dates) if dates else None


def find_phrase(question: str) -> re.Match | None:
    """The first time phrase of ``question`` ("in February 2022", "last week", "since Monday").
    "On Monday" is none: in a question about the news it tells when something happened ("Which
    union threatened on Monday to strike?"), and which Monday is anyone's guess in an archive;
    taken as the newest article's Monday it dropped the article that answers."""
    between = _BETWEEN.search(question)
    if between:
        return between
    for m in _PHRASE.finditer(question):
        when = m.group("when")
        if re.match(r"\s+of\b", question[m.end():], re.I):
            continue  # "the last week of the campaign", "March of 2005" is no period asked
        if re.fullmatch(rf"(?:{_DAYS})", when, re.I) and (m.group("lead") or "").lower() in (
                "", "on", "in", "during"):
            continue
        if m.group("lead") or _BARE_OK.match(when):
            if re.fullmatch(rf"(?:{_MONTHS})", when, re.I) and when.lower() in {"may", "mar"} \
                    and not m.group("lead"):
                continue  # "may" is a verb far more often than a month
            return m
    return None


def from_question(question: str, base: date) -> Limits | None:
    """The date limits a time phrase in ``question`` asks for, relative to ``base`` (the newest
    article's date), or None when it has none dateparser can read."""
    m = find_phrase(question)
    if m is None:
        return None
    if m.re is _BETWEEN:
        b = _period(m.group("b"), base)
        if b is None:
            return None
        if m.group("day"):  # "between 1 and 20 February": the day in the other's month
            try:
                a = (b[0].replace(day=int(m.group("day"))),)
            except ValueError:
                return None
        else:
            a = _period(m.group("a"), base)
        if a is None or a[0] > b[1]:
            return None
        return Limits(a[0], b[1], phrase=m.group(0))
    lead = (m.group("lead") or "").lower()
    when = m.group("when")
    period = _period(when, base)
    if period is None:
        return None
    first, last = period
    if lead in {"since", "from", "after"}:
        first, last = (first if lead != "after" else last + timedelta(days=1)), None
    elif lead in {"before"}:
        first, last = None, first - timedelta(days=1)
    elif lead in {"until", "till", "by"}:
        first = None
    return Limits(first, last, phrase=m.group(0))


def _period(when: str, base: date) -> tuple[date, date] | None:
    """(first day, last day) of the period ``when`` names."""
    text = " ".join(when.lower().split())
    rolling = _ROLLING.match(text)
    if rolling and (text.startswith("the") or rolling.group("n")):  # "the past week": 7 days
        words = _COUNT.split("|")
        n = rolling.group("n") or "1"
        n = int(n) if n.isdigit() else words.index(n) + 2
        unit = rolling.group("unit")
        if unit in ("day", "week"):
            start = base - timedelta(days=n * (7 if unit == "week" else 1) - 1)
        else:
            months = n * (12 if unit == "year" else 1)
            y, mth = divmod(base.year * 12 + base.month - 1 - months, 12)
            start = date(y, mth + 1, min(base.day, calendar.monthrange(y, mth + 1)[1])) + \
                timedelta(days=1)
        return start, base
    part = _PART.match(text)
    if part:  # early / mid / late in a month: its days 1-10, 11-20, 21-end
        month = _period(part.group("rest"), base)
        if month is None:
            return None
        first, last = month
        lo, hi = {"early": (1, 10), "mid": (11, 20), "late": (21, 31)}[part.group("part")]
        return first.replace(day=lo), last.replace(day=min(hi, last.day))
    weekday = re.fullmatch(rf"(?:(last|this)\s+)?({_DAYS})", text)
    if weekday:  # the latest such day on or before the base ("last Monday": the one before that)
        target = list(calendar.day_name).index(weekday.group(2).capitalize())
        d = base - timedelta(days=(base.weekday() - target) % 7)
        if weekday.group(1) == "last" and d == base:
            d -= timedelta(days=7)
        return d, d
    if text in {"this week", "this month", "this year"}:
        unit = text.split()[1]
        start = {"week": base - timedelta(days=base.weekday()),
                 "month": base.replace(day=1), "year": base.replace(month=1, day=1)}[unit]
        return start, base
    parsed = _parse(when, base)
    if parsed is None:
        return None
    found, unit = parsed[0].date(), parsed[1]
    if unit == "week":
        start = found - timedelta(days=found.weekday())
        return start, start + timedelta(days=6)
    if unit == "month":
        return found.replace(day=1), found.replace(
            day=calendar.monthrange(found.year, found.month)[1])
    if unit == "year":
        return found.replace(month=1, day=1), found.replace(month=12, day=31)
    return found, found


def _parse(text: str, base: date | None):
    """(datetime, period) from dateparser, or None. Imported here: it takes a second to load."""
    from dateparser.date import DateDataParser

    settings = {"PREFER_DATES_FROM": "past", "PREFER_DAY_OF_MONTH": "first"}
    if base is not None:
        settings["RELATIVE_BASE"] = datetime(base.year, base.month, base.day)
    data = DateDataParser(languages=["en"], settings=settings).get_date_data(text)
    if data is None or data.date_obj is None:
        return None
    return data.date_obj, data.period


def limits_of(question: str, docs: Iterable[Document], since=None, until=None,
              sources: Sequence[str] | str | None = None) -> Limits:
    """The limits of one question: ``since``/``until``/``sources`` as given, else the question's
    time phrase (relative to the newest article's date, or today when no article is dated)."""
    if isinstance(sources, str):
        sources = [sources]
    srcs = tuple(s.strip() for s in sources if s and s.strip()) if sources else None
    seen: list = []

    def now() -> date:  # the archive's "now": the newest article's date (reads every date)
        if not seen:
            seen.append(newest(docs) or date.today())
        return seen[0]

    first, last = to_date(since, "since", now), to_date(until, "until", now)
    if first is not None and last is not None and first > last:
        raise InputError(f"since ({first}) is after until ({last}): nothing can be published "
                         "in between")
    if first is None and last is None and find_phrase(question):
        asked = from_question(question, now())
        if asked is not None:
            return Limits(asked.since, asked.until, srcs, asked.phrase)
    return Limits(first, last, srcs)


def allowed(limits: Limits, docs: Iterable[Document]) -> list[str]:
    """The ids of the articles within ``limits`` (undated ones kept)."""
    wanted = {s.casefold() for s in limits.sources} if limits.sources else None
    out = []
    for doc in docs:
        if wanted is not None and (doc.source or "").casefold() not in wanted:
            continue
        when = article_date(doc)
        if when is not None and ((limits.since and when < limits.since)
                                 or (limits.until and when > limits.until)):
            continue
        out.append(doc.id)
    return out
