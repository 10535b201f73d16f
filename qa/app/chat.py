"""One person's conversation with the index: follow-up questions and "what else?".

``reply(index, message, conversation)`` answers a chat message and returns the reply as safe HTML
with the conversation to keep for the next message. A follow-up ("and what did he say about
NATO?") is rewritten with the subject of the earlier questions ("what did Galuzin say about
NATO?"); "what else?" pages on through the results of the last question. The conversation is a
small dataclass the app keeps per browser session, so conversations never mix.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace
from typing import Sequence

from . import render
from ..display import not_text
from ..errors import QAError
from .. import periods
from .export import Shown
from ..index import Index
from ..statements import asked as asked_statements

log = logging.getLogger(__name__)

DEFAULT_K = 3

_WORD = re.compile(r"[\w’'.-]+")
_QUESTION_WORDS = {"what", "who", "whom", "whose", "which", "when", "where", "why", "how",
                   "did", "does", "do", "is", "are", "was", "were", "has", "have", "had", "can",
                   "could", "will", "would", "should", "tell", "and", "the", "a", "an", "also",
                   "any", "according", "please", "in", "on", "about", "i", "so", "but"}
_AUX = r"(?:did|does|do|has|have|had|is|was|were|are|will|would|can|could|should)"
_VERBS = (r"(?:say|said|think|tell|told|mean|want|warn|claim|announce|ask|believe|do|propose|"
          r"suggest|call|describe|recommend|stress|note|add|assert|decide|confirm|plan|expect|"
          r"argue|deny|accuse|fear|hope|demand|insist|react|respond|reply|comment|feel|know|see)\w*")
_WHO_IS = re.compile(r"^\s*(?:and\s+)?who\s+(?:is|was|are|were)\s+(?P<x>[^?]+?)\s*\??\s*$", re.I)
_WH_AUX_VERB = re.compile(rf"^\s*(?:and\s+)?(?:what|how|why|when|where|which)\s+{_AUX}\s+"
                          rf"(?P<x>(?:[\w’'.-]+\s+){{1,6}}?){_VERBS}\b", re.I)
_PRONOUN = re.compile(r"\b(he|she|him|they|them|his|her|hers|their|theirs)\b", re.I)
_POSSESSIVE = {"his", "their", "theirs", "hers"}
_MORE = re.compile(r"^\s*(?:and\s+|so\s+)?(?:(?:what|anything|something|who)\s+else|"
                   r"(?:tell\s+me\s+|show\s+(?:me\s+)?)?more|go\s+on|continue|next|keep\s+going|"
                   r"more\s+results|other\s+results)\b(?P<rest>.*)$", re.I)
_MORE_FILLER = {"did", "does", "do", "he", "she", "they", "it", "say", "said", "is", "are",
                "there", "was", "were", "mention", "mentioned", "the", "article", "articles",
                "tell", "me", "please", "about", "this", "that", "results", "answers", "of",
                "them", "him", "her", "say", "says", "have", "has"}
_SWITCH = re.compile(r"^\s*(?:and\s+)?(?:(?:what|how)\s+about|and)\s+(?P<x>[^?]+?)\s*\??\s*$",
                     re.I)  # "what about Peskov?": the same question of someone else
_ASPECT = re.compile(r"^\s*(?:and\s+)?(?:also\s+)?about\s+(?P<x>[^?]+?)\s*\??\s*$",
                     re.I)  # "and about NATO?": the same question, narrowed


@dataclass(frozen=True)
class Conversation:
    """What a chat remembers between messages."""

    subject: str | None = None  # who or what the questions are about, for pronouns
    query: str | None = None    # the last question, as understood
    shown: int = 0              # results of ``query`` shown so far ("what else?" goes on from here)
    named: str | None = None    # the name that answered a "who" question: "he" is that person


@dataclass(frozen=True)
class Turn:
    """A message as understood: the query to ask, and where in its results to start."""

    message: str
    query: str
    offset: int = 0
    rewritten: bool = False
    more: bool = False


def subject_of(question: str) -> str | None:
    """The person or thing a question is about, for the pronouns of a follow-up: "the Kremlin
    spokesman" in "Who is the Kremlin spokesman?", "Galuzin" in "What did Galuzin say?"."""
    m = _WHO_IS.match(question)
    if m:
        return m.group("x").strip()
    m = _WH_AUX_VERB.match(question)
    if m:
        x = m.group("x").strip()
        if x and not _PRONOUN.search(x) and x.lower() not in {"it", "you", "i", "we"}:
            return x
    words = _WORD.findall(question)
    run: list[str] = []
    for i, w in enumerate(words):
        capital = w[:1].isupper() and not (i == 0 and w.lower() in _QUESTION_WORDS)
        if capital and w.lower() not in {"i"}:
            run.append(w.strip(".’'"))
        elif run:
            break
    return " ".join(run) or None


def understand(message: str, conversation: Conversation) -> Turn:
    """Rewrite a follow-up using the conversation; any other message is asked as it is."""
    text = " ".join(message.split())
    prior = conversation.query
    more = _MORE.match(text)
    if more and prior and not (set(_WORD.findall(more.group("rest").lower())) - _MORE_FILLER):
        return Turn(text, prior, offset=conversation.shown, more=True)
    subject = conversation.subject
    if prior and subject:
        aspect = _ASPECT.match(text)
        if aspect:
            return Turn(text, f"{prior.rstrip(' ?')} about {aspect.group('x').strip()}?",
                        rewritten=True)
        switch = _switch(text)
        if switch and _time_only(switch.group("x")):  # "what about in March?": when, not who
            return Turn(text, _with_period(prior, switch.group("x").strip()), rewritten=True)
        if switch:
            new = switch.group("x").strip()
            if re.search(re.escape(subject), prior, re.I):
                query = re.sub(re.escape(subject), new, prior, count=1, flags=re.I)
            else:
                query = f"{prior.rstrip(' ?')} {new}?"
            return Turn(text, query, rewritten=True)
        pronoun = _PRONOUN.search(text)
        if pronoun and not _has_own_subject(text):
            word = pronoun.group(1).lower()
            who = conversation.named or subject  # "Who is the Kremlin spokesman?" -> Peskov
            name = f"{who}’s" if word in _POSSESSIVE else who
            query = text[:pronoun.start()] + name + text[pronoun.end():]
            query = re.sub(r"^\s*(and|so|also)\s+", "", query, flags=re.I)
            return Turn(text, query[:1].upper() + query[1:], rewritten=True)
    return Turn(text, text)


def _time_only(x: str) -> bool:
    """Whether ``x`` is a time phrase and nothing else ("in March", "last week")."""
    m = periods.find_phrase(x)
    return bool(m) and m.group(0).strip().lower() == x.strip(" ?").lower()


def _with_period(question: str, phrase: str) -> str:
    """``question`` asked for the period ``phrase`` instead of its own time phrase, if any."""
    m = periods.find_phrase(question)
    if m:
        question = question[:m.start()] + question[m.end():]
    return f"{' '.join(question.split()).rstrip(' ?')} {phrase}?"


def _has_own_subject(text: str) -> bool:
    """ "What did Peskov say about his country?" names its subject: "his" is Peskov's."""
    m = _WH_AUX_VERB.match(text)
    return bool(m) and not _PRONOUN.search(m.group("x"))


def _switch(text: str) -> re.Match | None:
    """ "what about X?" or "and X?" (X not a question of its own, no pronoun)."""
    if _PRONOUN.search(text) or _ASPECT.match(text) or re.match(
            r"^\s*and\s+(what|who|how|why|when|where|which|is|are|was|did|does|do)\b", text, re.I):
        return None
    return _SWITCH.match(text)


def answer_name(query: str, answer, hits) -> str | None:
    """The name marked as the answer of a "who" question (qa/phrases.py), else None."""
    if not answer.answered or answer.statements or not hits or hits[0].answer_start is None \
            or not re.match(r"^\s*(?:and\s+)?who(?:m|se)?\b", query, re.I):
        return None
    hit = hits[0]
    name = hit.text[hit.answer_start - hit.start:hit.answer_end - hit.start].strip()
    return name if name[:1].isupper() else None


def next_conversation(conversation: Conversation, turn: Turn, shown: int,
                      named: str | None = None) -> Conversation:
    """The conversation after ``turn``; ``named``: the name that answered it (``answer_name``)."""
    if turn.more:
        return replace(conversation, shown=turn.offset + shown)
    if turn.rewritten:
        switch = _switch(turn.message)
        if switch and not _time_only(switch.group("x")):
            subject = switch.group("x").strip()
        elif conversation.named and conversation.named in turn.query:  # "he" was the answer
            subject = conversation.named
        else:
            subject = conversation.subject
        return Conversation(subject=subject, query=turn.query, shown=shown, named=named)
    return Conversation(subject=subject_of(turn.query) or conversation.subject,
                        query=turn.query, shown=shown, named=named)


def _after_statements(index: Index, turn: Turn, said, k: int, limits: dict):
    """ "what else?" after everything a person said: the ranker's answer to the question,
    without the statements already shown, ``k`` at a time."""
    from ..asking import ask

    seen = {(h.doc_id, h.sentence) for h in said.hits}
    ranked = ask(index, turn.query, turn.offset + k, statements=False, **limits)
    rest = [h for h in ranked.hits if (h.doc_id, h.sentence) not in seen]
    start = max(0, turn.offset - len(seen))
    return ranked, rest[start:start + k]


def reply(index: Index, message: str, conversation: Conversation | None = None, *,
          k: int = DEFAULT_K, doc_ids: Sequence[str] | None = None, since=None, until=None,
          sources: Sequence[str] | None = None) -> tuple[str, Conversation]:
    """The bot's answer to ``message`` as safe HTML, and the conversation after it."""
    html, conversation, _ = reply_shown(index, message, conversation, k=k, doc_ids=doc_ids,
                                        since=since, until=until, sources=sources)
    return html, conversation


def reply_shown(index: Index, message: str, conversation: Conversation | None = None, *,
                k: int = DEFAULT_K, doc_ids: Sequence[str] | None = None, since=None,
                until=None, sources: Sequence[str] | None = None
                ) -> tuple[str, Conversation, Shown | None]:
    """``reply``, and the answer as shown (for export; None when there was no answer). A "what
    did X say" question shows every statement at once (``k`` pages other answers only);
    ``since``/``until``/``sources`` limit the articles searched (qa/periods.py)."""
    conversation = conversation or Conversation()
    if not isinstance(message, str) or not message.strip():
        return render.note_html("Type a question, e.g. “What did Galuzin say?”"), \
            conversation, None
    why = not_text(message)
    if why:
        return render.note_html(f"This question {why}."), conversation, None
    turn = understand(message, conversation)
    if doc_ids is not None and not doc_ids:
        doc_ids = None  # nothing ticked means every article
    every = asked_statements(turn.query) is not None  # all of them, on one page
    limits = dict(doc_ids=doc_ids, since=since or None, until=until or None,
                  sources=sources or None)
    try:
        answer = index.ask(turn.query, k=None if every else turn.offset + k, **limits)
        if answer.statements and turn.more:  # after them: the other sentences, ranked
            answer, hits = _after_statements(index, turn, answer, k, limits)
        else:
            hits = answer.hits[turn.offset:] if answer.statements else \
                answer.hits[turn.offset:turn.offset + k]
    except QAError as e:
        return render.note_html(str(e)), conversation, None
    counts = {}
    for hit in hits:
        try:
            counts[hit.doc_id] = index.sentence_count(hit.doc_id)
        except (KeyError, QAError):  # removed by someone else since the search
            pass
    html = render.answer_html(answer, hits, understood=turn.query if turn.rewritten else None,
                              more=turn.more, counts=counts)
    log.info("asked %r (as %r): %d hits, answered=%s", message, turn.query, len(hits),
             answer.answered)
    shown = Shown(turn.message, turn.query, answer.answered, hits, answer.taken_as)
    return html, next_conversation(conversation, turn, len(hits),
                                   answer_name(turn.query, answer, hits)), shown
