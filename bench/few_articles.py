"""Does a question's answer/abstain decision hold when unrelated articles join its article? Every
BBC dev / dev2 question and every small.jsonl question is asked of its own article alone (as
bench.small_corpus and ``cvdata --one`` choose it), then of that article with 1, 3, 10 and 30
other BBC articles drawn at random (seeded by the question), and WikiQA-dev's questions the same
with other WikiQA-dev documents. Printed per set and size: the share of answerable questions
answered, of `none` questions abstained, and of decisions that differ from the article alone.

A reader who adds one unrelated article to an index of one should not see a question it
answered turn into "no article answers this": the rule is meant to be the same at every size.

    PYTHONPATH=. HF_HUB_OFFLINE=1 .venv/bin/python -m bench.few_articles [--sizes 0,1,3,10,30]
"""
from __future__ import annotations

import argparse
import logging
import os
import zlib

import numpy as np

from bench import data
from bench.cache import CachedEncoder
from bench.cvdata import own_articles, small_questions


def shortest(pool: list, share: float = 0.25) -> list:
    """The shortest ``share`` of ``pool``'s articles, by characters."""
    return sorted(pool, key=lambda d: len(d.text))[:max(1, int(len(pool) * share))]


def decisions(corpus: data.Corpus, asked, pool: list, encoder, sizes: list[int]) -> dict:
    """{size: [(answerable?, answered?)]} for ``asked``: (question, its article's id) pairs."""
    from qa.index import Index

    docs = {d.id: d for d in pool}
    docs.update({d.id: d for d in corpus.documents})
    ids = sorted(d.id for d in pool)
    out: dict[int, list] = {n: [] for n in sizes}
    for q, doc_id in asked:
        rng = np.random.default_rng(zlib.crc32(q.text.encode()))
        others = [i for i in rng.permutation(ids)[:max(sizes) + 1].tolist() if i != doc_id]
        for n in sizes:
            index = Index.build([docs[doc_id]] + [docs[i] for i in others[:n]], encoder=encoder)
            out[n].append((q.type != "none", index.ask(q.text, 1).answered))
    return out


def report(name: str, got: dict) -> None:
    base = got[min(got)]
    print(f"\n## {name}: {len(base)} questions, each of its own article and n others")
    print("| n others | answerable answered | `none` abstained | decisions changed from n = 0 |")
    print("|---|---|---|---|")
    for n, res in got.items():
        y = np.array([a for a, _ in res])
        said = np.array([s for _, s in res])
        changed = np.mean(said != np.array([s for _, s in base]))
        print(f"| {n} | {said[y].mean():.3f} ({y.sum()}) | {(~said[~y]).mean():.3f} ({(~y).sum()}) "
              f"| {changed:.3f} |", flush=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="0,1,3,10,30")
    ap.add_argument("--sets", default="small,bbc,wikiqa")
    ap.add_argument("--short", action="store_true",
                    help="draw the other articles from the shortest quarter of the pool only (a "
                    "press note, a brief: what moves an average article length most)")
    a = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ["QA_RERANK"] = "0"  # the decision does not read the re-ranker
    from qa.encoders import load_encoder

    sizes = [int(s) for s in a.sizes.split(",")]
    encoder = CachedEncoder(load_encoder())
    bbc = data.bbc("dev")
    pick = shortest if a.short else list
    if "small" in a.sets:
        asked = [(q, corpus_id) for corpus_id, q in small_questions()]
        report("small.jsonl", decisions(bbc, asked, pick(bbc.documents), encoder, sizes))
    if "bbc" in a.sets:
        questions = bbc.questions + data.bbc("dev2").questions
        asked = [(q, doc_id) for q, _, doc_id in own_articles(bbc, questions, encoder)]
        report("BBC dev + dev2", decisions(bbc, asked, pick(bbc.documents), encoder, sizes))
    if "wikiqa" in a.sets:
        wiki = data.wikiqa("dev")
        asked = [(q, doc_id) for q, _, doc_id in own_articles(wiki, wiki.questions, encoder)]
        report("WikiQA-dev", decisions(wiki, asked, pick(wiki.documents), encoder, sizes))
    encoder.save()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
