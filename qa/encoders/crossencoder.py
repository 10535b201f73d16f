"""The cross-encoder that re-ranks the best candidates: the question and a sentence read together.

The sentence embeddings find the right article well, but inside it the answer often loses to a
sentence that merely shares the question's topic. A cross-encoder sees the question's words and
the sentence's words attend to each other, which tells "X was born in 1950" from "X is a singer"
for "when was X born?".

The shipped model is built from all-MiniLM-L6-v2 itself (the packaged, sha256-verified weights):
its word-piece embeddings and first ``KEPT_LAYERS`` layers, those layers and a linear head over
the mean of its token states trained here on WikiQA-train and TREC train + dev
(bench/train_rerank.py) and on the dev questions (WikiQA-dev, BBC dev + dev2, small.jsonl) with
the candidates the product itself ranks for each, the answer against the sentences ranked above
it (bench/rerank_folds.py; judged out of fold, BENCHMARKS.md). Only the trained weights ship, in ``qa/models/`` with their sha256 (10
MB in float16); they are applied to the verified model, exported to ONNX and quantized to int8
once, and cached like the encoder (qa/encoders/export.py). Questions then run on onnxruntime
without torch. Three layers instead of six halve the cost of a question for about 0.01 of
within-candidates MRR on WikiQA-dev (BENCHMARKS.md).

The shipped model is also a standard artifact: ``save_folder`` writes it as a
sentence-transformers ``CrossEncoder`` folder (Transformer, mean Pooling, a Dense head giving
the score), which ``CrossEncoder(folder)`` loads anywhere with the same scores. The product keeps
running it on its own int8 ONNX path, which is what was measured (BENCHMARKS.md).

``QA_RERANKER`` names another cross-encoder instead: any sentence-transformers ``CrossEncoder``
folder (an ms-marco or bge re-ranker, or the shipped one saved as above), run with
sentence-transformers (``StCrossEncoder``).
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Sequence

import numpy as np

from .. import config
from ..errors import ModelError
from ..storage.files import sha256_file
from ..tuning import RERANK_MAX_LENGTH
from .export import cached_export, intact, torch_to_onnx
from .onnx import pad, session

log = logging.getLogger(__name__)

WEIGHTS = Path(__file__).resolve().parent.parent / "models" / "rerank-minilm-l6.safetensors"
WEIGHTS_SHA256 = "534b47af333ac933599a7c17d02fcfce43fc7b8f5e3c1a4a68d67e303366892f"
KEPT_LAYERS = 3  # of all-MiniLM-L6-v2's six layers, the first this many read the pair (half the cost of six)
TRAINED_LAYERS = 3  # the top layers of those that are trained; the rest are the official ones
MAX_LENGTH = RERANK_MAX_LENGTH  # question + sentence, in word pieces
EXPORT_VERSION = 2  # 2: int8 but for the feed-forward outputs' outlier channels (outliers.py)
SCORE_CHUNK = 10  # pairs a batched run takes, by length (BENCHMARKS.md "Load": 30 ms a question
#                   for 8 questions' pairs sorted into 10s, 41 ms each question alone)


# ---- the shipped model in torch: what is trained (bench/train_rerank.py) and exported -----
def build_torch_model(trained: Path | None = None, layers: int = TRAINED_LAYERS,
                      keep: int = KEPT_LAYERS):
    """The cross-encoder in torch: the first ``keep`` layers of the verified all-MiniLM-L6-v2,
    all but the top ``layers`` of them frozen, plus a head. With ``trained`` weights (from
    ``save_trained``) it is that trained model, as many layers as they were trained with."""
    import torch
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    from .sbert import default_model_path

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


# ---- tokens ------------------------------------------------------------------------------
_TOKENIZER = None


def tokenizer():
    """The model's own tokenizer (verified), truncating a pair to ``MAX_LENGTH`` pieces."""
    global _TOKENIZER
    if _TOKENIZER is None:
        from tokenizers import Tokenizer

        from .sbert import default_model_path

        tok = Tokenizer.from_file(str(default_model_path(("tokenizer.json",)) / "tokenizer.json"))
        tok.enable_truncation(max_length=MAX_LENGTH, strategy="longest_first")
        tok.no_padding()
        _TOKENIZER = tok
    return _TOKENIZER


# ---- the model at question time -----------------------------------------------------------
class Reranker:
    """``scores(question, sentences)``: the cross-encoder's logit for each pair (higher = the
    sentence answers the question more likely)."""

    def __init__(self, weights: Path = WEIGHTS, expected_sha256: str = WEIGHTS_SHA256):
        if not weights.is_file():
            raise ModelError(f"the re-ranker weights {weights} are missing; reinstall newsroom-qa "
                             "or set QA_RERANK=0 to answer without re-ranking")
        digest = sha256_file(weights)
        if expected_sha256 and digest != expected_sha256:
            raise ModelError(f"{weights} has sha256 {digest[:12]}…, not the {expected_sha256[:12]}… "
                             "it shipped with; reinstall newsroom-qa or set QA_RERANK=0")
        target = config.cache_dir() / "onnx" / f"rerank-{digest[:32]}-v{EXPORT_VERSION}-int8.onnx"
        if not intact(target):
            log.info("exporting the re-ranker to ONNX (int8), once; cached at %s", target)
            target = cached_export(target, lambda out: _export(weights, out), quantize=True,
                                   fuse=_quantize)
        self.model_file = target
        self._session = session(target)
        self._inputs = {i.name for i in self._session.get_inputs()}

    def scores(self, question: str, sentences: Sequence[str]) -> np.ndarray:
        if not len(sentences):
            return np.zeros(0, np.float32)
        return self._logits(tokenizer().encode_batch([(question, s) for s in sentences]))

    def _logits(self, encodings) -> np.ndarray:
        """The model's logits for tokenised pairs, one run padded to the longest."""
        ids, mask, types = pad(encodings)
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        return self._session.run(None, {k: v for k, v in feed.items() if k in self._inputs})[0]

    def scores_many(self, calls: Sequence[tuple[str, Sequence[str]]],
                    chunk: int = SCORE_CHUNK) -> list[np.ndarray]:
        """``scores`` of several questions' pairs (the chat's questions asked together:
        qa/app/batching.py): all pairs tokenised at once and run by similar lengths, ``chunk``
        to a run, so that a short pair is not padded to a long one's length."""
        if not calls:
            return []
        pairs = [(q, s) for q, sentences in calls for s in sentences]
        out = np.zeros(len(pairs), np.float32)
        encodings = tokenizer().encode_batch(pairs) if pairs else []
        order = sorted(range(len(pairs)), key=lambda i: len(encodings[i].ids))
        for lo in range(0, len(order), chunk):
            idx = order[lo:lo + chunk]
            out[idx] = self._logits([encodings[i] for i in idx]).reshape(-1)
        return np.split(out, np.cumsum([len(sentences) for _, sentences in calls])[:-1])


def _export(weights: Path, out: Path) -> None:
    torch_to_onnx(build_torch_model(weights), out, "score", {0: "batch"})


def _quantize(fp32: Path, made: Path) -> None:
    """Every matrix product int8, the feed-forward output projections' few outlier input
    channels in float (``outliers``; the same channels as the sentence encoder's first layers),
    found on pairs of the calibration text's sentences."""
    from .outliers import calibration_sentences, feeds, quantize_with_outliers

    text = calibration_sentences()
    encodings = tokenizer().encode_batch([(a, b) for a, b in zip(text, text[1:] + text[:1])])
    quantize_with_outliers(fp32, made, feeds(encodings, SCORE_CHUNK))


def save_folder(out: Path, weights: Path = WEIGHTS) -> Path:
    """Write the shipped cross-encoder (the verified all-MiniLM-L6-v2 with ``weights`` applied)
    as a sentence-transformers ``CrossEncoder`` folder at ``out``; ``out``."""
    import shutil

    import torch
    from sentence_transformers import CrossEncoder
    from sentence_transformers.base.modules import Dense, Transformer
    from sentence_transformers.sentence_transformer.modules import Pooling

    from .sbert import default_model_path

    digest = sha256_file(weights)
    if weights == WEIGHTS and digest != WEIGHTS_SHA256:
        raise ModelError(f"{weights} has sha256 {digest[:12]}…, not the {WEIGHTS_SHA256[:12]}… it "
                         "shipped with; reinstall newsroom-qa")
    model = build_torch_model(weights)
    out = Path(out)
    staging = out / "_transformer"
    model.bert.save_pretrained(staging)
    tokens = default_model_path(("tokenizer.json",))
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        if (tokens / name).is_file():
            shutil.copy(tokens / name, staging / name)
    transformer = Transformer(str(staging), max_seq_length=MAX_LENGTH)
    dim = model.bert.config.hidden_size
    head = Dense(dim, 1, activation_function=torch.nn.Identity(), module_output_name="scores")
    with torch.no_grad():
        head.linear.weight.copy_(model.head.weight)
        head.linear.bias.copy_(model.head.bias)
    CrossEncoder(modules=[transformer, Pooling(dim, "mean"), head], device="cpu").save(str(out))
    shutil.rmtree(staging)
    return out


class StCrossEncoder:
    """Any sentence-transformers ``CrossEncoder`` folder (``QA_RERANKER``), with the same
    ``scores``: one logit a pair."""

    def __init__(self, name: str):
        try:
            from sentence_transformers import CrossEncoder
        except ImportError as e:
            raise ModelError(f"QA_RERANKER={name} needs sentence-transformers ({e}); install "
                             "it, or unset QA_RERANKER") from None
        try:
            self.model = CrossEncoder(name, max_length=MAX_LENGTH, device="cpu")
        except (OSError, ValueError) as e:
            raise ModelError(f"QA_RERANKER={name} is not a cross-encoder that can be loaded "
                             f"offline ({e}); name a CrossEncoder folder, or unset QA_RERANKER"
                             ) from None
        if self.model.num_labels != 1:
            raise ModelError(f"QA_RERANKER={name} gives {self.model.num_labels} scores a pair, "
                             "not one relevance score; name a re-ranker, or unset QA_RERANKER")

    def scores(self, question: str, sentences: Sequence[str]) -> np.ndarray:
        if not len(sentences):
            return np.zeros(0, np.float32)
        import torch

        out = self.model.predict([(question, s) for s in sentences],
                                 activation_fn=torch.nn.Identity(), convert_to_numpy=True)
        return np.asarray(out, np.float32).reshape(-1)


def load_model():
    """The configured cross-encoder: ``QA_RERANKER``, else the shipped one."""
    name = config.reranker()
    return StCrossEncoder(name) if name else Reranker()
