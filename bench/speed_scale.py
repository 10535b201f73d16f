"""Latency, recall, memory and cold start of ``qa.Index`` at 10k, 41.8k (BBC), 100k and 1M
sentences.

Encoding a million sentences is not feasible on a 2-core machine in minutes, so the corpus past
the real BBC sentences is GENERATED: real BBC sentence vectors (all ~41.8k of them, embedded once
with the default encoder and cached) plus variants - a real vector with Gaussian noise added and
renormalised (cosine about 0.89 to its source, a near-paraphrase). Variant copy v of a BBC article
is an article of its own (id ``<id>~v<v>``) whose sentences are the source's, each tagged
``[variant v]``. The benchmark prints this.

Each index is written with the storage API (``qa.storage.folder.save``: the same files ``qa ingest`` writes,
vectors given instead of embedded; speakers, ranking data and, above RANK_ALL_MAX, the search
graph computed as ``Index.save`` computes them) and measured in a fresh process
(``python -m bench.speed_scale --serve DIR``) through the product object: ``Index.open`` and
``Index.ask`` with the ONNX int8 encoder. That process reports the time from its start to its
first answer (cold start), each question's time from text to answer (encode + vector store +
ranking + hits), its peak resident memory (``getrusage`` maxrss) after opening and asking every
question, and - as the baseline, interleaved on the same questions - the vector stage alone
(encode + the nearest 10 sentences by the vector store, no ranking features).
"""
from __future__ import annotations

import hashlib
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent

NOISE = 0.5  # |noise| relative to the unit vector: cosine to the source about 1/sqrt(1+0.25)
K = 10


def corpus_vectors(base: np.ndarray, n: int, seed: int = 7) -> np.ndarray:
    """``n`` unit vectors: the real ``base`` rows first, then noisy variants of them."""
    rng = np.random.default_rng(seed)
    out = np.empty((n, base.shape[1]), np.float32)
    real = min(n, len(base))
    out[:real] = base[:real]
    step = 100_000
    for lo in range(real, n, step):
        hi = min(n, lo + step)
        src = base[np.arange(lo, hi) % len(base)]
        noisy = src + (NOISE / np.sqrt(base.shape[1])) * rng.standard_normal(src.shape, np.float32)
        out[lo:hi] = noisy / np.linalg.norm(noisy, axis=1, keepdims=True)
    return out


def cached_graph(matrix: np.ndarray, cache: Path):
    """The vector store over ``matrix`` as ``VectorStore.build`` makes it, kept in ``cache`` (a
    1M-sentence graph takes 10-15 minutes to build here); (store, build seconds)."""
    from qa import tuning
    from qa.storage import vectors

    kind = vectors.choose_kind(len(matrix))
    h = hashlib.sha256(matrix[:: max(1, len(matrix) // 1000)].tobytes()).hexdigest()[:12]
    name = f"graph-{kind}-{len(matrix)}-M{tuning.HNSW_M}-efc{tuning.EF_CONSTRUCTION}-{h}"
    f, meta = cache / f"{name}.faiss", cache / f"{name}.json"
    if f.is_file() and meta.is_file():
        return vectors.VectorStore.load(f, exact=matrix), json.loads(meta.read_text())["build_s"]
    t0 = time.perf_counter()
    store = vectors.VectorStore.build(matrix)
    build_s = time.perf_counter() - t0
    if store.kind != "flat":
        cache.mkdir(parents=True, exist_ok=True)
        store.save(f)
        meta.write_text(json.dumps({"build_s": build_s}))
    return store, build_s


def stored_docs(bbc_docs: list, n: int) -> list:
    """StoredDocs of the BBC articles, then their variant copies, cut to ``n`` sentences; row i
    is sentence i % 41.8k of the BBC corpus (as ``corpus_vectors`` orders the vectors)."""
    from qa.index import content_hash
    from qa.ingest.speakers import attribute
    from qa.ingest.splitter import split_document
    from qa.storage.stored import StoredDoc
    from qa.types import Document, Span

    split = []
    for doc in bbc_docs:
        spans, _ = split_document(doc.text)
        if spans:
            split.append((doc, [doc.text[s.start:s.end] for s in spans], spans))
    out, rows, v = [], 0, 0
    while rows < n:
        for doc, sentences, spans in split:
            take = min(len(sentences), n - rows)
            if take <= 0:
                break
            if v == 0 and take == len(sentences):
                d, bounds = doc, spans
            else:  # a variant (or the cut last article): its own text, sentence by sentence
                tag = f" [variant {v}]" if v else ""
                parts, bounds, at = [], [], 0
                for s in sentences[:take]:
                    parts.append(s + tag)
                    bounds.append(Span(at, at + len(s) + len(tag)))
                    at += len(s) + len(tag) + 1
                d = Document(id=doc.id if v == 0 else f"{doc.id}~v{v}", text=" ".join(parts),
                             title=(doc.title or "") + tag, source=doc.source)
            texts = [d.text[s.start:s.end] for s in bounds]
            out.append(StoredDoc.of(d, content_hash(d), bounds, attribute(texts)))
            rows += take
        v += 1
    return out


def prepare(folder: Path, base: np.ndarray, bbc_docs: list, n: int, model: str,
            backend: str) -> tuple[dict, np.ndarray]:
    """Write a qa index of ``n`` sentences to ``folder``; (figures, its vectors)."""
    from qa.ranking.corpusdata import CorpusData
    from qa.storage import folder as store
    from qa.tuning import RANK_ALL_MAX
    from bench.cache import CACHE_DIR as CACHE

    matrix = corpus_vectors(base, n)
    t0 = time.perf_counter()
    docs = stored_docs(bbc_docs, n)
    docs_s = time.perf_counter() - t0
    built = {"articles": len(docs), "docs_s": docs_s, "build_s": 0.0, "kind": "full ranker"}
    search, side = None, {}
    if n > RANK_ALL_MAX:
        search, built["build_s"] = cached_graph(matrix, CACHE / "graphs")
        t0 = time.perf_counter()
        side = CorpusData.build(docs, matrix, matrix.shape[1], postings=True).to_files()
        built["rank_data_s"] = time.perf_counter() - t0
        built["kind"] = search.kind
    t0 = time.perf_counter()
    store.save(folder, store.Snapshot(model=model, dim=matrix.shape[1], docs=docs, vectors=matrix,
                                      backend=backend, search=search, side=side))
    built["save_s"] = time.perf_counter() - t0
    gen = folder / json.loads((folder / store.MANIFEST).read_text())["generation"]
    built["files"] = {f.name: f.stat().st_size for f in gen.iterdir()}
    built["disk_bytes"] = sum(built["files"].values())
    return built, matrix


def measure(folder: Path, questions: list[str]) -> dict:
    """Run the serving process on ``folder``; its JSON report, with its cold start."""
    (folder / "questions.json").write_text(json.dumps(questions), encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1")
    started = time.time()
    out = subprocess.run([sys.executable, "-m", "bench.speed_scale", "--serve", str(folder)],
                         env=env, capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(f"serving {folder} failed:\n{out.stderr[-3000:]}")
    report = json.loads(out.stdout.strip().splitlines()[-1])
    report["cold_start_s"] = report.pop("first_answer_at") - started
    return report


def recall_at_k(matrix: np.ndarray, queries: np.ndarray, got: np.ndarray, k: int = K) -> float:
    """Share of the exact top ``k`` rows (by score: a tie with the k-th counts) that ``got``
    holds, averaged over queries. ``got`` may hold more than k rows (a candidate set)."""
    found = []
    for lo in range(0, len(queries), 64):
        scores = queries[lo:lo + 64] @ matrix.T
        kth = -np.partition(-scores, k - 1, axis=1)[:, k - 1]
        for row, ids, bar in zip(scores, got[lo:lo + 64], kth):
            ids = ids[ids >= 0]
            found.append(min(k, int((row[ids] >= bar - 1e-5).sum())) / k)
    return float(np.mean(found))


def _rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _peak_mb() -> float:
    """Peak resident memory of this process (VmHWM). Not getrusage's ru_maxrss: on Linux that
    keeps the high-water mark of the address space before exec, so a process started by this
    benchmark's parent (which holds the 1M vectors) would report the parent's size."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def serve(folder: Path) -> dict:
    """In a fresh process: open the index, answer every question (twice: the second time
    interleaved with the vector stage alone, the baseline)."""
    from qa import Index
    from qa.encoders import load_encoder
    from qa.storage.vectors import VectorStore
    from qa.tuning import CANDIDATES

    questions = json.loads((folder / "questions.json").read_text(encoding="utf-8"))
    encoder = load_encoder()  # the configured encoder (ONNX int8), as Index.open would load it
    encoder.encode(["warm up"])
    base_rss = _rss_mb()  # the process without an index: the baseline of resident memory
    index = Index.open(folder, encoder=encoder)
    first = index.ask(questions[0], K)
    first_at = time.time()
    rss_open = _rss_mb()
    times = []
    for q in questions:
        t0 = time.perf_counter()
        index.ask(q, K)
        times.append(time.perf_counter() - t0)
    peak = _peak_mb()
    rss = _rss_mb()
    # the baseline, not counted in the memory above: the nearest 10 by the vector store alone
    store = index.vector_store() if len(index) > _rank_all_max() else \
        VectorStore.build(index.row_source().matrix, kind="flat")
    got = np.full((len(questions), K), -1, np.int64)
    cand = np.full((len(questions), CANDIDATES), -1, np.int64)
    vectors = np.zeros((len(questions), store.dim), np.float32)
    base_times = []
    for qi, q in enumerate(questions):
        t0 = time.perf_counter()
        index.ask(q, K)
        times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        vec = encoder.encode([q])
        _, ids = store.search(vec, K)
        base_times.append(time.perf_counter() - t0)
        got[qi, :ids.shape[1]] = ids[0]
        c = store.candidates(vec[0], CANDIDATES)
        cand[qi, :len(c)] = c
        vectors[qi] = vec[0]
    np.save(folder / "got.npy", got)
    np.save(folder / "candidates.npy", cand)
    np.save(folder / "queries.npy", vectors)
    ms, base_ms = np.array(times) * 1000, np.array(base_times) * 1000
    return {"n": len(index), "questions": len(times), "first_answer_at": first_at,
            "first_answered": first.answered,
            "p50_ms": float(np.percentile(ms, 50)), "p99_ms": float(np.percentile(ms, 99)),
            "base_p50_ms": float(np.percentile(base_ms, 50)),
            "base_p99_ms": float(np.percentile(base_ms, 99)),
            "peak_rss_mb": peak, "rss_mb": rss, "rss_after_open_mb": rss_open,
            "base_rss_mb": base_rss,
            "store": store.kind}


def _rank_all_max() -> int:
    from qa.tuning import RANK_ALL_MAX

    return RANK_ALL_MAX


def run(sizes: list[int], work: Path, reuse: bool = False) -> dict:
    """Build (or, with ``reuse``, keep) and measure an index of each size."""
    import logging

    from bench import data
    from bench.cache import embed_cached
    from qa.encoders import load_encoder

    log = logging.getLogger("bench.speed")
    encoder = load_encoder(backend="onnx-int8")
    s = data.bbc_sentences()
    base = embed_cached(encoder, s.texts, "bbc")
    bbc_docs = data.bbc_documents()
    titles = [d.title for d in bbc_docs if d.title]
    titles = [titles[i] for i in np.random.default_rng(0).choice(len(titles), 300, replace=False)]
    on_topic = data.bbc_questions() + titles  # about the corpus: BBC dev questions, headlines
    off_topic = data.wikiqa_sentences("dev").questions  # about Wikipedia: no answer in the BBC corpus
    questions = on_topic + off_topic
    out = {"real_sentences": len(base), "questions": len(questions), "on_topic": len(on_topic),
           "noise": NOISE, "sizes": {}}
    for n in sizes:
        n = len(base) if n == 0 else n  # 0: the BBC corpus as it is
        folder = work / f"index-{n}"
        built_file = folder / "built.json"
        if reuse and built_file.is_file():
            built, matrix = json.loads(built_file.read_text()), corpus_vectors(base, n)
        else:
            log.info("scale %d: writing the index", n)
            built, matrix = prepare(folder, base, bbc_docs, n, encoder.name, encoder.backend)
            built_file.write_text(json.dumps(built))
        log.info("scale %d: serving", n)
        served = measure(folder, questions)
        vecs = np.load(folder / "queries.npy")
        got, cand = np.load(folder / "got.npy"), np.load(folder / "candidates.npy")
        m = len(on_topic)
        served["recall10"] = recall_at_k(matrix, vecs[:m], got[:m])
        served["recall10_off_topic"] = recall_at_k(matrix, vecs[m:], got[m:])
        served["candidates_recall10"] = recall_at_k(matrix, vecs, cand)
        del matrix
        served.update(built, disk_bytes_per_sentence=built["disk_bytes"] / n,
                      resident_bytes_per_sentence=(served["peak_rss_mb"] - served["base_rss_mb"])
                      * 2**20 / n if "base_rss_mb" in served else None)
        out["sizes"][str(n)] = served
        log.info("scale %d: %s", n, served)
    return out


if __name__ == "__main__" and len(sys.argv) == 3 and sys.argv[1] == "--serve":
    print(json.dumps(serve(Path(sys.argv[2]))))
