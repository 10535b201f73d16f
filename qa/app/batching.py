"""Questions asked together share the models' runs: a micro-batcher for the served path.

While the chat serves many people at once, their questions reach the query encoder and the
cross-encoder at nearly the same moment. ``Coalescer`` lets the first caller run the model for
everyone waiting (itself included); callers arriving while a run is under way wait for the next
one, which takes them all together. No timer and no thread of its own: a lone question runs at
once, as before, and the batches grow only when questions queue up anyway. Each caller gets
back exactly its own result (a list in, the same order out), or the exception of its run.

``BatchingEncoder`` and ``BatchingReranker`` put that in front of the index's question encoder
and the cross-encoder; the app installs them (``serve``). Long calls (an upload's sentences)
go straight through.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

MOST = 16  # questions one run takes at most (pairs: 16 x tuning.RERANK_DEPTH)
SMALL = 4  # texts in a call that is batched; a longer call (an ingest) runs on its own


@dataclass
class _Slot:
    item: Any
    done: bool = False
    result: Any = None
    error: BaseException | None = None
    event: threading.Event = field(default_factory=threading.Event)


class Coalescer:
    """``coalescer(item) -> result`` where ``run(items) -> results`` (same length, same order)
    runs once for every caller waiting, at most ``most`` items a run."""

    def __init__(self, run: Callable[[list], Sequence], most: int = MOST):
        self._run = run
        self._most = most
        self._lock = threading.Lock()
        self._pending: list[_Slot] = []
        self._busy = False
        self.runs = 0  # how many model runs, and how many items they took (for the benchmark)
        self.items = 0

    def __call__(self, item):
        slot = _Slot(item)
        with self._lock:
            self._pending.append(slot)
        while True:
            with self._lock:
                lead = not slot.done and not self._busy
                if lead:
                    self._busy = True
                    batch, self._pending = (self._pending[:self._most],
                                            self._pending[self._most:])
            if lead:
                self._lead(batch)
            else:
                slot.event.wait()
                slot.event.clear()
            if slot.done:
                if slot.error is not None:
                    raise slot.error
                return slot.result

    def _lead(self, batch: list[_Slot]) -> None:
        try:
            results = list(self._run([s.item for s in batch]))
            if len(results) != len(batch):
                raise RuntimeError(f"a batched run gave {len(results)} results for "
                                   f"{len(batch)} items")
        except BaseException as e:  # every caller of this run gets its error
            results, error = [None] * len(batch), e
        else:
            error = None
        with self._lock:
            self.runs += 1
            self.items += len(batch)
            for s, r in zip(batch, results):
                s.result, s.error, s.done = r, error, True
            self._busy = False
            woken = batch + self._pending[:1]  # the next waiting caller leads the next run
        for s in woken:
            s.event.set()


class BatchingEncoder:
    """An encoder (``encode(texts)``) whose short calls from several threads are encoded in one
    run; every other attribute is the wrapped encoder's (name, dim, backend)."""

    def __init__(self, encoder, most: int = MOST):
        self.wrapped = encoder
        self._batch = Coalescer(self._encode_many, most)

    def __getattr__(self, name):
        return getattr(self.wrapped, name)

    def encode(self, texts: Sequence[str], **options) -> np.ndarray:
        if options or len(texts) > SMALL or not len(texts):
            return self.wrapped.encode(texts, **options)
        return self._batch(list(texts))

    def _encode_many(self, calls: list[list[str]]) -> list[np.ndarray]:
        vectors = self.wrapped.encode([t for texts in calls for t in texts])
        return np.split(vectors, np.cumsum([len(texts) for texts in calls])[:-1])


class BatchingReranker:
    """A cross-encoder (``scores(question, sentences)``) whose calls from several threads are
    scored in one run when it can (``scores_many``); each question gets its own scores."""

    def __init__(self, model, most: int = MOST):
        self.wrapped = model
        self._batch = Coalescer(self._scores_many, most)

    def __getattr__(self, name):
        return getattr(self.wrapped, name)

    def scores(self, question: str, sentences: Sequence[str]) -> np.ndarray:
        return self._batch((question, list(sentences)))

    def _scores_many(self, calls: list[tuple[str, list[str]]]) -> list[np.ndarray]:
        many = getattr(self.wrapped, "scores_many", None)
        if many is None:
            return [self.wrapped.scores(q, s) for q, s in calls]
        return many(calls)


def install(index) -> None:
    """Put the batchers in front of ``index``'s question encoder and of the cross-encoder it
    loads (once a process: a second call changes nothing)."""
    from ..ranking import crossencoder

    if not isinstance(index.encoder, BatchingEncoder):
        index.encoder = BatchingEncoder(index.encoder)
    model = crossencoder.load()
    if not isinstance(model, BatchingReranker):
        crossencoder.install(BatchingReranker(model))
