"""``Index.ask``: a question with its limits, statements and marked answer phrase.

    index.ask("Who is the Kremlin spokesman?")          # k=None: the best 5 sentences
    index.ask("What did Galuzin say?")                  # every statement of Galuzin's
    index.ask("What did Galuzin say?", k=2)             # ... the first 2 of them
    index.ask("Who said what last week?", sources=["TASS"], since="2022-02-01")

The order of work: the date and source limits (``since``/``until``/``sources``, else a time
phrase in the question: qa/periods.py) choose the articles searched; a "what did X say"
question returns X's statements there (qa/statements.py), any other question the ranker's best
``k``; the answer phrase of who / when / where / which / how many / how much questions is
marked in the hits that answer (qa/phrases.py).
"""
from __future__ import annotations

from dataclasses import replace
from typing import Sequence

from . import articles, periods, phrases
from . import statements as _statements_mod
from .ranking.decide import decide
from .types import Answer, Hit

DEFAULT_K = 5  # sentences for a question that is not a statements question, when k is None


def ask(index, question: str, k: int | None = None, *, doc_ids: Sequence[str] | None = None,
        since=None, until=None, sources: Sequence[str] | str | None = None,
        statements: bool = True) -> Answer:
    """See ``Index.ask``; ``statements=False`` ranks a "what did X say" question as any other
    (the chat's "what else?" after the statements)."""
    from .ranking.question import check_k as _check_k
    from .ranking.question import clean as _check_question

    question = _check_question(question)
    if k is not None:
        k = _check_k(k)
    if doc_ids is not None:
        doc_ids = articles.ids(doc_ids)
    if sources is not None:
        sources = articles.ids(sources, "sources", "source names")
    docs = index.stored()
    limits = periods.limits_of(question, (d.document for d in docs.values()), since, until,
                               sources)  # (the articles are read only for a time phrase)
    if limits.sources:
        _check_sources(docs, limits.sources)
    scope = list(doc_ids) if doc_ids is not None else None
    narrowed = False  # whether the question's own time phrase left articles out
    if limits.active:
        inside = periods.allowed(limits, (d.document for d in docs.values()))
        keep = set(inside)
        scope = inside if scope is None else [i for i in scope if i in keep]
        narrowed = limits.phrase is not None and len(inside) < len(docs)
    taken = limits.describe() if limits.active else None
    undated = sorted({i for i in (scope if scope is not None else docs) if i in docs
                      and periods.undated(docs[i].document)}) if limits.active and \
        (limits.since or limits.until) else []
    topic_question = question
    phrase = periods.find_phrase(question)
    if phrase:  # "what did X say in February?" asks for X's statements, not February
        topic_question = " ".join((question[:phrase.start()] + question[phrase.end():]).split())
    if scope is not None and not scope:
        return Answer(question=question, hits=[], answered=False, taken_as=taken)
    wanted = _statements_mod.asked(topic_question) if statements else None
    if wanted is not None:
        said = _statements_mod.collect(docs, wanted.names, scope)
        if said:
            hits, answered = _statements(index, question, said, wanted, k)
            return Answer(question=question, hits=hits, answered=answered, taken_as=taken,
                          statements=True, undated=[i for i in undated
                                                     if any(h.doc_id == i for h in hits)])
    # a time phrase that chose the articles is done with: "What did the union threaten in
    # January 2022?" ranks "What did the union threaten?" over January's articles, which never
    # name "January 2022" (the abstention's unseen names would count it against them)
    ranked = topic_question if narrowed else question
    answer = index._plain_ask(ranked, DEFAULT_K if k is None else k, scope)
    answer.question = question
    answer.hits = mark(ranked, answer.hits, answer.answered)
    answer.taken_as = taken
    answer.undated = [i for i in undated if any(h.doc_id == i for h in answer.hits)]
    return answer


def _check_sources(docs, asked) -> None:
    """A source no article comes from is a mistake to name (a typo, another desk's name), with
    the sources there are: the CLI, the chat's settings and /api/ask say so alike."""
    from collections import Counter

    from .errors import InputError

    there = Counter((d.document.source or "").strip() for d in docs.values())
    known = {s.casefold() for s in there if s}
    missing = [s for s in asked if s.casefold() not in known]
    if missing:
        listed = ", ".join(f"{s} ({n})" for s, n in there.most_common(10) if s) or "none"
        raise InputError(f"no article comes from {', '.join(missing)}; the sources in this "
                         f"index (articles): {listed}")


def _statements(index, question: str, said, wanted: _statements_mod.Asked, k: int | None
                ) -> tuple[list[Hit], bool]:
    """The statements as hits, and whether they answer: scored by the ranker for the whole
    question (its score where they are among its candidates, else 0); with a topic, only those
    that reach ``statements.TOPIC_THRESHOLD``, best first - or, when none does, the nearest
    DEFAULT_K of them, not answering (as any question the corpus does not answer); without a
    topic, all of them in article order."""
    articles = list(dict.fromkeys(stored.document.id for stored, _ in said))
    depth = min(1000, sum(index.sentence_count(a) for a in articles))
    scores = {(h.doc_id, h.sentence): h.score
              for h in index.search(question, k=depth, doc_ids=articles)}
    hits = [_statements_mod.hit(stored, i, scores.get((stored.document.id, i), 0.0))
            for stored, i in said]
    answered = True
    if wanted.topic:
        best_first = sorted(hits, key=lambda h: -h.score)
        hits = [h for h in best_first if h.score >= _statements_mod.TOPIC_THRESHOLD]
        if not hits:
            hits, answered = best_first[:DEFAULT_K], False
    return (hits if k is None else hits[:k]), answered and bool(hits)


def mark(question: str, hits: list[Hit], answered: bool) -> list[Hit]:
    """``hits`` with the answer phrase set where one is clearly there (``answer_start`` /
    ``answer_end``: offsets into the article): in the best hit, and in the others that answer
    with the same words (a lower hit's own phrase is too often an answer to something else)."""
    if not answered or phrases.kind(question) is None:
        return hits
    out, agreed = [], None
    for n, hit in enumerate(hits):
        span = phrases.find(question, hit.text) if decide([hit]) else None
        if span is not None:
            words = hit.text[span[0]:span[1]].casefold()
            if n == 0 or words == agreed:
                agreed = words
                hit = replace(hit, answer_start=hit.start + span[0],
                              answer_end=hit.start + span[1])
        out.append(hit)
    return out
