"""The benchmarks' one embedding cache, bench/cache/ (gitignored), so reruns do not re-embed the
corpora: ``CachedEncoder`` keeps every vector it computes, keyed by model and text hash;
``embed_cached`` keeps a whole corpus's vectors in one file, keyed by a hash of its texts."""
from __future__ import annotations

import hashlib
import logging
import time
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)
CACHE_DIR = Path(__file__).resolve().parent / "cache"


class CachedEncoder:
    """Same ``name``/``dim``/``encode`` as the wrapped encoder; vectors come from the cache when
    the (model, text) pair was seen before. ``save()`` writes new vectors."""

    def __init__(self, inner, folder: Path = CACHE_DIR):
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        # Backends of one model differ slightly (int8): each keeps its own vectors.
        backend = getattr(inner, "backend", "torch")
        self.backend = backend
        # ... and so does each ONNX export recipe (its file name carries the recipe's version)
        self.graph = Path(getattr(inner, "model_file", "")).stem
        tag = f"{self.name}-{backend}" + (f"-{self.graph}" if self.graph else "")
        slug = "".join(c if c.isalnum() or c in "-_." else "_" for c in tag)
        self.path = Path(folder) / f"{slug}.npz"
        self._index: dict[bytes, int] = {}
        self._vectors: list[np.ndarray] = []
        self._new = 0
        if self.path.is_file():
            data = np.load(self.path)
            keys, vecs = data["keys"], data["vectors"]
            self._index = {k.tobytes(): i for i, k in enumerate(keys)}
            self._vectors = [vecs]
        self._flat: np.ndarray | None = None

    def _key(self, text: str) -> bytes:
        key = self.name + "\x00" + self.backend + "\x00" + self.graph + text
        return hashlib.sha1(key.encode("utf-8", "surrogatepass")).digest()

    def _all(self) -> np.ndarray:
        if self._flat is None:
            self._flat = np.concatenate(self._vectors) if self._vectors else \
                np.zeros((0, self.dim), np.float32)
            self._vectors = [self._flat]
        return self._flat

    def encode(self, texts, *, progress: bool = False) -> np.ndarray:
        keys = [self._key(t) for t in texts]
        missing = sorted({k: t for k, t in zip(keys, texts) if k not in self._index}.items())
        if missing:
            new = self.inner.encode([t for _, t in missing], progress=progress)
            base = sum(len(v) for v in self._vectors)  # rows so far (keys may repeat rows)
            for j, (k, _) in enumerate(missing):
                self._index[k] = base + j
            self._vectors.append(np.asarray(new, np.float32))
            self._flat = None
            self._new += len(missing)
        table = self._all()
        return table[[self._index[k] for k in keys]]

    def save(self) -> None:
        if not self._new:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # (n, 20) bytes: numpy "S" strings would drop a digest's trailing zero bytes
        keys = np.frombuffer(b"".join(sorted(self._index, key=self._index.get)),
                             np.uint8).reshape(-1, 20)
        tmp = self.path.with_suffix(".tmp.npz")
        np.savez(tmp, keys=keys, vectors=self._all())
        tmp.replace(self.path)
        log.info("cached %d new vectors in %s", self._new, self.path)
        self._new = 0


def embed_cached(encoder, texts: list[str], label: str) -> np.ndarray:
    """``encoder.encode(texts)``, from bench/cache/ when these texts were embedded before."""
    model_file = Path(getattr(encoder, "model_file", "")).name  # the export recipe's version
    h = hashlib.sha256(f"{encoder.name}|{encoder.backend}|{model_file}".encode())
    for t in texts:
        h.update(t.encode("utf-8", "surrogatepass") + b"\x00")
    f = CACHE_DIR / f"{label}-{encoder.backend}-{h.hexdigest()[:16]}.npy"
    if f.is_file():
        return np.load(f)
    t0 = time.perf_counter()
    vectors = np.zeros((len(texts), encoder.dim), np.float32)
    step = 2048
    for lo in range(0, len(texts), step):
        vectors[lo:lo + step] = encoder.encode(texts[lo:lo + step])
        log.info("%s: %d/%d embedded (%.0f s)", label, min(lo + step, len(texts)), len(texts),
                 time.perf_counter() - t0)
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    np.save(f, vectors)
    return vectors
