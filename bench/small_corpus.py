"""Is the abstention rule calibrated for a one-article index? Every dev question is asked of a
corpus of one article: its own (WikiQA `none` questions come with one; BBC `none` questions get
the article the full-corpus ranker puts first), and the share answered / abstained is printed.

    PYTHONPATH=. HF_HUB_OFFLINE=1 .venv/bin/python -m bench.small_corpus
"""
from __future__ import annotations

import logging
import os

import numpy as np

from bench import data
from bench.cache import CachedEncoder
from bench.cvdata import own_articles


def main() -> None:
    from qa.encoders import load_encoder

    logging.basicConfig(level=logging.WARNING)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ["QA_RERANK"] = "0"  # abstention does not depend on the re-ranker
    encoder = CachedEncoder(load_encoder())
    for corpus in (data.wikiqa("dev"), data.bbc("dev")):
        answered, abstained = [], []
        for q, one, _ in own_articles(corpus, corpus.questions, encoder):
            said = one.ask(q.text, 1).answered
            if q.type == "none":
                abstained.append(not said)
            else:
                answered.append(said)
        encoder.save()
        print(f"{corpus.name}, one article per question: answerable answered "
              f"{np.mean(answered):.3f} ({len(answered)}), none abstained {np.mean(abstained):.3f} "
              f"({len(abstained)})")


if __name__ == "__main__":
    main()
