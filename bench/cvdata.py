"""The candidate cache bench/cv.py cross-validates on: every dev question's candidates with their
features, computed once by the product's own code.

    PYTHONPATH=. HF_HUB_OFFLINE=1 /work/main/.venv/bin/python -m bench.cvdata

Dev sets, each asked of the corpus it belongs to: WikiQA-dev (every document in one index), BBC
dev and dev2 (all 2,225 articles in one index), small.jsonl (each question of its own article
alone). For each question: the rows the product ranks (qa.ranking.sources), their features
(qa.ranking.features), and a pool of candidates kept: the best ``POOL`` by the shipped fused score
and the best ``EACH`` by each single feature, so that other weights rank from the same pool. Kept
per candidate: every feature, its article, its text, which gold sentences it finds, its answer-kind
fit (qa.ranking.kinds.fit); per question: the spread of the cosines over every row ranked and the
corpus size (the abstention rule's inputs, qa.ranking.decide). Written to bench/cache/cv2.json
(and cv2-one.json with ``--one``; gitignored), or to NAME.json with BENCH_CV_CACHE=NAME (a
variant's cache beside the shipped one; bench.cv reads the same variable).
"""
from __future__ import annotations

import json
import logging
import os
import sys
import time
from pathlib import Path

import numpy as np

from bench import data
from bench.cache import CACHE_DIR, CachedEncoder
from bench.score import found

FEATURES = ["dense", "doc", "neighbour", "doc_lex", "doc_bm25", "title_lex", "speaker", "lead",
            "answer_type", "topic_miss", "mention", "chain", "in_article"]
POOL = 150
EACH = 40
# cv2: with the asked person's passage (mention, chain: qa/ranking/passage.py); the files of
# the ten-feature format before it (cv.json, cv-one.json) are left as they were
CACHE = CACHE_DIR / os.environ.get("BENCH_CV_CACHE", "cv2")  # another name: a variant's cache


def small_questions() -> list[tuple[str, data.Question]]:
    """small.jsonl: (the one article each question is asked of, the question)."""
    out = []
    with open(data.data_dir() / "bbc" / "small.jsonl", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                o = json.loads(line)
                out.append((o["corpus"], data.Question(o["id"], o["question"], o["type"],
                                                       list(o["gold"]), o["doc_id"])))
    return out


def question_rows(index, question: data.Question, encoder, setname: str, corpus_id: str,
                  group: str | None = None) -> dict:
    """One question's cached candidates (see the module's docstring)."""
    from qa.ranking.features import features
    from qa.ranking.fuse import focus_speaker, fuse
    from qa.ranking.kinds import fit, kind
    from qa.tuning import WEIGHTS

    source = index.row_source()
    query = np.asarray(encoder.encode([question.text])[0], np.float32)
    picked = source.pick(query, None)
    feats = features(question.text, query, kind(question.text), source, picked)
    doc = source.rowmap.row_doc if picked.rows is None else source.rowmap.row_doc[picked.rows]
    shipped = focus_speaker(fuse(feats, WEIGHTS), feats["speaker"], doc)
    n = len(shipped)
    keep = set(np.argsort(-shipped)[:POOL].tolist())
    for f in ("dense", "in_article", "doc", "doc_lex", "neighbour"):
        keep.update(np.argsort(-feats[f])[:EACH].tolist())
    for f in ("speaker", "mention", "chain"):
        keep.update(np.flatnonzero(feats[f] > 0)[:200].tolist())
    pool = np.array(sorted(keep), np.int64)
    texts = [picked.texts[i] for i in pool]
    which = [[bool(found(g, t)) for g in question.gold] for t in texts]
    dense = feats["dense"]
    return {"set": setname, "corpus": corpus_id, "id": question.id, "q": question.text,
            "type": question.type, "n_gold": len(question.gold),
            "group": group or question.doc_id or corpus_id,
            "texts": texts, "which": which, "fit": fit(question.text, texts),
            "doc": doc[pool].tolist(), "n_rows": n,
            "dense_mean": float(dense.mean()), "dense_std": float(dense.std()),
            "F": np.stack([feats[f][pool] for f in FEATURES], 1).astype(np.float32).tolist()}


def build() -> list[dict]:
    from qa.encoders import load_encoder
    from qa.index import Index

    os.environ["QA_RERANK"] = "0"
    encoder = CachedEncoder(load_encoder())
    out: list[dict] = []
    t = time.perf_counter()
    wiki = data.wikiqa("dev")
    index = Index.build(wiki.documents, encoder=encoder)
    out += [question_rows(index, q, encoder, "wikiqa-dev", "wikiqa-dev") for q in wiki.questions]
    logging.info("wikiqa-dev: %d questions (%.0f s)", len(wiki.questions), time.perf_counter() - t)
    bbc = data.bbc("dev")
    index = Index.build(bbc.documents, encoder=encoder)
    encoder.save()
    for name in ("dev", "dev2"):
        qs = data.bbc(name).questions
        out += [question_rows(index, q, encoder, f"bbc-{name}", "bbc", q.doc_id or q.id)
                for q in qs]
        logging.info("bbc-%s: %d questions (%.0f s)", name, len(qs), time.perf_counter() - t)
    docs = {d.id: d for d in bbc.documents}
    small: dict[str, object] = {}
    for corpus_id, q in small_questions():
        if corpus_id not in small:
            small[corpus_id] = Index.build([docs[corpus_id]], encoder=encoder)
        out.append(question_rows(small[corpus_id], q, encoder, "small", corpus_id))
    encoder.save()
    logging.info("small: done (%.0f s)", time.perf_counter() - t)
    return out


def own_articles(corpus: data.Corpus, questions: list[data.Question], encoder):
    """Each question with an index of one article alone: its own, or for a question without one
    (a BBC `none` question) the article the whole-corpus ranker puts first."""
    from qa.index import Index

    docs = {d.id: d for d in corpus.documents}
    full = None
    for q in questions:
        doc_id = q.doc_id
        if doc_id is None:
            if full is None:
                full = Index.build(corpus.documents, encoder=encoder)
            doc_id = full.search(q.text, 1)[0].doc_id
        yield q, Index.build([docs[doc_id]], encoder=encoder), doc_id


def build_one() -> list[dict]:
    """Every WikiQA-dev and BBC dev/dev2 question asked of one article alone (``own_articles``),
    as sets "wikiqa-dev-1" and "bbc-1": the sizes of the shipped article."""
    from qa.encoders import load_encoder

    os.environ["QA_RERANK"] = "0"
    encoder = CachedEncoder(load_encoder())
    t = time.perf_counter()
    wiki = data.wikiqa("dev")
    out = [question_rows(one, q, encoder, "wikiqa-dev-1", doc_id)
           for q, one, doc_id in own_articles(wiki, wiki.questions, encoder)]
    logging.info("wikiqa-dev, one article each: (%.0f s)", time.perf_counter() - t)
    bbc = data.bbc("dev")
    asked = bbc.questions + data.bbc("dev2").questions
    out += [question_rows(one, q, encoder, "bbc-1", doc_id, q.doc_id or q.id)
            for q, one, doc_id in own_articles(bbc, asked, encoder)]
    encoder.save()
    logging.info("bbc, one article each: (%.0f s)", time.perf_counter() - t)
    return out


def save(rows: list[dict], path: Path = CACHE) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".json"), "w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")


def load(path: Path = CACHE) -> list[dict]:
    rows = []
    one = path.with_name(path.name + "-one.json")
    for line in _lines(path.with_suffix(".json")) + (_lines(one) if one.is_file() else []):
        r = json.loads(line)
        r["F"] = np.asarray(r["F"], np.float32).reshape(-1, len(FEATURES))
        r["which"] = np.asarray(r["which"], bool).reshape(len(r["texts"]), -1)
        r["doc"] = np.asarray(r["doc"], np.int64)
        r["fit"] = np.asarray(r["fit"], np.float32)
        if r["group"] == "bbc":  # caches written before `none` questions were their own group
            r["group"] = r["id"]
        rows.append(r)
    return rows


def _lines(path: Path) -> list[str]:
    with open(path, encoding="utf-8") as fh:
        return fh.readlines()


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if "--one" in sys.argv:
        save(build_one(), CACHE.with_name(CACHE.name + "-one"))
    else:
        save(build())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
