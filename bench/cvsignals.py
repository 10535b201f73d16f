"""Abstention signals compared in issue 18's third round (bench/cv.py ``extra_signals``,
bench/cvfit.py ``THIRD``), none of them in the product: each reads the question's own candidates
and asks whether the best one stands out from them or holds what the question asks.

- the answer kind: does the best candidate (or any of the best 3 / 5) hold a *new* item of the
  kind asked (``qa.ranking.kinds.holds_asked``: for "who" / "where" / "which actor ..." a
  capitalised word the question does not hold; for "when", "how many", "how much", "why" the fine
  kind's fit). The best candidate's is the product's ``asked_absent`` (qa/ranking/decide.py),
  the one signal of this round kept;
- the question's content words beyond its names (``decide.named``): the share the best sentence,
  the best three and the best sentence's article hold, and the count its article lacks;
- the best candidate's evidence relative to the question's own candidates' (z-score within the
  best 20 / 50 / 150 of the pool, gap to the median of the best 20) and its cosine relative to
  its article's centroid and its neighbours';
- the cross-encoder's probability for the ranker's best relative to the re-ranked head's (its
  logit less the head's mean, its rank in the head, the best logit's z-score and gap).
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

def new_of_kind(question: str, texts: Sequence[str]) -> list[float] | None:
    """For each of ``texts``: 1 when it holds an item of the kind ``question`` asks for that the
    question does not already hold (``qa.ranking.kinds.holds_asked``), else 0; None when the
    question asks for no known kind."""
    from qa.ranking.kinds import holds_asked

    held = [holds_asked(question, t) for t in texts]
    return None if not held or held[0] is None else [float(h) for h in held]


def content_terms(question: str) -> list[str]:
    """The question's terms (``lexical.terms``, once each) that are not its names or numbers."""
    from qa.ranking.decide import named
    from qa.ranking.lexical import terms

    names = set(named(question))
    return [t for t in dict.fromkeys(terms(question)) if t not in names]


def held_share(words: Sequence[str], held: set[str]) -> float:
    """The share of ``words`` in ``held`` (1.0 for no words: nothing is missing)."""
    return sum(w in held for w in words) / len(words) if words else 1.0


def zscore(x: float, values: np.ndarray) -> float:
    sd = float(values.std())
    return (x - float(values.mean())) / sd if sd > 1e-6 else 0.0


def signals(question: str, texts: Sequence[str], order: Sequence[int], first: int,
            evid: dict[int, float], pool_evidence: np.ndarray, dense: np.ndarray,
            doc_cos: np.ndarray, neighbour: np.ndarray, article_terms: Callable[[int], set],
            head_probs: np.ndarray | None = None, head: Sequence[int] = ()) -> dict[str, float]:
    """The third round's signals for one question: ``texts`` of the pool, ``order`` the ranker's
    best rows (after the kind re-score), ``first`` its best before it, ``evid`` their evidence,
    ``pool_evidence`` every pool row's evidence before the kind check, ``dense`` / ``doc_cos`` /
    ``neighbour`` the pool's features, ``article_terms(row)`` the terms of a row's article, and
    the cross-encoder's probabilities ``head_probs`` of rows ``head``."""
    from qa.ranking.lexical import terms

    out: dict[str, float] = {}
    kinds = new_of_kind(question, [texts[i] for i in order[:5]])
    asked = kinds is not None
    out["nk_asked"] = float(asked)
    for n in (3, 5):  # the best alone: decide.signals "asked_absent"
        out[f"nk_miss{n}"] = float(asked and max(kinds[:n]) == 0)
    content = content_terms(question)
    every = list(dict.fromkeys(terms(question)))
    sent = set(terms(texts[first]))
    top3 = set().union(*(terms(texts[i]) for i in order[:3]))
    art = article_terms(first)
    out.update({"w_sent_share": held_share(content, sent), "w_top3_share": held_share(content, top3),
                "w_art_share": held_share(content, art),
                "w_art_miss": float(sum(t not in art for t in content)),
                "all_sent_share": held_share(every, sent),
                "all_art_miss": float(sum(t not in art for t in every))})
    ev = evid[first]
    ranked = np.sort(pool_evidence)[::-1]
    for n in (20, 50, 150):
        out[f"ev_z{n}"] = zscore(ev, ranked[:n])
    out["ev_med20"] = ev - float(np.median([evid[i] for i in order[:20]]))
    out["sent_vs_doc"] = float(dense[first] - doc_cos[first])
    out["sent_vs_nb"] = float(dense[first] - neighbour[first])
    if head_probs is not None and len(head_probs):
        p = np.clip(np.asarray(head_probs, np.float64), 1e-6, 1 - 1e-6)
        lg = np.log(p / (1 - p))
        srt = np.sort(lg)[::-1]
        at = list(head).index(first) if first in head else None
        out.update({"ce_first_rel": float(lg[at] - lg.mean()) if at is not None else 0.0,
                    "ce_first_rank": float((lg > lg[at]).sum()) if at is not None else float(len(lg)),
                    "ce_zmax": zscore(float(srt[0]), lg),
                    "ce_gap12": float(srt[0] - srt[1]) if len(srt) > 1 else 0.0,
                    "ce_rel": float(p.max() - np.median(p))})
    return out
