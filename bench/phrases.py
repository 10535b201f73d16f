"""How often the marked answer phrase (qa/phrases.py) is the answer, on the BBC dev + dev2 fact
questions that ask who / whom / when / where / which / how many / how much.

    PYTHONPATH=. /work/main/.venv/bin/python -m bench.phrases [--index DIR] [--write]

For each such question it marks (a) the first gold sentence (the marker alone, retrieval aside)
and, with ``--index`` (the BBC corpus built by bench/statements.py), (b) the best hit the product
returns, through ``Index.ask``. Every (question, sentence, phrase) is judged by hand in
bench/phrases_judged.tsv, with a note for each wrong one: ``right`` (the phrase is the answer,
with at most a title or party word beside it: "DJ Mike Read"), ``wrong`` (it is not: often a
phrase of the right kind in a sentence that does not answer), ``part`` (it holds part of the
answer: counted wrong). ``--write`` adds new rows to
that file, unjudged, to be judged before the figures count them. Nothing marked is counted
separately: the marker is meant to mark nothing rather than a wrong phrase.
"""
from __future__ import annotations

import argparse
import csv
import os
from collections import Counter
from pathlib import Path

from bench import data
from qa import phrases

JUDGED = Path(__file__).with_name("phrases_judged.tsv")


def _judged() -> dict[tuple[str, str, str], str]:
    if not JUDGED.is_file():
        return {}
    with open(JUDGED, encoding="utf-8", newline="") as fh:
        return {(r["id"], r["sentence"], r["phrase"]): r["judgement"]
                for r in csv.DictReader(fh, delimiter="\t")}


def rows(index=None):
    """(question id, question, where, sentence, phrase or "") for every phrase question."""
    for split in ("dev", "dev2"):
        corpus = data.bbc(split)
        for q in corpus.questions:
            if q.type != "fact" or phrases.kind(q.text) is None:
                continue
            sentence = q.gold[0]
            span = phrases.find(q.text, sentence)
            yield q.id, q.text, "gold", sentence, sentence[span[0]:span[1]] if span else ""
            if index is not None:
                answer = index.ask(q.text, k=1)
                hit = answer.hits[0] if answer.hits else None
                if hit is not None:
                    phrase = "" if hit.answer_start is None else \
                        hit.text[hit.answer_start - hit.start:hit.answer_end - hit.start]
                    yield q.id, q.text, "top hit", hit.text, phrase


def main(argv=None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--index", help="the BBC index folder (bench/statements.py builds one)")
    p.add_argument("--write", action="store_true", help="add unjudged rows to " + JUDGED.name)
    args = p.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    index = None
    if args.index:
        from bench.cache import CachedEncoder
        from qa.encoders import load_encoder
        from qa.index import Index

        index = Index.open(args.index, encoder=CachedEncoder(load_encoder()))
    judged = _judged()
    found = list(rows(index))
    new = [r for r in found if r[4] and (r[0], r[3], r[4]) not in judged]
    if args.write and new:
        exists = JUDGED.is_file()
        with open(JUDGED, "a", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, delimiter="\t", lineterminator="\n")
            if not exists:
                w.writerow(["id", "question", "sentence", "phrase", "judgement"])
            seen = set()
            for r in new:
                if (r[0], r[3], r[4]) not in seen:
                    seen.add((r[0], r[3], r[4]))
                    w.writerow([r[0], r[1], r[3], r[4], ""])
    for where in ("gold", "top hit"):
        mine = [r for r in found if r[2] == where]
        if not mine:
            continue
        tally = Counter("none" if not r[4] else judged.get((r[0], r[3], r[4])) or "unjudged"
                        for r in mine)
        marked = len(mine) - tally["none"]
        right = tally["right"]
        print(f"{where}: {len(mine)} questions, marked {marked}, right {right}, part "
              f"{tally['part']}, wrong {tally['wrong']}, unjudged {tally['unjudged']}; "
              f"right/marked {right / max(marked, 1):.2f}, right/all {right / len(mine):.2f}")
    for r in found:
        print(f"{r[0]}\t{r[2]}\t{r[1]}\t[{r[4]}]\t{r[3][:160]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
