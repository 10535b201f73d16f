"""The sentence encoder's ONNX graphs side by side, encoder alone (issue 17).

For each graph: sentences per CPU-second of a one-thread session (batches of 32 sorted by length,
as an ingest runs them; CPU seconds of the calling process, so a busy machine counts less than in
wall time), two rounds alternating; cosine to plain sentence-transformers (torch) over the same
BBC sentences and over WikiQA-dev's; WikiQA-dev MRR@10 with exact search, questions encoded one
at a time (issue 17: within 0.01 of torch).

    PYTHONPATH=. HF_HUB_OFFLINE=1 .venv/bin/python -m bench.encoder_graphs [--sentences 2400]

Graphs: ``default`` (QA_BACKEND=onnx-int8: every product int8 but the outlier channels,
qa/encoders/outliers.py), ``ffn-float`` (the default before session 15: the feed-forward output
projections wholly in float), ``fused`` (QA_BACKEND=onnx-int8-fused).
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np

from bench import data


def graphs() -> dict:
    from bench.ingest_ratio import float_ffn_encoder
    from qa.encoders import load_encoder

    return {"default": load_encoder(backend="onnx-int8").model_file,
            "ffn-float": float_ffn_encoder().model_file,
            "fused": load_encoder(backend="onnx-int8-fused").model_file}


def embed(model_file, encodings, threads: int = 1) -> tuple[np.ndarray, float]:
    """(normalised vectors, CPU seconds) of one-thread runs over sorted batches of 32."""
    from qa.encoders.onnx import pad, session

    sess = session(model_file, threads=threads)
    order = sorted(range(len(encodings)), key=lambda i: len(encodings[i].ids))
    out = np.zeros((len(encodings), 384), np.float32)
    t0 = time.process_time()
    for lo in range(0, len(order), 32):
        idx = order[lo:lo + 32]
        ids, mask, types = pad([encodings[i] for i in idx])
        hidden = sess.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types})[0]
        weights = mask[:, :, None].astype(np.float32)
        out[idx] = (hidden * weights).sum(1) / weights.sum(1)
    spent = time.process_time() - t0
    return out / np.linalg.norm(out, axis=1, keepdims=True), spent


def mrr(sentences: np.ndarray, questions: np.ndarray, gold: list[set[int]]) -> float:
    total = 0.0
    for q, g in zip(questions, gold):
        for rank, i in enumerate(np.argsort(-(sentences @ q))[:10]):
            if i in g:
                total += 1 / (rank + 1)
                break
    return total / len(gold)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sentences", type=int, default=2400)
    p.add_argument("--rounds", type=int, default=2)
    args = p.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    from qa.encoders.onnx import _tokenizer
    from qa.encoders.sbert import default_model_path

    folder = default_model_path()
    tok = _tokenizer(folder, 256)
    plain = SentenceTransformer(str(folder), device="cpu")
    bbc = data.bbc_sentences().texts[:args.sentences]
    wiki = data.wikiqa_sentences("dev")
    files = graphs()
    bbc_enc, wiki_enc = tok.encode_batch(bbc), tok.encode_batch(wiki.sentences)
    ref_bbc = plain.encode(bbc, batch_size=64, normalize_embeddings=True)
    ref_wiki = plain.encode(wiki.sentences, batch_size=64, normalize_embeddings=True)
    ref_q = np.stack([plain.encode([q], normalize_embeddings=True)[0] for q in wiki.questions])
    print(f"torch: WikiQA-dev MRR@10 {mrr(ref_wiki, ref_q, wiki.gold):.4f}")
    rates: dict[str, list[float]] = {g: [] for g in files}
    vectors = {}
    for r in range(args.rounds):
        for g in (list(files) if r % 2 == 0 else list(files)[::-1]):
            vectors[g], cpu = embed(files[g], bbc_enc)
            rates[g].append(len(bbc) / cpu)
    for g, f in files.items():
        cos_bbc = (vectors[g] * ref_bbc).sum(1)
        wiki_v, _ = embed(f, wiki_enc, threads=2)
        q = np.concatenate([embed(f, [e], threads=2)[0] for e in tok.encode_batch(wiki.questions)])
        cos_wiki = (wiki_v * ref_wiki).sum(1)
        print(f"{g:10s} {' / '.join(f'{x:.0f}' for x in rates[g])} sentences a CPU-second "
              f"(x{np.mean(rates[g]) / np.mean(rates['ffn-float']):.2f} ffn-float); cosine to torch "
              f"BBC min {cos_bbc.min():.4f} mean {cos_bbc.mean():.4f}, WikiQA-dev min "
              f"{cos_wiki.min():.4f} mean {cos_wiki.mean():.4f}; WikiQA-dev MRR@10 "
              f"{mrr(wiki_v, q, wiki.gold):.4f}  [load {os.getloadavg()[0]:.2f}]", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
