"""Answer quality of the product pipeline, side by side with the naive baseline, in one run.

    PYTHONPATH=. HF_HUB_OFFLINE=1 /work/main/.venv/bin/python -m bench.quality [--wikiqa dev|test]
        [--only wikiqa|bbc|trec] [--bbc dev|dev2] [--trec] [--dump FILE] [--candidates]

``--candidates`` adds a third system: the same index ranked the way indexes past
``qa.tuning.RANK_ALL_MAX`` sentences are (an approximate graph's candidates ranked with the same
features, qa/ranking/sources.py), so the ranking a 1M-sentence index gets is measured on these
questions.

WikiQA: every DocumentID of the split in one index; BBC: all 2,225 articles in one index with the
bbc/dev.jsonl questions. Naive baseline: the same sentences, each embedded alone, exact
inner-product search, "answered" when the best cosine is >= 0.35. Embeddings are cached under
bench/cache/ (keyed by model and text hash), so reruns only embed what changed.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import time
from dataclasses import dataclass

import numpy as np

from bench import data
from bench.cache import CachedEncoder
from bench.score import Tally, first_rank, found, recall
from qa.ingest.splitter import split_document

NAIVE_THRESHOLD = 0.35  # the abstention rule the project started with: best cosine >= 0.35
K = 10


@dataclass
class Result:
    texts: list[str]
    answered: bool
    seconds: float


class Naive:
    """Plain sentence embeddings + exact inner-product search."""

    name = "naive"

    def __init__(self, docs, encoder):
        self.encoder = encoder
        self.texts = [d.text[s.start:s.end] for d in docs for s in split_document(d.text)[0]]
        self.matrix = encoder.encode(self.texts)

    def ask(self, question: str, k: int) -> Result:
        t = time.perf_counter()
        q = self.encoder.inner.encode([question])[0]  # the model itself: timed as in production
        scores = self.matrix @ q
        best = np.argsort(-scores)[:k]
        took = time.perf_counter() - t
        return Result([self.texts[i] for i in best], bool(scores[best[0]] >= NAIVE_THRESHOLD), took)


class Product:
    """The product pipeline: qa.Index.build and Index.ask (``rerank=False``: without the
    cross-encoder stage, to show what it adds in the same run)."""

    name = "product"

    def __init__(self, docs, encoder, rerank: bool = True, sizes=None, path=None):
        from qa.index import Index

        self.index = Index.build(docs, path, encoder=encoder, sizes=sizes)
        self.index.encoder = encoder.inner  # questions: the model itself, timed as in production
        if not rerank:
            self.index.rerank = False
            self.name = "ranker only"

    def ask(self, question: str, k: int) -> Result:
        from qa.asking import ask

        t = time.perf_counter()
        # the ranking, as before issue 19: a "what did X say" question's statements (every one,
        # in article order) are measured by bench/statements.py, not cut at k here
        answer = ask(self.index, question, k, statements=False)
        took = time.perf_counter() - t
        return Result([h.text for h in answer.hits], answer.answered, took)


class Candidates(Product):
    """The product pipeline as a large index runs it: both size thresholds 0 (qa.state.Sizes),
    so its 4-bit graph gives the candidates (qa.ranking.sources.GraphCandidates); re-ranked as
    the product is (the cross-encoder's limit is the index's real size)."""

    name = "product-candidates"

    def __init__(self, docs, encoder):
        from qa.state import Sizes

        super().__init__(docs, encoder, sizes=Sizes(rank_all_max=0, flat_max=0))
        self.index.row_source()  # prepared before questions are timed


class Milvus(Product):
    """The product pipeline over a Milvus index (``--milvus LOCATION``: its collections are
    replaced): candidates from the engine (qa.ranking.sources.EngineCandidates), re-ranked as
    the product is."""

    name = "product-milvus"

    def __init__(self, docs, encoder, location: str):
        super().__init__(docs, encoder, path=location)
        self.index.row_source()  # prepared before questions are timed


def evaluate(system, corpus: data.Corpus, dump: list | None = None) -> dict:
    by_type: dict[str, Tally] = {}
    overall, quote_recall = Tally(), []
    abstained, answered = [], []
    for q in corpus.questions:
        k = max(K, len(q.gold))
        res = system.ask(q.text, k)
        if q.type == "none":
            abstained.append(not res.answered)
        else:
            answered.append(res.answered)
            rank = first_rank(q.gold, res.texts[:K])
            overall.add(rank)
            by_type.setdefault(q.type, Tally()).add(rank)
            if q.type == "quote":
                quote_recall.append(recall(q.gold, res.texts[:max(5, len(q.gold))]))
        if dump is not None:
            dump.append({"system": system.name, "corpus": corpus.name, "id": q.id,
                         "type": q.type, "question": q.text, "answered": res.answered,
                         "returned": res.texts[:max(5, len(q.gold))],
                         "found": [[g, any(found(g, r) for r in res.texts[:max(5, len(q.gold))])]
                                   for g in q.gold]})
    out = {"all": overall.summary()}
    if len(by_type) > 1:
        out.update({t: v.summary() for t, v in sorted(by_type.items())})
    if quote_recall:
        out["quote"]["recall@max(5,n)"] = float(np.mean(quote_recall))
    out["abstain_on_none"] = float(np.mean(abstained)) if abstained else None
    out["answered_of_answerable"] = float(np.mean(answered)) if answered else None
    out["n_none"] = len(abstained)
    return out


def latency(systems, corpus: data.Corpus, rounds: int = 3) -> dict[str, float]:
    """Median seconds per question of each system, the systems taking turns question by question
    so that both see the same load on a shared machine (ms)."""
    from threadpoolctl import threadpool_limits

    times: dict[str, list[float]] = {s.name: [] for s in systems}
    # numpy's products on one thread for every system, as the product's ranker does: a
    # multi-threaded BLAS leaves its threads spinning after the naive system's product, and they
    # take the cores from the next system's onnxruntime calls (BBC dev: product p50 57 ms taking
    # turns with two-thread naive products, 40 ms alone)
    with threadpool_limits(limits=1, user_api="blas"):
        for _ in range(rounds):
            for q in corpus.questions:
                for s in systems:
                    times[s.name].append(s.ask(q.text, K).seconds)
    return {name: 1000 * statistics.median(t) for name, t in times.items()}


def sentence_survival(corpus: data.Corpus) -> dict:
    """How many given WikiQA sentences (and gold sentences) the product's splitter keeps whole."""
    from collections import Counter

    kept = total = 0
    for d in corpus.documents:
        spans, _ = split_document(d.text)
        split = Counter(d.text[s.start:s.end] for s in spans)
        given = Counter(corpus.given[d.id])
        kept += sum((split & given).values())
        total += sum(given.values())
    gold = [(q.doc_id, g) for q in corpus.questions for g in q.gold]
    docs = {d.id: d for d in corpus.documents}
    gold_kept = 0
    for doc_id, g in gold:
        spans, _ = split_document(docs[doc_id].text)
        gold_kept += any(docs[doc_id].text[s.start:s.end] == g for s in spans)
    return {"given_sentences": total, "kept_whole": kept, "gold": len(gold), "gold_kept_whole": gold_kept}


def fmt(x) -> str:
    return "-" if x is None else f"{x:.3f}" if isinstance(x, float) else str(x)


def print_table(name: str, results: dict[str, dict]) -> None:
    print(f"\n## {name}")
    systems = list(results)
    rows = []
    first = results[systems[0]]
    for part in [p for p in first if isinstance(first[p], dict) and first[p]]:
        for metric in first[part]:
            rows.append((f"{part} {metric}", [results[s][part].get(metric) for s in systems]))
    for key in ("abstain_on_none", "answered_of_answerable", "n_none", "latency_p50_ms"):
        rows.append((key, [results[s][key] for s in systems]))
    print(f"| metric | {' | '.join(systems)} |")
    print("|---|" + "---|" * len(systems))
    for label, vals in rows:
        print(f"| {label} | {' | '.join(fmt(v) for v in vals)} |")


def run(corpus: data.Corpus, encoder, dump, candidates: bool = False,
        milvus: str | None = None) -> dict:
    t = time.perf_counter()
    naive = Naive(corpus.documents, encoder)
    encoder.save()
    product = Product(corpus.documents, encoder)
    encoder.save()
    unranked = Product(corpus.documents, encoder, rerank=False)
    systems = [naive, unranked, product]
    if candidates:  # the product as a large index ranks (re-ranker included, as in product)
        systems.append(Candidates(corpus.documents, encoder))
    if milvus:  # the product over a Milvus index, in the same run
        systems.append(Milvus(corpus.documents, encoder, milvus))
    logging.info("%s: built in %.1f s", corpus.name, time.perf_counter() - t)
    out = {s.name: evaluate(s, corpus, dump) for s in systems}
    for name, ms in latency(systems, corpus).items():
        out[name]["latency_p50_ms"] = ms
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--wikiqa", default="dev", choices=["dev", "test"],
                   help="WikiQA split (tune on dev only; test is for reporting)")
    p.add_argument("--only", choices=["wikiqa", "bbc", "trec"])
    p.add_argument("--bbc", default="dev", choices=["dev", "dev2"],
                   help="BBC question set (both are dev sets: tune by cross-validation, bench/cv.py)")
    p.add_argument("--trec", action="store_true",
                   help="TREC QA test, every sentence one document, one corpus (report only)")
    p.add_argument("--dump", help="write every question's returned sentences to this JSONL file")
    p.add_argument("--candidates", action="store_true",
                   help="also rank as a large index does (graph candidates + the same features)")
    p.add_argument("--milvus", metavar="LOCATION",
                   help="also rank over a Milvus index built at LOCATION (milvus+lite:///PATH.db, "
                        "milvus+http://HOST:PORT; its collections are replaced)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from qa.encoders import load_encoder

    encoder = CachedEncoder(load_encoder())
    dump = [] if args.dump else None
    if args.trec or args.only == "trec":
        corpus = data.trec("test")
        print(f"\nTREC QA test: {len(corpus.documents)} sentences, "
              f"{sum(q.type != 'none' for q in corpus.questions)} answerable questions")
        print_table(corpus.name, run(corpus, encoder, dump, args.candidates))
    if args.only not in ("bbc", "trec"):
        corpus = data.wikiqa(args.wikiqa)
        print(f"\nWikiQA-{args.wikiqa}: {len(corpus.documents)} documents, "
              f"{sum(q.type != 'none' for q in corpus.questions)} answerable questions; "
              f"splitting: {sentence_survival(corpus)}")
        print_table(corpus.name, run(corpus, encoder, dump, args.candidates, args.milvus))
    if args.only not in ("wikiqa", "trec"):
        corpus = data.bbc(args.bbc)
        print_table(corpus.name + f" ({len(corpus.documents)} articles)",
                    run(corpus, encoder, dump, args.candidates, args.milvus))
    if dump is not None:
        with open(args.dump, "w", encoding="utf-8") as fh:
            for row in dump:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
