"""A deterministic fake encoder: a hashed bag of words, so sentences sharing words score high."""
from __future__ import annotations

import hashlib
import re

import numpy as np

from qa.encoders import normalise


class FakeEncoder:
    def __init__(self, dim: int = 256, name: str = "fake-bag-of-words"):
        self.dim = dim
        self.name = name
        self.calls = 0
        self.encoded = 0  # sentences encoded so far: tests check what is not re-embedded

    def encode(self, texts, *, progress: bool = False) -> np.ndarray:
        self.calls += 1
        self.encoded += len(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")
                out[i, h % self.dim] += 1.0 if (h >> 32) & 1 else -1.0
            if not out[i].any():
                out[i, 0] = 1.0
        return normalise(out)
