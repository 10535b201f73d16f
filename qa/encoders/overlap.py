"""Embedding sentences while the next articles are still being split (issue 17).

Splitting (syntok, pure Python) and embedding used to take turns: the whole ingest split on one
core, then embedded on both. Here the caller's thread splits and hands each article's sentences
over; a second thread embeds what has piled up, in the one-sort-then-chunks way of
``embed`` (similar lengths together: little padding). The first hand-over waits for ``first``
sentences (a smaller first group pads more); after that each turn takes everything split while
the previous one was embedded, which on a large ingest is the rest of it, sorted as a whole.
ONNX Runtime (and torch) release the GIL while they run, so the splitting goes on meanwhile.
"""
from __future__ import annotations

import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Iterable, Sequence

import numpy as np

from .. import background, tuning
from ..tuning import PROGRESS_BAR_MIN
from . import Encoder, ProgressFn, embed


def embed_while_split(encoder: Encoder, articles: Iterable[Sequence[str]],
                      progress: bool | ProgressFn | None = None,
                      first: int | None = None) -> tuple[list[str], np.ndarray]:
    """Every sentence of ``articles`` (an iterable of each article's sentences, typically
    split as it is iterated) and its vector, in order. ``first``: ``tuning.OVERLAP_FIRST``
    unless given."""
    pool = _Pool(first or tuning.OVERLAP_FIRST)
    report = _progress(progress)
    marked = background.active()  # an upload's embedding stays background work on this thread

    def embed_all():
        if not marked:
            return pool.embed_all(encoder, report)
        with background.background():
            return pool.embed_all(encoder, report)

    with ThreadPoolExecutor(1, thread_name_prefix="qa-embed") as executor:
        done = executor.submit(embed_all)
        try:
            for sentences in articles:
                if done.done():  # the embedding failed: stop splitting, raise its error
                    break
                pool.put(sentences)
        except BaseException:  # the splitting failed (or was interrupted): embed no more
            pool.close(abandon=True)
            raise
        pool.close()
        parts = done.result()
    if report is not None:
        report(None, None)
    if not parts:
        return [], np.zeros((0, 0), np.float32)
    out = np.zeros((len(pool.texts), parts[0][1].shape[1]), np.float32)
    for start, vectors in parts:
        out[start:start + len(vectors)] = vectors
    return pool.texts, out


class _Pool:
    """Sentences split so far; the embedding thread takes them in turns."""

    def __init__(self, first: int):
        self.texts: list[str] = []
        self.first = first
        self.closed = False
        self.cond = threading.Condition()

    def put(self, sentences: Sequence[str]) -> None:
        with self.cond:
            self.texts.extend(sentences)
            if len(self.texts) >= self.first:
                self.cond.notify()

    def close(self, abandon: bool = False) -> None:
        with self.cond:
            self.closed = True
            if abandon:
                self.texts.clear()
            self.cond.notify()

    def embed_all(self, encoder: Encoder, report) -> list[tuple[int, np.ndarray]]:
        parts, start = [], 0
        while True:
            with self.cond:
                self.cond.wait_for(lambda: self.closed or len(self.texts) - start >= self.first)
                taken, closed = self.texts[start:], self.closed
            if taken:
                step = False if report is None else (
                    lambda n, _total, s=start: report(s + n, len(self.texts)))
                parts.append((start, embed(encoder, taken, step)))
                start += len(taken)
            elif closed:
                return parts


def _progress(progress: bool | ProgressFn | None):
    """A ``(done, total)`` callback (``(None, None)`` when finished) for ``progress``: the
    caller's, a bar (``True``, or by default on a terminal once enough sentences are split),
    or None."""
    if callable(progress):
        return lambda done, total: None if done is None else progress(done, total)
    if progress is False:
        return None
    bar = []

    def report(done, total):
        if done is None:
            if bar:
                bar[0].close()
            return
        if not bar and (progress is True or (total >= PROGRESS_BAR_MIN and sys.stderr.isatty())):
            from tqdm import tqdm

            bar.append(tqdm(total=total, unit="sentence", desc="Embedding"))
        if bar:
            bar[0].total = total
            bar[0].n = done
            bar[0].refresh()
    return report
