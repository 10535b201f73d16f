"""Ingest on a GPU: sentences/s, the time for a million sentences, and how close the vectors are
to the CPU int8 ones the questions are encoded with.

On the CPU machine, once (writes bench/cache/gpu/: the model's files, the BBC articles
compressed, and the CPU int8 vectors of a sample):

    PYTHONPATH=. HF_HUB_OFFLINE=1 .venv/bin/python -m bench.gpu_ingest prepare

On a CUDA machine with torch and sentence-transformers (the product's own encoder, qa/encoders):

    PYTHONPATH=.:bench/cache/gpu/pylib python -m bench.gpu_ingest run

``prepare`` stores the model's weights in float16 (45 MB instead of 91 MB, to fit what can be
carried to a lent GPU machine); they are loaded back into a float32 model, so the float32 figures
are those of the official weights rounded to float16 (cosine to the exact float32 model is
reported by ``prepare``).
"""
from __future__ import annotations

import argparse
import gzip
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "bench" / "cache" / "gpu"
SAMPLE = 2000
MILLION = 1_000_000


def prepare() -> int:
    import torch
    from safetensors.torch import load_file, save_file

    from bench.data import data_dir
    from qa.encoders.sbert import SentenceTransformerEncoder, default_model_path
    from qa.encoders import load_encoder
    from qa.ingest.readers import read_jsonl
    from qa.ingest.splitter import split_document

    source = default_model_path()  # sha256-checked official files
    model = CACHE / "model"
    if model.exists():
        shutil.rmtree(model)
    shutil.copytree(source, model, ignore=shutil.ignore_patterns("model.safetensors", "*.md",
                                                                  ".gitattributes"))
    weights = load_file(str(source / "model.safetensors"))
    save_file({k: v.to(torch.float16) for k, v in weights.items()},
              str(model / "model.safetensors"))
    with open(data_dir() / "bbc" / "articles.jsonl", "rb") as src, \
            gzip.open(CACHE / "articles.jsonl.gz", "wb") as out:
        shutil.copyfileobj(src, out)
    for old in ("articles.jsonl", "sentences.json"):
        (CACHE / old).unlink(missing_ok=True)
    docs = read_jsonl(data_dir() / "bbc" / "articles.jsonl")
    sentences = [d.text[s.start:s.end] for d in docs for s in split_document(d.text)[0]]
    rng = np.random.default_rng(0)
    sample = [sentences[i] for i in sorted(rng.choice(len(sentences), SAMPLE, replace=False))]
    int8 = load_encoder().encode(sample)
    np.savez_compressed(CACHE / "cpu_sample.npz", texts=np.array(sample, dtype=object),
                        int8=int8)
    exact = SentenceTransformerEncoder().encode(sample[:1000])
    rounded_enc = SentenceTransformerEncoder(str(model))
    rounded_enc.model.float()
    rounded = rounded_enc.encode(sample[:1000])
    cos = (exact * rounded).sum(axis=1)
    pylib = CACHE / "pylib"
    pylib.mkdir(exist_ok=True)
    import syntok

    target = pylib / "syntok"
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(Path(syntok.__file__).parent, target)
    size = sum(p.stat().st_size for p in CACHE.rglob("*") if p.is_file())
    print(f"{len(docs)} articles, {len(sentences)} sentences; float16-stored weights vs official "
          f"float32 (1,000 sentences, torch CPU): cosine min {cos.min():.5f} mean "
          f"{cos.mean():.5f}; {size / 2**20:.1f} MiB in {CACHE}")
    return 0


def _sync() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()


def _rate(encode, texts: list[str]) -> tuple[float, np.ndarray]:
    _sync()
    t = time.perf_counter()
    out = encode(texts)
    _sync()
    return len(texts) / (time.perf_counter() - t), out


def run(dry: bool = False) -> int:
    """``dry``: a few sentences on the CPU, to check the script before it uses a GPU's time."""
    global MILLION
    import torch

    from qa.encoders.sbert import SentenceTransformerEncoder
    from qa.ingest.splitter import split_document

    if not torch.cuda.is_available() and not dry:
        print("no CUDA GPU here: this benchmark needs one", file=sys.stderr)
        return 2
    device = "cpu" if dry else "cuda"
    results: dict = {"gpu": "none (dry run)" if dry else torch.cuda.get_device_name(0),
                     "torch": torch.__version__}
    docs = _articles()
    t = time.perf_counter()
    sentences = [d.text[s.start:s.end] for d in docs for s in split_document(d.text)[0]]
    results["split_bbc_s"] = round(time.perf_counter() - t, 1)
    if dry:
        sentences, MILLION = sentences[:600], 1500
    t = time.perf_counter()
    enc = SentenceTransformerEncoder(str(CACHE / "model"), device=device)
    enc.model.float()  # the weights are stored in float16; compute in float32
    results["load_s"] = round(time.perf_counter() - t, 2)
    enc.encode(sentences[:4096])  # warm up
    rate, _ = _rate(enc.encode, sentences)
    results["fp32_bbc_sentences"] = len(sentences)
    results["fp32_sentences_per_s"] = round(rate)
    million = (sentences * (MILLION // len(sentences) + 1))[:MILLION]
    t = time.perf_counter()
    _sync()
    vectors = enc.encode(million)
    _sync()
    results["fp32_million_s"] = round(time.perf_counter() - t, 1)
    del vectors
    sample = np.load(CACHE / "cpu_sample.npz", allow_pickle=True)
    texts, int8 = list(sample["texts"]), sample["int8"]
    if dry:
        texts, int8 = texts[:200], int8[:200]
    fp32 = enc.encode(texts)
    cos = (fp32 * int8).sum(axis=1)
    results["fp32_vs_cpu_int8_cosine"] = {"min": round(float(cos.min()), 4),
                                         "mean": round(float(cos.mean()), 4)}
    if dry:  # float16 matrix products are a GPU's
        results.update(_end_to_end(enc, dry))
        print(json.dumps(results, indent=1))
        return 0
    enc.model.half()
    enc.encode(sentences[:4096])
    rate16, _ = _rate(enc.encode, sentences * 5)
    results["fp16_sentences_per_s"] = round(rate16)
    fp16 = enc.encode(texts)
    cos = (fp16 * int8).sum(axis=1)
    results["fp16_vs_cpu_int8_cosine"] = {"min": round(float(cos.min()), 4),
                                         "mean": round(float(cos.mean()), 4)}
    enc.model.float()
    results.update(_end_to_end(enc))
    print(json.dumps(results, indent=1))
    return 0


def _end_to_end(enc, dry: bool = False) -> dict:
    """What a user runs: ``Index.build`` of all BBC articles with QA_DEVICE=cuda (reading,
    splitting and speakers on the CPU, embedding on the GPU)."""
    import os

    from qa import Index
    from qa.ingest.splitter import split_document

    import qa.encoders

    os.environ["QA_DEVICE"] = "auto" if dry else "cuda"
    qa.encoders.loaded[(str(CACHE / "model"), "torch", "cuda")] = enc  # the float32 one
    if dry:
        qa.encoders.loaded[str(CACHE / "model")] = enc
    docs = _articles()[:20 if dry else None]
    t = time.perf_counter()
    for d in docs:
        split_document(d.text)
    split_s = time.perf_counter() - t
    t = time.perf_counter()
    index = Index.build(docs, model=str(CACHE / "model"))
    build_s = time.perf_counter() - t
    return {"end_to_end_articles": len(docs), "end_to_end_sentences": len(index),
            "end_to_end_build_s": round(build_s, 1),
            "end_to_end_sentences_per_s": round(len(index) / build_s),
            "of_which_splitting_s": round(split_s, 1), "backend_recorded": index.backend}


def _articles():
    import tempfile

    from qa.ingest.readers import read_jsonl

    with tempfile.TemporaryDirectory() as tmp:
        plain = Path(tmp) / "articles.jsonl"
        with gzip.open(CACHE / "articles.jsonl.gz", "rb") as src, open(plain, "wb") as out:
            shutil.copyfileobj(src, out)
        return read_jsonl(plain)


def compare() -> int:
    """Plain sentence-transformers (batch 1,024) against the product's GPU encoder in a few
    settings, alternating, on the BBC sentences: which keeps the GPU busiest."""
    import qa.encoders.sbert as sbert
    from qa import tuning
    from qa.ingest.splitter import split_document

    docs = _articles()
    sentences = [d.text[s.start:s.end] for d in docs for s in split_document(d.text)[0]]
    enc = sbert.SentenceTransformerEncoder(str(CACHE / "model"), device="cuda")
    enc.model.float()
    plain = lambda texts: enc.model.encode(texts, batch_size=1024,  # noqa: E731
                                           convert_to_numpy=True, normalize_embeddings=True)
    settings = {"plain batch 1024": None, "1 thread, batch 1024, one call": (1, 1024, 10**9),
                "2 threads, batch 512, chunks 8192": (2, 512, 8192),
                "2 threads, batch 1024, chunks 16384": (2, 1024, 16384),
                "3 threads, batch 1024, chunks 8192": (3, 1024, 8192)}
    rates: dict = {k: [] for k in settings}
    plain(sentences[:4096])
    for _ in range(2):
        for name, setting in settings.items():
            if setting is None:
                rates[name].append(_rate(plain, sentences)[0])
                continue
            tuning.GPU_THREADS, tuning.GPU_BATCH, tuning.GPU_CHUNK = setting
            rates[name].append(_rate(enc.encode, sentences)[0])
    for name, r in rates.items():
        print(f"{name}: {' / '.join(f'{x:.0f}' for x in r)} sentences/s")
    return 0


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("step", choices=["prepare", "run", "compare"])
    p.add_argument("--dry", action="store_true", help="check the script on a few sentences, "
                   "on the CPU")
    args = p.parse_args()
    sys.exit(prepare() if args.step == "prepare" else compare() if args.step == "compare"
             else run(args.dry))
