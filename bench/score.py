"""Scoring as ../shared/bench/README.md says."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


def norm(text: str) -> str:
    """Lower case, no punctuation, no spacing."""
    return _NON_WORD.sub("", text.lower())


def found(gold: str, returned: str) -> bool:
    """A returned sentence finds a gold one when it contains it, or when it is contained in it and
    covers at least half of it."""
    g, r = norm(gold), norm(returned)
    if not g or not r:
        return False
    return g in r or (r in g and 2 * len(r) >= len(g))


def first_rank(gold: list[str], returned: list[str]) -> int | None:
    """1-based rank of the first returned sentence that finds any gold sentence."""
    for i, r in enumerate(returned, 1):
        if any(found(g, r) for g in gold):
            return i
    return None


def recall(gold: list[str], returned: list[str]) -> float:
    """Share of gold sentences found within ``returned`` (already cut to the top max(5, n))."""
    return sum(any(found(g, r) for r in returned) for g in gold) / len(gold)


@dataclass
class Tally:
    ranks: list[int | None] = field(default_factory=list)

    def add(self, rank: int | None) -> None:
        self.ranks.append(rank)

    def summary(self) -> dict[str, float]:
        if not self.ranks:
            return {}
        r = self.ranks
        return {"n": len(r),
                "mrr@10": float(np.mean([1 / x if x and x <= 10 else 0 for x in r])),
                "hit@1": float(np.mean([bool(x and x <= 1) for x in r])),
                "hit@5": float(np.mean([bool(x and x <= 5) for x in r]))}
