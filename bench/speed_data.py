"""Data for the speed benchmark: BBC sentences and questions, WikiQA-dev, cached embeddings.

Embeddings of whole corpora are cached under bench/cache/ (gitignored), keyed by backend and a
hash of the texts, so reruns do not re-embed the ~40k BBC sentences.
"""
from __future__ import annotations

import csv
import hashlib
import json
import logging
import os
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "bench" / "cache"
log = logging.getLogger("bench.speed")


def data_dir() -> Path:
    """The shared benchmark data: ``QA_BENCH_DATA``, else ../shared/bench beside the project."""
    return Path(os.environ.get("QA_BENCH_DATA") or ROOT.parent / "shared" / "bench")


@dataclass
class Sentences:
    texts: list[str]
    doc_ids: list[str]


def bbc_documents() -> list:
    from qa.types import Document

    docs = []
    with open(data_dir() / "bbc" / "articles.jsonl", encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            docs.append(Document(id=row["id"], text=row["text"], title=row.get("title"),
                                 source="BBC"))
    return docs


def bbc_sentences() -> Sentences:
    """Every sentence of the BBC corpus, split as the index splits them."""
    from qa.splitter import split_document

    texts, ids = [], []
    for doc in bbc_documents():
        spans, _ = split_document(doc.text)
        texts += [doc.text[s.start:s.end] for s in spans]
        ids += [doc.id] * len(spans)
    return Sentences(texts, ids)


def bbc_questions() -> list[str]:
    with open(data_dir() / "bbc" / "dev.jsonl", encoding="utf-8") as fh:
        return [json.loads(line)["question"] for line in fh if line.strip()]


@dataclass
class WikiQA:
    sentences: list[str]  # every distinct sentence of the split: one corpus
    questions: list[str]  # answerable questions only
    gold: list[set[int]]  # per question: rows of ``sentences`` labelled 1


def wikiqa(split: str = "dev") -> WikiQA:
    with open(data_dir() / "wikiqa" / f"WikiQA-{split}.tsv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))
    row_of: dict[str, int] = {}
    sentences: list[str] = []
    gold: dict[str, set[int]] = defaultdict(set)
    text_of: dict[str, str] = {}
    for r in rows:
        s = " ".join(r["Sentence"].split())
        if s not in row_of:
            row_of[s] = len(sentences)
            sentences.append(s)
        text_of[r["QuestionID"]] = r["Question"]
        if r["Label"] == "1":
            gold[r["QuestionID"]].add(row_of[s])
    qids = [q for q in text_of if gold.get(q)]
    return WikiQA(sentences, [text_of[q] for q in qids], [gold[q] for q in qids])


def embed_cached(encoder, texts: list[str], label: str) -> np.ndarray:
    """``encoder.encode(texts)``, from bench/cache/ when these texts were embedded before."""
    model_file = Path(getattr(encoder, "model_file", "")).name  # the export recipe's version
    h = hashlib.sha256(f"{encoder.name}|{encoder.backend}|{model_file}".encode())
    for t in texts:
        h.update(t.encode("utf-8", "surrogatepass") + b"\x00")
    f = CACHE / f"{label}-{encoder.backend}-{h.hexdigest()[:16]}.npy"
    if f.is_file():
        return np.load(f)
    t0 = time.perf_counter()
    vectors = np.zeros((len(texts), encoder.dim), np.float32)
    step = 2048
    for lo in range(0, len(texts), step):
        vectors[lo:lo + step] = encoder.encode(texts[lo:lo + step])
        log.info("%s: %d/%d embedded (%.0f s)", label, min(lo + step, len(texts)), len(texts),
                 time.perf_counter() - t0)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(f, vectors)
    return vectors
