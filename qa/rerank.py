"""Re-ranking the best candidates with a cross-encoder: the question and a sentence read together.

The sentence embeddings find the right article well, but inside it the answer often loses to a
sentence that merely shares the question's topic. A cross-encoder sees the question's words and
the sentence's words attend to each other, which tells "X was born in 1950" from "X is a singer"
for "when was X born?".

The model is built from all-MiniLM-L6-v2 itself (the packaged, sha256-verified weights): its
word-piece embeddings and first ``KEPT_LAYERS`` layers, those layers and a linear head trained
here on WikiQA-train and TREC train + dev (bench/train_rerank.py). Only the trained weights ship, in
``qa/models/`` with their sha256 (10 MB in float16); they are applied to the verified model,
exported to ONNX and quantized to int8 once, and cached like the encoder (qa/encoders/onnx.py).
Questions then run on onnxruntime without torch. Three layers instead of six halve the cost of a
question for about 0.01 of within-candidates MRR on WikiQA-dev (BENCHMARKS.md).
"""
from __future__ import annotations

import logging
import os
import threading
from dataclasses import replace
from pathlib import Path
from typing import Sequence

import numpy as np

from .encoders.onnx import pad
from .errors import ModelError
from .hashing import sha256_file

log = logging.getLogger(__name__)

WEIGHTS = Path(__file__).resolve().parent / "models" / "rerank-minilm-l6.safetensors"
WEIGHTS_SHA256 = "2861b7388a88b719480a0f9b17e3ce6cad21013ec91a4f51b693327bfa8959dc"
KEPT_LAYERS = 3  # of all-MiniLM-L6-v2's six layers, the first this many read the pair (half the cost of six)
TRAINED_LAYERS = 3  # the top layers of those that are trained; the rest are the official ones
MAX_LENGTH = 128  # question + sentence, in word pieces
EXPORT_VERSION = 1


# ---- the model in torch: training and export --------------------------------------------
def build_torch_model(trained: Path | None = None, layers: int = TRAINED_LAYERS,
                      keep: int = KEPT_LAYERS):
    """The cross-encoder in torch: the first ``keep`` layers of the verified all-MiniLM-L6-v2,
    all but the top ``layers`` of them frozen, plus a head. With ``trained`` weights (from
    ``save_trained``) it is that trained model, as many layers as they were trained with."""
    import torch
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    from .encoders.sbert import default_model_path

    if trained is not None:
        keep = _kept_layers(trained)
    hf_logging.disable_progress_bar()
    level = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # loading 3 of 6 layers is meant: no "unused weights" table
    try:
        bert = AutoModel.from_pretrained(str(default_model_path()), attn_implementation="eager",
                                         num_hidden_layers=keep)
    finally:
        hf_logging.set_verbosity(level)

    class CrossEncoder(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.bert = bert
            self.head = torch.nn.Linear(bert.config.hidden_size, 1)

        def forward(self, input_ids, attention_mask, token_type_ids):
            hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask,
                               token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return self.head(pooled).squeeze(-1)

    model = CrossEncoder()
    first_trained = max(0, bert.config.num_hidden_layers - layers)
    for name, p in model.named_parameters():
        p.requires_grad = _is_trained(name, first_trained)
    if trained is not None:
        from safetensors.torch import load_file

        state = {k: v.float() for k, v in load_file(str(trained)).items()}
        known = dict(model.named_parameters())
        unknown = [n for n in state if n not in known or known[n].shape != state[n].shape]
        if unknown or "head.weight" not in state:
            raise ModelError(f"{trained} does not fit all-MiniLM-L6-v2 ({(unknown or ['no head'])[0]}"
                             "); retrain it with bench/train_rerank.py")
        model.load_state_dict(state, strict=False)
    return model.eval()


def _kept_layers(trained: Path) -> int:
    from safetensors import safe_open

    try:
        with safe_open(str(trained), framework="pt") as fh:
            return int((fh.metadata() or {}).get("layers", 6))
    except (OSError, ValueError) as e:
        raise ModelError(f"cannot read the re-ranker weights {trained} ({e}); reinstall "
                         "newsroom-qa or set QA_RERANK=0") from None


def _is_trained(name: str, first_trained: int) -> bool:
    if name.startswith("head."):
        return True
    layer = name.split("encoder.layer.")
    return len(layer) == 2 and int(layer[1].split(".")[0]) >= first_trained


def trained_parameters(model) -> list:
    return [(n, p) for n, p in model.named_parameters() if p.requires_grad]


def save_trained(model, path: Path) -> None:
    """The trained weights only, in float16 (the rest is the official model)."""
    from safetensors.torch import save_file

    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({n: p.detach().half().contiguous() for n, p in trained_parameters(model)}, str(path),
              metadata={"layers": str(model.bert.config.num_hidden_layers)})


def _torch_batch(pairs: Sequence[tuple[str, str]]):
    import torch

    ids, mask, types = pad(tokenizer().encode_batch(list(pairs)))
    return torch.from_numpy(ids), torch.from_numpy(mask), torch.from_numpy(types)


def loss(model, groups):
    """Binary cross-entropy over every (question, sentence) pair, plus a softmax over each
    question's candidates that hold an answer, so the answer is ranked first."""
    import torch

    pairs = [(q, s) for q, cands in groups for s, _ in cands]
    labels = torch.tensor([float(l) for _, cands in groups for _, l in cands])
    logits = model(*_torch_batch(pairs))
    total = torch.nn.functional.binary_cross_entropy_with_logits(logits, labels)
    lo, listwise, n = 0, 0.0, 0
    for _, cands in groups:
        hi = lo + len(cands)
        if labels[lo:hi].sum() > 0 and hi - lo > 1:
            target = labels[lo:hi] / labels[lo:hi].sum()
            listwise = listwise - (target * torch.log_softmax(logits[lo:hi], 0)).sum()
            n += 1
        lo = hi
    return total + (listwise / n if n else 0.0)


def score_pairs_torch(model, question: str, sentences: Sequence[str]) -> np.ndarray:
    import torch

    with torch.no_grad():
        return model(*_torch_batch([(question, s) for s in sentences])).numpy()


# ---- tokens ------------------------------------------------------------------------------
_TOKENIZER = None


def tokenizer():
    """The model's own tokenizer (verified), truncating a pair to ``MAX_LENGTH`` pieces."""
    global _TOKENIZER
    if _TOKENIZER is None:
        from tokenizers import Tokenizer

        from .encoders.sbert import default_model_path

        tok = Tokenizer.from_file(str(default_model_path(("tokenizer.json",)) / "tokenizer.json"))
        tok.enable_truncation(max_length=MAX_LENGTH, strategy="longest_first")
        tok.no_padding()
        _TOKENIZER = tok
    return _TOKENIZER


# ---- the model at question time: onnxruntime -----------------------------------------------
class Reranker:
    """``scores(question, sentences)``: the cross-encoder's logit for each pair (higher = the
    sentence answers the question more likely)."""

    def __init__(self, weights: Path = WEIGHTS, expected_sha256: str = WEIGHTS_SHA256):
        from .encoders.onnx import cache_dir, cached_export, intact, session

        if not weights.is_file():
            raise ModelError(f"the re-ranker weights {weights} are missing; reinstall newsroom-qa "
                             "or set QA_RERANK=0 to answer without re-ranking")
        digest = sha256_file(weights)
        if expected_sha256 and digest != expected_sha256:
            raise ModelError(f"{weights} has sha256 {digest[:12]}…, not the {expected_sha256[:12]}… "
                             "it shipped with; reinstall newsroom-qa or set QA_RERANK=0")
        target = cache_dir() / "onnx" / f"rerank-{digest[:32]}-v{EXPORT_VERSION}-int8.onnx"
        if not intact(target):
            log.info("exporting the re-ranker to ONNX (int8), once; cached at %s", target)
            target = cached_export(target, lambda out: _export(weights, out), quantize=True)
        self._session = session(target)
        self._inputs = {i.name for i in self._session.get_inputs()}

    def scores(self, question: str, sentences: Sequence[str]) -> np.ndarray:
        if not len(sentences):
            return np.zeros(0, np.float32)
        ids, mask, types = pad(tokenizer().encode_batch([(question, s) for s in sentences]))
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        return self._session.run(None, {k: v for k, v in feed.items() if k in self._inputs})[0]


def _export(weights: Path, out: Path) -> None:
    import warnings

    import torch

    model = build_torch_model(weights)
    sample = torch.ones(2, 8, dtype=torch.long)
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {n: {0: "batch", 1: "tokens"} for n in names}
    axes["score"] = {0: "batch"}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings about python control flow: shapes only
        torch.onnx.export(model, (sample, sample, torch.zeros_like(sample)), str(out),
                          input_names=names, output_names=["score"], dynamic_axes=axes,
                          opset_version=17, dynamo=False)


# ---- combining with the ranker -------------------------------------------------------------
DEPTH = 10  # the ranker's best candidates that the cross-encoder re-orders
WEIGHT = 0.2  # of the cross-encoder's probability, against the ranker's score (both 0 to 1)

_LOADED: Reranker | None = None
_LOAD_LOCK = threading.Lock()


# Indexes up to this many sentences are re-ranked unless QA_RERANK=0; larger ones only with
# QA_RERANK=1. At a million sentences a question costs 11-17 ms without the cross-encoder and
# 35 ms with it (p99 62 ms, and 90 MB more memory: BENCHMARKS.md), past the budget set for that
# scale (p50 15 ms, p99 50 ms, 1 GB).
RERANK_MAX = 150_000


def mode() -> str:
    """``QA_RERANK``: ``off`` (0/false/off/no), ``on`` (1/true/on/yes: at any size), else
    ``auto`` (up to ``RERANK_MAX`` sentences)."""
    value = os.environ.get("QA_RERANK", "").strip().lower()
    if value in {"0", "false", "off", "no"}:
        return "off"
    if value in {"1", "true", "on", "yes"}:
        return "on"
    return "auto"


def enabled(sentences: int = 0) -> bool:
    """Whether an index of ``sentences`` sentences is re-ranked."""
    setting = mode()
    return setting == "on" or (setting == "auto" and sentences <= RERANK_MAX)


def load() -> Reranker:
    """The shared re-ranker, loaded once a process."""
    global _LOADED
    with _LOAD_LOCK:
        if _LOADED is None:
            _LOADED = Reranker()
        return _LOADED


def wanted(question: str, ranked: list) -> bool:
    """Whether to re-rank: not when the question asks what a named person said and the ranker's
    best candidate is that person's statement. The cross-encoder was trained on factoid
    questions and does not know who is speaking ("the diplomat added" is Galuzin to the ranker,
    no one to it): on "What did Galuzin say about NATO?" it pushed his NATO statement below
    three others of his."""
    from .speakers import asked_about, matches

    names = asked_about(question)
    return not (names and ranked and matches(ranked[0].speaker, names))


def rerank(model: Reranker, question: str, ranked: list, texts: Sequence[str]) -> list:
    """The ranker's candidates (``Ranked``, best first) re-ordered by the ranker's score plus
    ``WEIGHT`` times the cross-encoder's probability; reported scores stay between 0 and 1."""
    if not ranked:
        return ranked
    head = ranked[:DEPTH]
    prob = 1.0 / (1.0 + np.exp(-model.scores(question, [texts[r.row] for r in head])))
    scored = [replace(r, score=(r.score + WEIGHT * float(p)) / (1.0 + WEIGHT))
              for r, p in zip(head, prob)]
    scored.sort(key=lambda r: -r.score)
    return scored + [replace(r, score=r.score / (1.0 + WEIGHT)) for r in ranked[DEPTH:]]
