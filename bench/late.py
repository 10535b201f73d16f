"""Experiment (not product code): re-rank the top N fused candidates by token-level late
interaction with the same model (ColBERT-style MaxSim: each question token's best cosine to a
candidate sentence token, averaged over the question's tokens without [CLS]/[SEP]), scored as
fused + w * MaxSim. Collects, per answerable dev question, the top 30 rows, their fused scores and
MaxSim, then sweeps (N, w) offline. Dev only (WikiQA-dev, BBC dev); reaches into Index/encoder
internals on purpose.

    PYTHONPATH=. HF_HUB_OFFLINE=1 /work/main/.venv/bin/python -m bench.late

Environment: LATE_N (candidates re-encoded in the timed step, default 30), LATE_VARIANT=all|content
(content: question stopwords/punctuation dropped from the mean), LATE_BACKEND=torch (token
embeddings from sentence-transformers fp32 instead of the int8 ONNX session).

Result (2026-11-27, branch rerank): no clear gain - at most one more question right at hit@1 on
each dev set, and +28-41 ms per question for N=5 (+53-69 ms for N=10, ~+160-190 ms for N=30).
Not shipped.
"""
from __future__ import annotations

import logging
import os
import statistics
import sys
import time

import numpy as np

from bench import data
from bench.cache import CachedEncoder
from bench.score import Tally, first_rank
from qa import rank

NMAX = 30
K = 10
LATE_N = int(os.environ.get("LATE_N", NMAX))  # candidates timed
VARIANT = os.environ.get("LATE_VARIANT", "all")  # all | content (question stopwords dropped)
STOP = set("what who whom whose which when where why how is are was were be been do does did the a an "
           "of in on at to for by with from and or as that this it its his her their there "
           "about into than then".split())


def content_tokens(enc, text):
    toks = enc._tokenizer.encode(text).tokens[1:-1]
    keep = np.array([t not in STOP and any(c.isalnum() for c in t) for t in toks])
    return keep if keep.any() else np.ones(len(toks), bool)


def token_vectors(enc, texts):
    """Per text: (tokens, dim) unit token embeddings, [CLS]/[SEP] dropped."""
    encodings = enc._tokenizer.encode_batch(list(texts))
    width = max(len(e.ids) for e in encodings)
    ids = np.zeros((len(texts), width), np.int64)
    mask = np.zeros((len(texts), width), np.int64)
    for r, e in enumerate(encodings):
        ids[r, :len(e.ids)] = e.ids
        mask[r, :len(e.ids)] = 1
    feed = {"input_ids": ids, "attention_mask": mask}
    if "token_type_ids" in enc._inputs:
        feed["token_type_ids"] = np.zeros_like(ids)
    hidden = enc._session.run(None, feed)[0]
    out = []
    for r, e in enumerate(encodings):
        t = hidden[r, 1:len(e.ids) - 1]
        out.append(t / np.maximum(np.linalg.norm(t, axis=1, keepdims=True), 1e-9))
    return out


_TORCH = []


def torch_token_vectors(texts):
    """The same, from sentence-transformers (torch, fp32) output_value="token_embeddings"."""
    if not _TORCH:
        from qa.encoders.sbert import SentenceTransformerEncoder
        _TORCH.append(SentenceTransformerEncoder().model)
    model = _TORCH[0]
    embs = model.encode(list(texts), output_value="token_embeddings", batch_size=64,
                        show_progress_bar=False)
    out = []
    for e in embs:
        t = e.cpu().numpy()[1:-1]  # padding already cut by sentence-transformers
        out.append(t / np.maximum(np.linalg.norm(t, axis=1, keepdims=True), 1e-9))
    return out


def maxsim(q_tok, cands):
    return np.array([float((q_tok @ c.T).max(axis=1).mean()) if len(c) else 0.0 for c in cands],
                    np.float32)


def collect(corpus, encoder):
    from qa.index import Index

    index = Index.build(corpus.documents, encoder=encoder)
    encoder.save()
    inner = encoder.inner
    ranker, _, _ = index._ranker()
    rows = []
    t_base, t_late = [], []
    for q in corpus.questions:
        if q.type == "none":
            continue
        t0 = time.perf_counter()
        query = inner.encode([q.text])[0]
        feats = ranker.features(q.text, query)
        scores = rank.focus_speaker(rank.fuse(feats), feats["speaker"], ranker.row_doc)
        best = rank.top_k(scores, 4 * K + 20)
        t1 = time.perf_counter()
        cand = best[:LATE_N]
        toks = token_vectors(inner, [q.text] + [ranker.texts[i] for i in cand])
        t2 = time.perf_counter()
        if os.environ.get("LATE_BACKEND") == "torch":
            toks = torch_token_vectors([q.text] + [ranker.texts[i] for i in best[:NMAX]])
        elif LATE_N != NMAX:
            toks = token_vectors(inner, [q.text] + [ranker.texts[i] for i in best[:NMAX]])
        keep = content_tokens(inner, q.text)
        ms = maxsim(toks[0], toks[1:]) if VARIANT == "all" else maxsim(toks[0][keep], toks[1:])
        t_base.append(t1 - t0)
        t_late.append(t2 - t1)
        rows.append((q, best, scores[best], ms))
    return ranker, rows, t_base, t_late


def score(ranker, rows, n, w):
    tally = Tally()
    for q, best, fused, ms in rows:
        order = best.copy()
        m = min(n, len(best))
        if w and m:
            new = fused[:m] + w * ms[:m]
            order[:m] = best[:m][np.argsort(-new, kind="stable")]
        chosen = rank.distinct(order, ranker.texts, max(K, len(q.gold)))
        tally.add(first_rank(q.gold, [ranker.texts[i] for i in chosen][:K]))
    return tally.summary()


def by_type(ranker, rows, n, w, qtype):
    return score(ranker, [r for r in rows if r[0].type == qtype], n, w)


def main():
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from qa.encoders import load_encoder

    encoder = CachedEncoder(load_encoder())
    sets = {}
    for name, corpus in (("wikiqa-dev", data.wikiqa("dev")), ("bbc-dev", data.bbc("dev"))):
        ranker, rows, tb, tl = collect(corpus, encoder)
        sets[name] = (ranker, rows)
        print(f"{name}: {len(rows)} answerable; base ranking p50 {1000*statistics.median(tb):.1f} ms, "
              f"late interaction (N={LATE_N}) p50 {1000*statistics.median(tl):.1f} ms", flush=True)
    for n in (5, 10, 20, 30):
        for w in (0.0, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 100.0):
            wq = score(*sets["wikiqa-dev"], n, w)
            ranker, rows = sets["bbc-dev"]
            parts = {t: by_type(ranker, rows, n, w, t) for t in ("fact", "quote", "context")}
            print(f"N={n:2d} w={w:5.2f} | wikiqa mrr {wq['mrr@10']:.3f} h1 {wq['hit@1']:.3f} "
                  f"h5 {wq['hit@5']:.3f} | bbc fact h1 {parts['fact']['hit@1']:.3f} "
                  f"h5 {parts['fact']['hit@5']:.3f} ctx h5 {parts['context']['hit@5']:.3f} "
                  f"quote h1 {parts['quote']['hit@1']:.3f} h5 {parts['quote']['hit@5']:.3f}",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
