"""Who says what: each sentence of an article linked to the person it quotes or reports.

A rule-based pass over an article's sentences, in order:
- an attribution ("X said", "said Mr X", "he noted", "the diplomat added", "X told ...") names the
  speaker; "he"/"she" is the person last quoted or last named, "the <role>" is the person whose
  name came with that role word ("Japanese Prime Minister Fumio Kishida" ... "the prime minister"),
  else the person last quoted; "Mr X" is the person whose name ends in X;
- sentences inside a quotation that runs over several sentences belong to the speaker of that
  quotation, wherever in it the attribution stands;
- a sentence opening a new quotation right after a quoted sentence continues that speaker;
- the forms around the verb that name the speaker otherwise: "according to Mr X", "said
  housing minister X", "X, director of the Committee, told", "X of France said", and report
  verbs read only with a named subject before them ("Dr X sees games as ...", "X described
  ..."); a sentence led by "Mr X" or by the surname of someone named before gives "he" to X;
- organisations speak too: "The Vestey Group said", "the WTO said", "The European Regions
  Airline Association (ERAA) claims", "an REM spokesman said" / "a spokesman for the Home
  Office" (the body), "the spokesman" (whoever a spokesman spoke for last), "the company", "the
  firm, whose ..., insisted", "it said" (the body quoted last); a capitalised word for a person
  after "the" ("the Chancellor", "the Spaniard") is still the person named with it or before;
  a person named past a body and a role speaks, not the body ("said Gartner analyst Brian
  Gammage", "according to Bank of England deputy governor Rachel Lomax").
Names are kept as written at first mention ("Mikhail Galuzin"); questions name them any way
("Galuzin", "Mr Galuzin", "Russian ambassador Mikhail Galuzin").
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from ..tuning import MAX_QUOTE_SENTENCES

# Bump when attribution changes: an index stores each article's speakers with this number, and an
# article stored under another is attributed again when the index is opened (StoredDoc.current).
# 3: "the port authority said" is the body's, not the last person's; 4: "He was speaking ..."
# describes, it does not report
VERSION = 4

VERBS = ("said|says|say|told|tells|added|adds|noted|asserted|asserts|stated|warned|"
         "warns|explained|explains|continued|claimed|argued|argues|stressed|stresses|"
         "insisted|insists|complained|criticised|criticized|lamented|speculated|replied|admitted|"
         "admits|urged|conceded|revealed|recalled|emphasised|emphasized|emphasizing|emphasising|"
         "commented|remarked|suggested|suggests|believes|blamed|blames|pointed out|branded|"
         "announced|declared|predicted|acknowledged|confirmed|denied|agreed|wrote|writes|"
         "maintained|observed|reckons|thinks|believed|cautioned|added that|went on|claims|"
         "described|describes|intimated|likened|sees|cited|according to")
_VERB = re.compile(rf"\b(?:{VERBS})\b")
# verbs that are a report only with their subject before them ("Dr Frasca sees games as ..."):
# never "claims X", and without a subject the sentence is no report ("Insurance claims rose")
_WEAK = {"claims", "described", "describes", "intimated", "likened", "sees", "cited"}
_QUOTE_OPEN = "“"
_QUOTE_CLOSE = "”"
_TITLES = {"mr", "mrs", "ms", "miss", "dr", "sir", "lord", "lady", "prof", "professor", "dame"}
_PRONOUNS = {"he": "m", "she": "f"}
_NOT_NAMES = {"i", "we", "you", "they", "it", "this", "that", "there", "these", "those", "but", "and",
              "the", "a", "an", "in", "on", "at", "as", "if", "so", "when", "while", "however",
              "also", "yet", "then", "now", "after", "before", "since", "although", "because",
              "bbc", "one", "some", "many", "others", "what", "who", "which", "his", "her", "its",
              "their", "our", "my", "monday", "tuesday", "wednesday", "thursday", "friday",
              "saturday", "sunday", "speaking"}
_AUX = {"has", "had", "have", "also", "later", "then", "again", "was", "is", "has also", "would",
        "will", "had also", "further", "previously", "once", "recently", "earlier", "yesterday",
        "today", "publicly", "repeatedly"}
_NON_PERSON = {"company", "firm", "government", "group", "report", "study", "survey", "statement",
               "department", "ministry", "bank", "club", "spokesman", "spokeswoman",
               "spokesperson", "source", "sources", "official", "officials", "police", "court",
               "committee", "union", "agency", "office", "website", "paper", "newspaper", "data",
               "figures", "research", "researchers", "analysts", "experts", "team", "party",
               "council", "board", "organisation", "organization", "association", "body",
               "commission", "airline", "carrier", "retailer", "maker", "network", "service"}
_VERBISH = {"did", "does", "was", "is", "has", "had", "have", "who", "which", "were", "are", "will",
            "would", "could", "where", "when", "and", "but", "or"}
_PLACE_PREP = {"in", "at", "on", "to", "into", "for", "against", "with", "of", "near", "across"}
_TOKEN = re.compile(r"[A-Z]\.|[\w'’\-]+(?:\.[\w'’\-]+)*|\S")


@dataclass
class Person:
    name: str  # as first written, titles such as Mr cut
    words: set[str] = field(default_factory=set)  # every lower-case word written with the name
    body: bool = False  # an organisation ("Vestey Group", "Yukos"), not a person

    @property
    def surname(self) -> str:
        return _clean(self.name.split()[-1])


@functools.lru_cache(maxsize=1 << 16)
def _clean(word: str) -> str:
    # cached: a "what did X say" question matches X against every speaker of every article
    # (qa/statements.py), the same few thousand names each time
    return re.sub(r"(['’]s?|\.)$", "", word.lower())


def _capitalised(tok: str) -> bool:
    return bool(tok) and tok[0].isupper() and any(c.isalpha() for c in tok)


def _name_run(tokens: list[str], from_end: bool) -> list[str]:
    """The run of capitalised tokens at the end (or start) of ``tokens``."""
    seq = list(reversed(tokens)) if from_end else tokens
    run: list[str] = []
    for t in seq:
        if _capitalised(t) or (run and t in ("-",)):
            run.append(t)
        else:
            break
    if from_end:
        run.reverse()
    while run and run[-1] == "-":
        run = run[:-1]
    while run and (_clean(run[0]) in _NOT_NAMES or _clean(run[0]) in _TITLES and len(run) > 1):
        run = run[1:]
    return run


class _Tracker:
    def __init__(self) -> None:
        self.people: list[Person] = []
        self.last: Person | None = None  # last quoted or named subject
        self.body: Person | None = None  # the organisation last quoted ("the company" after it)
        self.spokes: Person | None = None  # who the last spokesman quoted spoke for

    def person(self, run: list[str], context: list[str], body: bool = False) -> Person | None:
        words = [_clean(t) for t in run if _clean(t) not in _TITLES]
        words = [w for w in words if w]
        if not words or all(w in _NOT_NAMES for w in words):
            return None
        for p in reversed(self.people):
            if p.body and words[-1] in _NON_PERSON and len(words) > 1:
                # "the Foreign Office" is not "the Home Office": a body's whole name
                if words == [_clean(t) for t in p.name.split()]:
                    return p
                continue
            if words[-1] == p.surname or (len(words) == 1 and words[0] in p.words):
                p.words.update(_clean(t) for t in context)
                return p
        kept = [t for t in run if _clean(t) not in _TITLES]
        if body:
            name = " ".join(kept)
        else:
            # "Kremlin Spokesman Dmitry Peskov" is Dmitry Peskov; the title words stay in ``words``
            name = " ".join(kept[-3:] if len(kept) > 2 and len(kept[-2]) <= 2 else kept[-2:])
        p = Person(name=name, words={_clean(t) for t in context} | set(words),
                   body=body or words[-1] in _NON_PERSON)
        self.people.append(p)
        return p

    def organisation(self, run: list[str], context: list[str]) -> Person | None:
        """The body named by ``run`` ("European Regions Airline Association"), met or new."""
        return self.person(run, context, body=True)

    def referred_body(self, head: str) -> Person | None:
        """The body "the company", "the group", "the association" refers to: the one last
        quoted, if its name does not say it is another kind ("the group" is no "Association")."""
        b = self.body
        if b is None or head not in _BODY_WORDS:
            return None
        last = _clean(b.name.split()[-1])
        if last in _BODY_WORDS and last != head and head not in ("company", "firm"):
            return None
        return b

    def known(self, word: str) -> Person | None:
        """The person already met whose surname is ``word`` (lower case), if any."""
        return next((p for p in reversed(self.people) if p.surname == word), None)

    def role(self, words: list[str], strict: bool = False) -> Person | None:
        """The person a "the <role>" phrase refers to (``strict``: only someone whose name came
        with that word, else the last quoted or named person as well)."""
        head = _clean(words[-1]) if words else ""
        if head in _NON_PERSON or not head:
            return None
        for p in reversed(self.people):
            if head in p.words:
                return p
        if head in _BODIES:  # "the port authority said": a body, never the last person quoted
            return None if strict or self.last is None or not self.last.body else self.last
        return None if strict else self.last


def _subject(tr: _Tracker, before: list[str], after: list[str], verb: str,
             sentence_tokens: list[str]) -> Person | None:
    """The speaker of a speech verb from the words before it (or after, for "said X")."""
    if verb == "according to":
        return _named_after(tr, after)
    while before and before[-1].lower() in _AUX:
        before = before[:-1]
    clause = before
    for i in range(len(before) - 1, -1, -1):
        if before[i] in {",", ":", ";", '"', _QUOTE_CLOSE, _QUOTE_OPEN, "-", "–", "—"}:
            clause = before[i + 1:]
            break
    while clause and clause[0].lower() in {"as", "and", "but", "so", "while", "when", "however"}:
        clause = clause[1:]
    if clause:
        last = clause[-1].lower()
        if last in _PRONOUNS:
            return tr.last
        if last == "it" and len(clause) == 1:  # "it said" after the company was quoted
            return tr.last if tr.last is not None and tr.last is tr.body else None
        spoken = _spokesman(tr, clause)
        if spoken is not None:
            return spoken
        if clause[0].lower() == "the" and 1 < len(clause) <= 9:
            role = clause[1:]
            if "of" in role:
                role = role[:role.index("of")]
            # "The Israelis described ...": a weak verb's role is someone met with it, never
            # the last speaker by default
            met = tr.role(role, strict=True)
            if met is not None:
                return met
            named = _body_name(role)
            if named:  # "The Vestey Group said", "The European ... Association (ERAA) claims"
                return tr.organisation(named, clause)
            if len(role) == 1 and _clean(role[0]) in _BODY_WORDS:  # "the company said"
                met = tr.referred_body(_clean(role[0]))
                if met is not None or _clean(role[0]) in _NON_PERSON:
                    return met
            if len(clause) <= 6:
                return tr.role(role, strict=verb in _WEAK)
        run = _of_place(clause) or _name_run(clause, from_end=True)
        if verb in _WEAK and len(run) < 2 and not (run and tr.known(_clean(run[-1]))):
            titled = len(clause) > len(run) and _clean(clause[-len(run) - 1]) in _TITLES
            if not (run and titled):  # "Insurance claims rose": no name, no report
                return None
        return tr.person(run, clause) if run else None
    lead = _appositive_subject(sentence_tokens)
    if lead:
        return tr.person(lead, lead)
    if len(before) > 3 and before[0].lower() == "the" and before[2] == "," \
            and _clean(before[1]) in _BODY_WORDS:  # "The firm, whose ... farms, insisted"
        return tr.referred_body(_clean(before[1]))
    lead = _appositive_before(before)
    if lead:
        return tr.person(lead, lead)
    if verb not in ("told", "tells") and verb not in _WEAK and after:
        first = after[0].lower()
        if first in _PRONOUNS:
            return tr.last
        run = _name_run(after[:6], from_end=False)
        if run:
            past = _past_body(after, len(run), len(run) == 1)
            return tr.person(_name_run(past, from_end=True), past) if past \
                else tr.person(run, after[:len(run)])
        phrase = []
        for t in after[:8]:
            if t in {",", ".", ";", ":", '"', _QUOTE_OPEN, _QUOTE_CLOSE}:
                break
            phrase.append(t)
        spoken = _spokesman(tr, phrase)  # "said an REM spokesman", "added the spokesman"
        if spoken is not None:
            return spoken
        if first == "the":
            role = phrase[1:6]
            return tr.role(role) if role else None
        return _named_after(tr, after)
    return None


# who "the <word>" can be when the article quoted an organisation before
_BODY_WORDS = {"company", "firm", "group", "association", "union", "airline", "carrier",
               "retailer", "bank", "band", "club", "charity", "organisation", "organization",
               "agency", "network", "maker", "operator", "chain", "giant", "supermarket"}
_SPOKES = {"spokesman", "spokeswoman", "spokesperson", "representative"}


def _body_name(role: list[str]) -> list[str]:
    """The name of a body after "the", capitalised: an abbreviation ("the WTO", "the FBI"), a
    name that ends in what bodies are called ("Vestey Group", "Health and Safety Executive"),
    or one given with its abbreviation ("European Regions Airline Association (ERAA)"), the
    bracket dropped. Not a capitalised word for a person: "the Chancellor", "the Spaniard",
    "the Salford MP" refer to someone named before (``_Tracker.role``)."""
    words, abbreviated, bracket = [], False, False
    for t in role:
        if t == "(":
            bracket = True
        elif t == ")":
            bracket = False
        elif bracket:
            abbreviated = abbreviated or _abbreviation(t)
        else:
            words.append(t)
    if not words or not all(_capitalised(t) and t[0].isalpha() or 0 < k < len(words) - 1
                            and t in ("and", "&", "for") for k, t in enumerate(words)):
        return []
    if len(words) == 1:
        return words if _abbreviation(words[0]) or _clean(words[0]) in _INSTITUTIONS else []
    return words if abbreviated or _clean(words[-1]) in _ORG_HEADS else []


def _abbreviation(tok: str) -> bool:
    """ "WTO", "ODPM", "FBI" (not "MP", "I")."""
    return len(tok) >= 2 and tok.isalpha() and tok.isupper() and tok not in _PERSON_ABBREVIATIONS


_PERSON_ABBREVIATIONS = {"MP", "MEP", "MSP", "AM", "PM", "QC", "CEO", "DJ", "MC"}
# one capitalised word after "the" that names a body, not a person
_INSTITUTIONS = {"kremlin", "pentagon", "treasury", "vatican", "government", "commission",
                 "executive", "elysee", "bundesbank", "fed"}
# last words of a body's name ("Vestey Group", "Green Party", "Welsh Assembly Government")
_ORG_HEADS = _NON_PERSON | {
    "executive", "institute", "news", "times", "post", "fund", "bureau", "federation",
    "foundation", "trust", "society", "league", "authority", "treasury", "corporation", "corp",
    "inc", "plc", "ltd", "assembly", "parliament", "administration", "services", "industries",
    "airlines", "airways", "systems", "motors", "telecom", "reserve", "exchange", "centre",
    "center", "forum", "alliance", "coalition", "confederation", "chamber", "chambers",
    "tribunal", "unit", "band", "charity"}


def _spokesman(tr: _Tracker, phrase: list[str]) -> Person | None:
    """Who a spokesman phrase speaks for: "an REM spokesman", "A Home Office spokeswoman",
    "a spokesman for Vestey", "the spokesman" / "the band's spokesman" (the body or person a
    spokesman was last quoted for); None for any other phrase."""
    heads = [k for k, t in enumerate(phrase) if t.lower() in _SPOKES]
    if not heads or not phrase or phrase[0].lower() not in ("a", "an", "the"):
        return None
    k = heads[0]
    tail = phrase[k + 1:]
    if tail[:1] == ["for"]:
        tail = tail[2:] if tail[1:2] and tail[1].lower() == "the" else tail[1:]
        run = _name_run(tail[:6], from_end=False)
        if run:
            who = tr.person(run, run)
        else:  # "a spokesman for the company"
            who = tr.referred_body(_clean(tail[0])) if len(tail) == 1 else None
    else:
        named = [t for t in phrase[1:k] if _capitalised(t)]
        if phrase[0].lower() != "the" and named and len(named) == k - 1:
            who = tr.organisation(named, phrase[1:k])
        elif phrase[0].lower() == "the":
            who = tr.spokes
        elif k == 1 and tr.last is not None and tr.last is tr.body:
            who = tr.last  # "The Vestey Group said ... But a spokesman added:"
        else:
            return None
    if who is not None:
        tr.spokes = who
    return who


_FUNCTION = {"a", "an", "that", "this", "it", "its", "his", "her", "their", "there", "to", "by",
             "from", "with", "as", "if", "when", "and", "but", "or", "not", "no"} | _PLACE_PREP


def _named_after(tr: _Tracker, after: list[str]) -> Person | None:
    """The person named after a verb past a few lower-case role words ("said housing minister
    Yvette Cooper", "says 27-year-old Ross", "according to Mr Cable", "according to the
    bishop"): a name of two words or more, a title and a name, or the surname of someone met
    before; a role only when someone came with that role word (never the last speaker alone)."""
    if after and after[0].lower() == "the":
        role = []
        for t in after[1:6]:
            if t in {",", ".", ";", ":"} or t.lower() in _FUNCTION:
                break
            role.append(t)
        return tr.role(role, strict=True) if role else None
    i = 0
    while i < min(len(after), 4) and _role_word(after[i]):
        i += 1
    titled = i < len(after) and _clean(after[i]) in _TITLES
    run = _name_run(after[i:i + 6], from_end=False)
    if not run:
        return None
    past = _past_body(after, i + len(run), len(run) == 1)
    if past:
        return tr.person(_name_run(past, from_end=True), past)
    if len(run) >= 2 or titled:
        return tr.person(run, after[:i + len(run) + titled])
    return tr.known(_clean(run[-1]))


def _past_body(after: list[str], j: int, one_word: bool) -> list[str]:
    """The role words and the name of the person named past a body's name ending at ``j``:
    "said Gartner analyst Brian Gammage", "according to Bank of England deputy governor Rachel
    Lomax" (empty unless role words and a name of two words follow)."""
    if after[j:j + 1] == ["of"] and one_word:  # a word and its place: "Bank of Japan"
        j += 1 + len(_name_run(after[j + 1:j + 5], from_end=False))
    k = j
    while k < min(len(after), j + 4) and _role_word(after[k]):
        k += 1
    end = k
    while end < min(len(after), k + 4) and _capitalised(after[end]):
        end += 1
    named = _name_run(after[k:end], from_end=False)
    # the role words and the name: the body's name is no word of the person ("the BRC said")
    return after[j:end] if k > j and len(named) >= 2 else []


def _role_word(tok: str) -> bool:
    """A lower-case word of a role before a name ("housing", "minister", "27-year-old")."""
    return tok[:1].isalnum() and not tok[:1].isupper() and tok.lower() not in _FUNCTION \
        and tok.lower() not in _PRONOUNS


def _of_place(clause: list[str]) -> list[str]:
    """"Nicolas Sarkozy of France said", "Laura Brownlees of Save the Children said": the name
    before "of" when what follows it is a name as well (an organisation, a place)."""
    if "of" not in clause:
        return []
    k = len(clause) - 1 - clause[::-1].index("of")
    tail = clause[k + 1:]
    if not tail or not all(_capitalised(t) or t in ("the", "and", "for", "&") for t in tail):
        return []
    run = _name_run(clause[:k], from_end=True)
    return run if len(run) >= 2 else []


def _appositive_before(before: list[str]) -> list[str]:
    """"... ," Curt Hopkins, director of the Committee, told ...", "Paul Jones, who sang on
    ..., said", "The head of the unit, Mick Deats, said": the name of the comma-separated part
    before the verb, past up to two parts that start in lower case (a role, a relative clause)."""
    if not before or before[-1] != ",":
        return []
    parts, cur = [], []
    for t in before:
        if t == ",":
            parts.append(cur)
            cur = []
        elif t in {":", ";", "(", ")"}:
            parts, cur = [], []
        else:
            cur.append(t)
    roles = 0
    for part in reversed(parts):
        if not part:
            return []
        if part[0][:1].islower():
            roles += 1
            if roles > 2:
                return []
            continue
        run = _name_run(part, from_end=True)
        return run if len(run) >= 2 else []
    return []


def _appositive_subject(tokens: list[str]) -> list[str]:
    """"Tim Renner, the head of Universal Music Germany until last year, told ...": the name."""
    lead = tokens
    while lead and lead[0].lower() in {"but", "and", "however", "meanwhile", "yet", "so", ","}:
        lead = lead[1:]
    if "," not in lead[1:6]:
        return []
    head = lead[:lead.index(",", 1)]
    return _name_run(head, from_end=False) if all(_capitalised(t) for t in head) else []


def _appositive_mention(tokens: list[str]) -> list[str]:
    """A person introduced anywhere as "Brian Gammage, vice-president of ...": the name."""
    for i, t in enumerate(tokens[:-1]):
        if t == "," and i >= 2 and tokens[i + 1][:1].islower() and tokens[i + 1] not in _VERBISH:
            run = _name_run(tokens[max(0, i - 4):i], from_end=True)
            if len(run) >= 2 and (len(run) == i or tokens[i - len(run) - 1].lower() not in _PLACE_PREP):
                return run
    return []


def _named_subject(tr: _Tracker, tokens: list[str]) -> Person | None:
    """A sentence led by one name word, "Mr Mubanga is the first ...", "Corbett goes on to
    ...": the person of that title and name, or met before with that surname."""
    lead = tokens
    while lead and lead[0].lower() in {"but", "and", "however", "meanwhile", "yet", "so", ","}:
        lead = lead[1:]
    if len(lead) < 2 or not _capitalised(lead[0]):
        return None
    if _clean(lead[0]) in _TITLES and _capitalised(lead[1]):
        return tr.person(_name_run(lead[:4], from_end=False), lead[:2])
    run = _name_run(lead[:3], from_end=False)
    known = tr.known(_clean(run[0])) if len(run) == 1 and run[0] == lead[0] else None
    return known if known and " " in known.name else None  # a person, not "Labour"


def _quote_marks(sentence: str) -> list[str]:
    return [c for c in sentence if c in '"“”']


def _pronoun_subject(tokens: list[str]) -> bool:
    """Whether the sentence's subject is "he" or "she" ("He added ...", "That said, he ...")."""
    if tokens and tokens[0].lower() in _PRONOUNS:
        return True
    head = tokens[:5]
    return "," in head and head.index(",") + 1 < len(tokens) and \
        tokens[head.index(",") + 1].lower() in _PRONOUNS


_BE = {"is", "was", "were", "are", "'s", "’s"}
_HAVE = {"has", "had", "have"}
_ADVERBS = {"also", "however", "himself", "herself", "currently", "consistently", "now", "still",
            "long", "already", "never", "not", "often", "since", "previously", "recently", "widely"}


def _described(tokens: list[str]) -> bool:
    """Whether a "He ..." sentence describes the person rather than reports them: its verb is
    a form of "be" ("He was speaking after ...", "He has consistently been linked with ...")."""
    words = [t.lower() for t in tokens]
    at = next((i for i, w in enumerate(words[:6]) if w in _PRONOUNS), None)
    if at is None:
        return False
    rest = [w for w in words[at + 1:at + 8] if w not in _ADVERBS]
    if rest[:1] and rest[0] in _HAVE and rest[1:2] == ["been"]:
        rest = rest[1:]  # "has been linked": as "was linked"
    elif not (rest[:1] and rest[0] in _BE):
        return False
    # "He is confident that ...", "She is also claiming ...": a view, reported
    return not (len(rest) > 1 and (rest[1] in _VIEWS_HELD or _VERB.fullmatch(rest[1])))


# what "he is ..." says of a view held or spoken: reported, not described
_VIEWS_HELD = {"confident", "convinced", "optimistic", "pessimistic", "sceptical", "skeptical",
               "clear", "adamant", "keen", "sure", "certain", "hopeful", "doubtful", "determined",
               "predicting", "proposing", "claiming", "asking", "calling", "urging", "warning",
               "arguing", "insisting", "suggesting", "demanding", "understood", "quoted",
               "reported", "thought", "believed", "expected", "said", "concerned", "worried",
               "unhappy", "happy", "pleased", "disappointed", "angry", "critical", "aware"}


def attribute(sentences: list[str]) -> list[str | None]:
    """The speaker of each sentence of one article (``None`` where nobody is quoted or reported)."""
    tr = _Tracker()
    speakers: list[Person | None] = [None] * len(sentences)
    in_quote = False
    quote_from = 0  # first sentence of the open quotation
    prev_quoted = False
    unnamed: list[tuple[int, str]] = []  # (sentence, role word) of "..., a minister has said."
    for i, s in enumerate(sentences):
        tokens = _TOKEN.findall(s)
        met = len(tr.people)
        opens_quote = s.lstrip()[:1] in '"“'
        if opens_quote or i - quote_from > MAX_QUOTE_SENTENCES:
            in_quote = False  # a paragraph may reopen a quotation without closing the last one
        starts_open = in_quote
        marks = _quote_marks(s)
        # the speech verbs outside quotation marks
        who = None
        depth = in_quote
        outside: list[int] = []
        for j, t in enumerate(tokens):
            if t in ('"', _QUOTE_OPEN, _QUOTE_CLOSE):
                depth = (t == _QUOTE_OPEN) or (t == '"' and not depth)
                continue
            if not depth:
                outside.append(j)
        text_outside = [tokens[j] for j in outside]
        joined = " ".join(text_outside)
        said = False
        for m in _VERB.finditer(joined):
            said = said or m.group(0) not in _WEAK
            verb_index = len(joined[:m.start()].split())
            verb = m.group(0)
            before = text_outside[:verb_index]
            after = text_outside[verb_index + len(verb.split()):]
            who = _subject(tr, before, after, verb, tokens)
            if who is not None:
                said = True
                if " " not in who.name and {"it", "its"} & {t.lower() for t in after[:2]}:
                    who.body = True  # "Yukos said it would ...": a body, "it" from now on
                break
            if verb not in _WEAK and (not unnamed or unnamed[-1][0] != i):
                head = _unnamed_role(before, after)
                if head:
                    unnamed.append((i, head))
        if not said and not starts_open:
            run = _name_run(tokens[:6], from_end=False)
            run = run if len(run) >= 2 else _appositive_mention(tokens)
            if len(run) >= 2:
                tr.last = tr.person(run, run) or tr.last  # a new subject takes the focus
            else:
                tr.last = _named_subject(tr, tokens) or tr.last
        # quotation state after this sentence
        for c in marks:
            in_quote = (c == _QUOTE_OPEN) or (c == '"' and not in_quote)
            if c == _QUOTE_CLOSE:
                in_quote = False
        if who is not None:
            speakers[i] = who
            tr.last = who
            if who.body and not (len(who.name) == 2 and who.name.isupper()):  # not the US, EU
                tr.body = who
            if starts_open:
                for j in range(quote_from, i):
                    speakers[j] = speakers[j] or who
        elif starts_open or (opens_quote and prev_quoted):
            speakers[i] = speakers[i - 1] if i else None
        elif _pronoun_subject(tokens) and prev_quoted and not _described(tokens):
            speakers[i] = tr.last
        if not starts_open and in_quote:
            quote_from = i
        prev_quoted = speakers[i] is not None
        if unnamed and tr.last is not None:  # the role's name comes later in the article:
            # with the role word, or as the next sentence's speaker, named there first
            new = who is not None and who in tr.people[met:] and " " in who.name
            for k, head in [u for u in unnamed if u[0] < i and (
                    u[1] in tr.last.words or new and u[0] == i - 1 and who is tr.last)]:
                speakers[k] = speakers[k] or tr.last
                unnamed.remove((k, head))
    return [p.name if p else None for p in speakers]


def _unnamed_role(before: list[str], after: list[str]) -> str:
    """The role word of a speaker given without a name, "..., a Home Office minister has said",
    "Scotland's justice minister has warned ...", "..., said a senior minister" ("" for any
    other subject, and for a body: "a spokesman", "the company")."""
    while before and before[-1].lower() in _AUX:
        before = before[:-1]
    clause = before
    for j in range(len(before) - 1, -1, -1):
        if before[j] in {",", ":", ";", "-", "–", "—"}:
            clause = before[j + 1:]
            break
    if not clause:
        role = []
        for t in after[:6]:
            if t in {",", ".", ";", ":"}:
                break
            role.append(t)
        clause = role if role and role[0].lower() in ("a", "an") else []
    if not (0 < len(clause) <= 6) or not clause[-1].isalpha() or not clause[-1].islower():
        return ""
    indefinite = clause[0].lower() in ("a", "an")
    possessive = any(t.endswith(("'s", "’s")) for t in clause[:-1])
    head = clause[-1]
    person = head not in _NON_PERSON and head not in _BODIES and not (
        head.endswith("s") and not head.endswith("ss"))  # "Russia's newspapers claimed"
    return head if (indefinite or possessive) and person else ""


# what an unnamed subject is when it is no person ("Australia's competition watchdog said")
_BODIES = {"watchdog", "regulator", "charity", "claim", "authority", "institute", "panel"}


_ASK = re.compile(
    r"^\s*(?:what|how|why)\s+(?:did|does|do|has|have|had|is|was|were|would)\s+(?P<who>.+?)\s+"
    r"(?:say|said|saying|tell|told|telling|think|thought|blame|claim|argue|warn|mean|reveal|"
    r"admit|describe|predict|feel|believe|add|note|explain|stress|suggest|comment|make of|"
    r"react|respond)\b",
    re.IGNORECASE)
_ACCORDING = re.compile(r"according to\s+(?P<who>[^,?]+)", re.IGNORECASE)
_VIEWS = re.compile(r"(?P<who>[A-Z][\w'’.\-]*(?:\s+[A-Z][\w'’.\-]*)*)['’]s?\s+(?:views?|comments?|"
                    r"remarks?|words|statements?|opinions?)\b")


def asked_topic(question: str) -> str:
    """What a "what did X say about Y" question asks X's words on: "Y" ("" when it names no
    topic, as "What did Galuzin say?")."""
    m = _ASK.search(question)
    if not m:
        return ""
    rest = re.sub(r"<[^>]*>", " ", question[m.end():])  # markup pasted in is no topic
    rest = re.sub(r"^\s*(?:about|of|on|in|regarding|concerning|over|to|for)\b", "", rest,
                  flags=re.IGNORECASE)
    rest = " ".join(rest.split()).strip(" ?.!")
    return rest if re.search(r"[^\W_]", rest) else ""  # punctuation alone names no topic


def asked_about(question: str) -> set[str]:
    """The name words of the person a "what did X say" question asks about (empty otherwise)."""
    m = _ASK.search(question) or _ACCORDING.search(question) or _VIEWS.search(question)
    if not m:
        return set()
    words = re.findall(r"[A-Z][\w'’.\-]*", m.group("who"))
    if not words and question == question.lower():
        # typed in lower case ("what did peskov say"): every word may be the name; the
        # statements are only those of a speaker whose surname is among them
        words = re.findall(r"[^\W\d_][\w'’.\-]*", m.group("who"))
    return {_clean(w) for w in words} - _TITLES - _NOT_NAMES - set(_PRONOUNS)


def surname(speaker: str) -> str:
    """The word of a speaker's name that questions are matched on ("galuzin")."""
    return _clean(speaker.split()[-1])


def matches(speaker: str | None, names: set[str]) -> bool:
    """Whether ``speaker`` is the person named by ``names``: their surname is among them. A
    speaker whose name ends in a common noun ("Players' Association") is only matched when the
    question names it whole: "What does the European Regions Airline Association think?" is not
    asking the rugby Players' Association."""
    last = surname(speaker) if speaker else ""
    if not names or last not in names:
        return False
    return last not in _NON_PERSON or {_clean(w) for w in speaker.split()} - _TITLES - _LINKS <= names


_LINKS = {"of", "the", "for", "and", "de", "von", "van"}
