"""ONNX Runtime encoder: the same sentence-transformers model, 3-4x the throughput of torch on
a CPU (BENCHMARKS.md).

The ONNX file is exported here, from the packaged and sha256-verified weights (never downloaded),
then its weights are quantized to int8 (``onnxruntime.quantization.quantize_dynamic``). The
export needs torch, the quantization the ``onnx`` package; both run once: the result is cached
in the user's cache folder under the sha256 of the source weights, so later processes load it
with onnxruntime and ``tokenizers`` alone, without importing torch. Pooling (mean over tokens)
and normalisation are done here in numpy.
"""
from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path
from typing import Sequence

import numpy as np

from .. import background, config
from ..errors import ModelError
from ..storage.files import sha256_file
from ..tuning import MAX_SEQ_LENGTH
from ..tuning import ONNX_BATCH as BATCH_SIZE
from . import DEFAULT_MODEL, normalise
from .export import cached_export, fused_int8, intact, torch_to_onnx

log = logging.getLogger(__name__)

EXPORT_VERSION = 3  # bump when the export recipe changes: old cache files are then not used
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")


class OnnxEncoder:
    """``encode(texts)`` with ONNX Runtime; ``quantize=True`` uses int8 weights, ``fused=True``
    (with ``quantize``) the fused graph with every matrix product int8 (export.fused_int8).

    Many sentences at once (an ingest) run as one batch per core at a time, each on one thread
    (a second session, made on first use): on two shared cores that outran one batch on two
    threads, which wait for each other at every operator. A few sentences (a question) run on
    the first session, of ``QA_QUESTION_THREADS`` threads. Background work (``qa.background``, an upload from the
    chat) runs every batch that way too, on worker threads of the lowest priority."""

    def __init__(self, name: str = DEFAULT_MODEL, *, quantize: bool = True, fused: bool = False):
        from .sbert import DEFAULT_ALIASES, OFFICIAL_SHA256, default_model_path

        self.name = DEFAULT_MODEL if name in DEFAULT_ALIASES else name
        fused = fused and quantize
        self.backend = "onnx-int8-fused" if fused else "onnx-int8" if quantize else "onnx"
        if self.name == DEFAULT_MODEL:
            source_hash = OFFICIAL_SHA256["model.safetensors"]
            # checked against the official sha256: the tokenizer here, the weights too before an
            # export; a cached ONNX file was made from verified weights and has its own sha256
            folder = default_model_path(("tokenizer.json",))
        else:
            folder = Path(name)
            source_hash = _weights_hash(folder)
        self.folder = folder
        self.max_length, pooling = _model_config(folder)
        if pooling != "mean":
            raise ModelError(f"model {name!r} pools by {pooling}; the ONNX backend does mean "
                             "pooling only: set QA_BACKEND=torch")
        variant = _variant(quantize, fused)
        cached = _target(source_hash, variant)
        if not intact(cached):
            if self.name == DEFAULT_MODEL:
                default_model_path()  # export only from weights verified in full
            cached = _cached_model(folder, source_hash, variant)
        self.model_file = cached
        self._tokenizer = _tokenizer(folder, self.max_length)
        self._session = session(self.model_file)
        self._inputs = {i.name for i in self._session.get_inputs()}
        self.dim = int(self._session.get_outputs()[0].shape[-1])
        self.workers = config.threads()
        self._one_thread = None  # a session of one thread, made for the first large encode
        self._pools: dict = {}  # background or not -> threads running one batch each
        self._pool_lock = threading.Lock()

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not len(texts):
            return out
        encodings = self._tokenizer.encode_batch(list(texts))
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))  # less padding
        batches = [order[lo:lo + BATCH_SIZE] for lo in range(0, len(order), BATCH_SIZE)]

        def run(sess, idx: list[int]) -> None:
            ids, mask, types = pad([encodings[i] for i in idx])
            feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
            hidden = sess.run(None, {k: v for k, v in feed.items() if k in self._inputs})[0]
            weights = mask[:, :, None].astype(np.float32)
            out[idx] = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)

        lowered = background.active()
        if not lowered and (len(batches) < 2 or self.workers < 2):
            for idx in batches:
                run(self._session, idx)
        else:  # ONNX Runtime releases the GIL: one batch per core at a time
            one_thread, pool = self._parallel(lowered)
            list(pool.map(lambda idx: run(one_thread, idx), batches))
        return normalise(out)

    def _parallel(self, lowered: bool):
        """(the one-thread session, the threads that run batches side by side: of the lowest
        priority for background work)."""
        with self._pool_lock:
            if self._one_thread is None:
                self._one_thread = session(self.model_file, threads=1)
            if lowered not in self._pools:
                from concurrent.futures import ThreadPoolExecutor

                self._pools[lowered] = (background.executor(self.workers) if lowered else
                                        ThreadPoolExecutor(self.workers,
                                                           thread_name_prefix="qa-encode"))
            return self._one_thread, self._pools[lowered]


def pad(encodings) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A batch of ``tokenizers`` encodings as (ids, attention mask, token types), padded to the
    longest of them."""
    width = max(len(e.ids) for e in encodings)
    ids = np.zeros((len(encodings), width), np.int64)
    mask = np.zeros_like(ids)
    types = np.zeros_like(ids)
    for row, e in enumerate(encodings):
        n = len(e.ids)
        ids[row, :n] = e.ids
        mask[row, :n] = 1
        types[row, :n] = e.type_ids
    return ids, mask, types


# ---- the model file ---------------------------------------------------------------------
def _variant(quantize: bool, fused: bool) -> str:
    return "int8-fused" if quantize and fused else "int8" if quantize else "fp32"


def _cached_model(folder: Path, source_hash: str, variant: str) -> Path:
    """Export (and quantize) the ONNX file for these weights; its path in the cache."""
    target = _target(source_hash, variant)
    log.info("exporting %s to ONNX (%s), once; cached at %s", folder, variant, target)
    if variant == "fp32":
        return cached_export(target, lambda out: _export(folder, out), False)
    if variant == "int8":
        return cached_export(target, lambda out: _export(folder, out), True,
                             fuse=lambda fp32, made: _quantize(fp32, made, folder))
    heads, hidden = _shape(folder)
    return cached_export(target, lambda out: _export(folder, out), True,
                         fuse=lambda fp32, made: fused_int8(fp32, made, heads, hidden))


def _quantize(fp32: Path, made: Path, folder: Path) -> None:
    """Every matrix product int8, the feed-forward output projections' few outlier input
    channels in float (``outliers``), found on the calibration text with this model's tokenizer."""
    from .outliers import calibration_sentences, feeds, quantize_with_outliers

    max_length, _ = _model_config(folder)
    encodings = _tokenizer(folder, max_length).encode_batch(calibration_sentences())
    chosen = quantize_with_outliers(fp32, made, feeds(encodings, BATCH_SIZE))
    log.info("int8 graph: %d outlier channels kept in float over %d projections",
             sum(map(len, chosen.values())), len(chosen))


def _target(source_hash: str, variant: str) -> Path:
    return config.cache_dir() / "onnx" / f"{source_hash[:32]}-v{EXPORT_VERSION}-{variant}.onnx"


def _shape(folder: Path) -> tuple[int, int]:
    """(attention heads, hidden size) of a BERT model folder, for fusing its graph."""
    try:
        cfg = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        return int(cfg["num_attention_heads"]), int(cfg["hidden_size"])
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ModelError(f"{folder}/config.json does not give the model's attention heads and "
                         f"hidden size ({e}); set QA_BACKEND=onnx-int8") from None


def _export(folder: Path, out: Path) -> None:
    """Export the transformer (token embeddings) to ONNX with torch; dynamic batch and length."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        import torch
        from transformers import AutoModel
    except ImportError as e:
        raise ModelError(f"exporting the model to ONNX needs torch and transformers ({e}); "
                         "install them, or set QA_BACKEND=torch") from None

    class TokenEmbeddings(torch.nn.Module):
        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.model(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # a one-off export needs no "Loading weights" bar
    try:
        model = AutoModel.from_pretrained(str(folder), attn_implementation="eager").eval()
    except (OSError, ValueError) as e:
        raise ModelError(f"cannot load {folder} for ONNX export ({e}); set QA_BACKEND=torch") from None
    torch_to_onnx(TokenEmbeddings(model), out, "token_embeddings", {0: "batch", 1: "tokens"})


def _weights_hash(folder: Path) -> str:
    for fname in WEIGHT_FILES:
        if (folder / fname).is_file():
            return sha256_file(folder / fname)
    raise ModelError(f"{folder} holds no {' or '.join(WEIGHT_FILES)}; the ONNX backend needs a "
                     "local sentence-transformers model folder, or set QA_BACKEND=torch")


def _model_config(folder: Path) -> tuple[int, str]:
    """(max sequence length, pooling) from the sentence-transformers config files."""
    try:
        st = json.loads((folder / "sentence_bert_config.json").read_text(encoding="utf-8"))
        pool = json.loads((folder / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ModelError(f"{folder} is not a sentence-transformers model folder ({e}); "
                         "set QA_BACKEND=torch") from None
    pooling = "mean" if pool.get("pooling_mode_mean_tokens") else \
        "cls" if pool.get("pooling_mode_cls_token") else "other"
    return min(int(st.get("max_seq_length") or MAX_SEQ_LENGTH), MAX_SEQ_LENGTH), pooling


def _tokenizer(folder: Path, max_length: int):
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tok.enable_truncation(max_length=max_length)
    tok.no_padding()  # batches are padded here, to their own longest sentence
    return tok


def session(model_file: Path, threads: int | None = None):
    """An ONNX Runtime session of ``threads`` threads (default: a question's,
    ``QA_QUESTION_THREADS``)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or config.question_threads()
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # warnings about unused initialisers are noise to users
    # No busy-waiting between operators: on a shared or busy CPU spinning threads steal the
    # cores the work needs (measured: single-question p50 11 ms with spinning, 4 ms without).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(model_file), options, providers=["CPUExecutionProvider"])
