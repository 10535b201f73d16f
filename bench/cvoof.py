"""Out-of-fold cross-encoder probabilities for bench/cv.py's replay, for any candidate a ranking
change brings into the re-ranked head.

The shipped cross-encoder was trained on the dev questions' candidates (bench/rerank_folds.py),
so its probabilities flatter every dev question, and most of all a gold sentence: that is why
bench.cv's plain replay is in-fold. ``rerank_folds train`` left, for each question, the
probabilities of the fold model that never saw it, but only for the question's best ``DEPTH``
candidates under the shipped weights. A new feature moves other candidates into the head; for
those this class falls back to the ``base`` variant (the same recipe trained on no dev question,
``weights-base.safetensors``), so no probability comes from a model that saw the question.

    FOLDER/probs-dev-{0..4}.json   from rerank_folds train --variant dev --run N
    FOLDER/weights-base.safetensors
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from bench.cvdata import CACHE

FOLDER = CACHE.parent / "oof"


class OutOfFold:
    """bench.cv.CrossEncoder's interface: probabilities of models that never saw the question."""

    def __init__(self, folder: Path = FOLDER, variant: str = "dev", fallback: Path | None = None):
        """``folder``: the probs-VARIANT-N.json files; ``fallback``: the folder of the ``base``
        weights and the cache of their probabilities (default: ``folder``)."""
        self.memo: dict[str, float] = {}
        for f in sorted(folder.glob(f"probs-{variant}-[0-9].json")):
            self.memo.update(json.loads(f.read_text())["probs"])
        if not self.memo:
            raise SystemExit(f"no probs-{variant}-N.json in {folder}: copy them from the "
                             "rerank_folds train runs (BENCHMARKS.md)")
        fallback = folder if fallback is None else fallback
        self.weights = fallback / "weights-base.safetensors"
        self.path = fallback / "base-fallback.json"
        self.base = json.loads(self.path.read_text()) if self.path.is_file() else {}
        self.model = None
        self.fallbacks = self.new = 0

    def probs(self, question: str, texts: list[str]) -> np.ndarray:
        keys = [question + "\x00" + t for t in texts]
        missing = [t for k, t in zip(keys, texts) if k not in self.memo and k not in self.base]
        if missing:
            if self.model is None:
                from qa.encoders.crossencoder import Reranker

                self.model = Reranker(self.weights, expected_sha256="")
            for t, x in zip(missing, self.model.scores(question, missing)):
                self.base[question + "\x00" + t] = float(1 / (1 + np.exp(-float(x))))
            self.new += len(missing)
        self.fallbacks += sum(k not in self.memo for k in keys)
        return np.array([self.memo.get(k, self.base.get(k)) for k in keys])

    def save(self) -> None:
        if self.new:
            self.path.write_text(json.dumps(self.base))
            self.new = 0
