"""What an index holds in memory, as the folder format reads and writes it."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ..types import Document, Span


@dataclass(frozen=True)
class StoredDoc:
    """An article as the index keeps it: its sentences as an (n, 2) int32 array of offsets (not
    one object per sentence), and who says each (``None``: not computed)."""

    document: Document
    hash: str
    bounds: np.ndarray
    speakers: list[str | None] | None = None

    @classmethod
    def of(cls, document: Document, hash: str, spans: list[Span],
           speakers: list[str | None] | None = None) -> "StoredDoc":
        bounds = np.array([[s.start, s.end] for s in spans], np.int64).reshape(-1, 2)
        return cls(document, hash, bounds, speakers)

    def current(self, version: int | None) -> "StoredDoc":
        """This article with speakers of the attribution pass this code runs: those stored, when
        they were made by it (``version``: the stored ``speakers.VERSION``), else attributed again
        from its sentences (an index made before the pass changed: re-ingesting the same text
        would find it unchanged and keep the old speakers)."""
        from ..ingest.speakers import VERSION, attribute

        if self.speakers is None or version == VERSION:
            return self
        text = self.document.text
        return replace(self, speakers=attribute([text[s:e] for s, e in self.bounds.tolist()]))

    @property
    def spans(self) -> list[Span]:
        return [Span(int(s), int(e)) for s, e in self.bounds]

    @property
    def size(self) -> int:
        return len(self.bounds)


@dataclass
class Snapshot:
    """Everything an index holds, in memory."""

    model: str
    dim: int
    docs: list[StoredDoc]
    vectors: Any  # (sum of spans, dim) float32 rows in document order: an array, or read from
    # disk (qa.storage.rows.RawRows, RowBlocks); anything with len() and row slices
    extra: dict[str, Any] = field(default_factory=dict)  # fingerprint, seed ids, ...
    search: Any = None  # a qa.storage.vectors.VectorStore over ``vectors`` worth keeping, or None
    backend: str | None = None  # the encoder backend that embedded the vectors, when known
    generation: str | None = None  # the generation folder it was read from (None: not saved)
    side: dict[str, Any] = field(default_factory=dict)  # more generation files: name -> bytes
    # (or its parts in order) when saving; name -> Path (checksum verified) when loaded


