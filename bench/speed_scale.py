"""Query latency, recall and memory of the vector store at 10k, 100k and 1M sentences.

Encoding a million sentences is not feasible on a 2-core machine in minutes, so the corpus past
the real BBC sentences is GENERATED: real BBC sentence vectors (all ~41.8k of them, embedded once
with the default encoder and cached) plus variants - a real vector with Gaussian noise added and
renormalised (cosine about 0.89 to its source, a near-paraphrase) - each with its own row of
text (the source sentence with a variant tag). The benchmark prints this.

Each size is measured in a fresh process (``python bench/speed_scale.py --serve DIR``) that loads
the saved store and the sentence text the way a served index would, so its resident memory is
that of a query process, and that times each question from its text to the sentences' text:
encoding (ONNX int8) + search + reading the text.
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

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
    from qa import vectors

    kind = vectors.choose_kind(len(matrix))
    h = hashlib.sha256(matrix[:: max(1, len(matrix) // 1000)].tobytes()).hexdigest()[:12]
    name = f"graph-{kind}-{len(matrix)}-M{vectors.HNSW_M}-efc{vectors.EF_CONSTRUCTION}-{h}"
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


def variant_text(texts: list[str], i: int) -> str:
    t = texts[i % len(texts)]
    return t if i < len(texts) else f"{t} [variant {i // len(texts)}]"


def recall_at_k(matrix: np.ndarray, queries: np.ndarray, got: np.ndarray, k: int = K) -> float:
    """Share of the returned rows whose exact score reaches the exact k-th best score (so ties
    among identical sentences count as found), averaged over queries."""
    found = []
    for lo in range(0, len(queries), 64):
        scores = queries[lo:lo + 64] @ matrix.T
        kth = -np.partition(-scores, k - 1, axis=1)[:, k - 1]
        for row, ids, bar in zip(scores, got[lo:lo + 64], kth):
            found.append(sum(row[i] >= bar - 1e-5 for i in ids if i >= 0) / k)
    return float(np.mean(found))


def prepare(folder: Path, base: np.ndarray, texts: list[str], n: int) -> tuple[dict, np.ndarray]:
    """Build and save the store for ``n`` sentences with its text; (figures, the vectors)."""
    from qa.vectors import VectorStore

    folder.mkdir(parents=True, exist_ok=True)
    matrix = corpus_vectors(base, n)
    t0 = time.perf_counter()
    store = VectorStore.build(matrix)
    build_s = time.perf_counter() - t0
    store.save(folder / "search.faiss")
    np.save(folder / "vectors.npy", matrix)  # float32 on disk: re-scoring reads its rows
    blob = [variant_text(texts, i).encode("utf-8") for i in range(n)]
    offsets = np.zeros(n + 1, np.int64)
    offsets[1:] = np.cumsum([len(b) for b in blob])
    (folder / "sentences.bin").write_bytes(b"".join(blob))
    np.save(folder / "offsets.npy", offsets)
    return {"kind": store.kind, "build_s": build_s, "store_bytes": store.nbytes,
            "file_bytes": (folder / "search.faiss").stat().st_size,
            "text_bytes": int(offsets[-1]) + offsets.nbytes}, matrix


def measure(folder: Path, questions: list[str]) -> dict:
    """Run the serving process on ``folder``; its JSON report."""
    (folder / "questions.json").write_text(json.dumps(questions), encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path[:2]))
    out = subprocess.run([sys.executable, __file__, "--serve", str(folder)], env=env,
                         capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(f"serving {folder} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def serve(folder: Path) -> dict:
    """In a fresh process: load encoder, store and text; time every question end to end."""
    from qa.encoders import load_encoder
    from qa.vectors import OnDiskVectors, VectorStore

    questions = json.loads((folder / "questions.json").read_text(encoding="utf-8"))
    encoder = load_encoder(backend="onnx-int8")
    encoder.encode(questions[:8])  # warm up the session
    before = rss_mb()
    exact = OnDiskVectors(folder / "vectors.npy")  # on disk; rows read to re-score
    store = VectorStore.load(folder / "search.faiss", exact=exact)
    text = (folder / "sentences.bin").read_bytes()
    offsets = np.load(folder / "offsets.npy")
    after_load = rss_mb()
    got = np.full((len(questions), K), -1, np.int64)
    vectors = np.zeros((len(questions), store.dim), np.float32)
    times = []
    for rep in range(2):
        for qi, q in enumerate(questions):
            t0 = time.perf_counter()
            vec = encoder.encode([q])  # one at a time, as questions come
            _, ids = store.search(vec, K)
            hits = [text[offsets[i]:offsets[i + 1]].decode("utf-8") for i in ids[0] if i >= 0]
            times.append(time.perf_counter() - t0)
            got[qi, :len(hits)] = ids[0][:len(hits)]
            vectors[qi] = vec[0]
    np.save(folder / "got.npy", got)
    np.save(folder / "queries.npy", vectors)
    times_ms = np.array(times) * 1000
    return {"queries": len(times), "p50_ms": float(np.percentile(times_ms, 50)),
            "p99_ms": float(np.percentile(times_ms, 99)),
            "rss_mb": rss_mb(), "rss_index_mb": after_load - before, "rss_before_mb": before,
            "kind": store.kind, "n": store.ntotal}


if __name__ == "__main__" and len(sys.argv) == 3 and sys.argv[1] == "--serve":
    print(json.dumps(serve(Path(sys.argv[2]))))
