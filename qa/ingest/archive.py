"""Feeding a shared index: long ingests that commit as they go, and a drop folder.

``ingest`` adds articles in small batches and commits (``Index.save``) every ``COMMIT_ARTICLES``
articles or ``COMMIT_SECONDS`` seconds, whichever comes first, and once at the end. A crash keeps
every commit made before it; readers (the chat, other processes) see the archive grow; running
the same ingest again embeds only what is not committed yet (unchanged articles are skipped by
content hash). Its memory is bounded: a large index's commits before the last leave out the
search graph and ranking data (built once, by the last commit), and each commit's vectors are
then read from the folder, not held (``Index.save``).

``watch`` keeps a folder and an index in step, the way wire feeds land as files: a file added or
changed is read and committed, a deleted file's articles are removed, a bad file is named and
skipped. It uses watchfiles (inotify on Linux); Ctrl-C stops it between commits.
"""
from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Sequence

from .. import config
from ..errors import InputError, QAError
from ..tuning import COMMIT_ARTICLES, COMMIT_SECONDS  # noqa: F401  (qa/cli.py reads them here)
from ..tuning import INGEST_BATCH as BATCH
from ..tuning import PROGRESS_SECONDS

if TYPE_CHECKING:  # the index (numpy, FAISS) loads when used: `qa --help` stays light
    from ..index import Index
    from ..types import Document

log = logging.getLogger(__name__)


def commit_articles() -> int:
    return config.commit_articles(COMMIT_ARTICLES)


def commit_seconds() -> float:
    return config.commit_seconds(COMMIT_SECONDS)


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    empty: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    sentences: int = 0
    commits: int = 0

    def line(self, index: Index) -> str:
        removed = f", {len(self.removed)} removed" if self.removed else ""
        return (f"{len(self.added)} added, {len(self.updated)} updated, "
                f"{len(self.unchanged)} unchanged{removed}, {len(self.empty)} without text; "
                f"{self.sentences} sentences embedded, "
                + (f"{self.commits} commit(s)" if self.commits else "nothing new to commit")
                + f". Index {index.path}: {len(index.documents)} articles, {len(index)} sentences.")


def ingest(index: Index, docs: Iterable[Document], *, every: int | None = None,
           seconds: float | None = None, replace: bool = False, progress: bool = True,
           report: IngestReport | None = None, total: int | None = None,
           say: Callable[[str], None] | None = None) -> IngestReport:
    """Add ``docs`` to ``index``, committing every ``every`` articles or ``seconds`` seconds and
    at the end. ``replace``: the first commit replaces the whole folder (``--rebuild``).

    ``docs`` may be a stream (``readers.iter_paths``): it is read a batch at a time, so only
    the index, not the archive's text, is held. ``progress``: a line on stderr with the rate
    and the time left (of ``total`` articles, ``len(docs)`` when it has one)."""
    every = every or commit_articles()
    seconds = commit_seconds() if seconds is None else seconds
    report = report or IngestReport()
    if total is None and hasattr(docs, "__len__"):
        total = len(docs)
    shown = Progress(total, say) if progress and total != 0 else None
    since, last = 0, time.monotonic()
    step = max(1, min(BATCH, every))
    stream = iter(docs)
    batch = list(islice(stream, step))
    while batch:
        added = index.add(batch)
        report.added += added.added
        report.updated += added.updated
        report.unchanged += added.unchanged
        report.empty += added.empty
        report.sentences += added.sentences
        since, done = since + len(batch), len(batch)
        batch = list(islice(stream, step))  # read ahead: the last commit is the one after it
        if batch and (since >= every or time.monotonic() - last >= seconds):
            _commit(index, report, replace and not report.commits, last=False)
            since, last = 0, time.monotonic()
        if shown is not None:
            shown.update(done, added.sentences, report.commits)
    if (since or not report.commits) and (report.added or report.updated or report.removed
                                          or replace or not _on_disk(index)):
        _commit(index, report, replace and not report.commits)
    if shown is not None:
        shown.done(report.commits)
    return report


class Progress:
    """"Ingesting: 1,200 of 53,281 articles, 24,810 sentences embedded, 412 sentences/s, 3
    commits, about 41m00s left": rewritten in place on a terminal (at most 5 times a second),
    else a line every ``PROGRESS_SECONDS``, and a last line when done."""

    def __init__(self, total: int | None, say: Callable[[str], None] | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self.terminal = say is None and sys.stderr.isatty()
        self.total, self.clock = total, clock
        self.say = say or (_in_place if self.terminal else _stderr)
        self.every = 0.2 if self.terminal else PROGRESS_SECONDS
        self.start = self.shown = clock()
        self.articles = self.sentences = 0

    def update(self, articles: int, sentences: int, commits: int) -> None:
        self.articles += articles
        self.sentences += sentences
        now = self.clock()
        if now - self.shown >= self.every:
            self.shown = now
            self.say(line(self.articles, self.total, self.sentences, now - self.start, commits))

    def done(self, commits: int) -> None:
        text = line(self.articles, self.total, self.sentences, self.clock() - self.start,
                    commits, final=True)
        if self.terminal:
            _in_place(text + "\n")
        else:
            self.say(text)


def line(articles: int, total: int | None, sentences: int, elapsed: float, commits: int,
         final: bool = False) -> str:
    """One progress line; the time left is the articles still to come at the pace so far."""
    of = f" of {total:,}" if total else ""
    rate = f"{sentences / elapsed:,.0f} sentences/s" if elapsed > 0 else "- sentences/s"
    text = (f"Ingesting: {articles:,}{of} articles, {sentences:,} sentences embedded, {rate}, "
            f"{commits} commit{'s' if commits != 1 else ''}")
    if final:
        return text + f", done in {_duration(elapsed)}"
    if total and articles and elapsed > 0:
        text += f", about {_duration(elapsed / articles * max(total - articles, 0))} left"
    return text


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def _stderr(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _in_place(text: str) -> None:
    print("\r\x1b[K" + text, file=sys.stderr, end="", flush=True)


def _on_disk(index) -> bool:
    """Whether ``index`` is a folder index with a commit already (one with nothing new to add
    is then left as it is, not written again as a new generation)."""
    from ..storage import folder

    path = getattr(index, "path", None)
    return isinstance(path, Path) and folder.current_generation(path) is not None


def _commit(index: Index, report: IngestReport, replace: bool, last: bool = True) -> None:
    # A large index's search graph and ranking data are built once, at the last commit, not
    # over the whole index again at every commit (Index.save ``derived``)
    index.save(replace=replace, derived=last)
    report.commits += 1
    log.info("committed: %d articles, %d sentences", len(index.documents), len(index))


# ---- the drop folder -------------------------------------------------------------------------

def _doc_id(folder: Path, path: Path) -> str:
    """The id ``qa ingest FOLDER`` gives a file's article: its path inside the folder."""
    return path.relative_to(folder).as_posix()


def _visible(folder: Path, path: Path) -> bool:
    try:
        rel = path.relative_to(folder)
    except ValueError:
        return False
    return not any(p.startswith(".") for p in rel.parts)


def _wanted(folder: Path, path: Path) -> bool:
    from .readers import SUFFIXES

    return path.suffix.lower() in SUFFIXES and _visible(folder, path)


def from_files(index: Index, folder: Path) -> dict[Path, list[str]]:
    """Indexed articles read from files inside ``folder``: file -> article ids."""
    from .readers import origin_file

    out: dict[Path, list[str]] = {}
    for doc in index.documents:
        f = origin_file(doc.origin)
        if f is not None and f.is_absolute() and _wanted(folder, f):
            out.setdefault(f, []).append(doc.id)
    return out


def sync(index: Index, folder: Path, changed: Iterable[Path], deleted: Iterable[Path],
         say: Callable[[str], None]) -> IngestReport:
    """Bring ``index`` in step with files of ``folder`` that changed or went; one commit."""
    from .readers import read_file

    report = IngestReport()
    known = from_files(index, folder)
    docs: list[Document] = []
    gone: list[str] = []
    for path in sorted(set(deleted)):
        gone += [i for f, ids in known.items() if f == path or path in f.parents for i in ids]
    for path in sorted(set(changed)):
        errors: list[InputError] = []
        try:
            found = read_file(path, doc_id=_doc_id(folder, path), errors=errors)
        except QAError as e:
            say(f"skipped {e}")
            continue
        except OSError as e:  # went again, or not readable
            say(f"skipped {path}: {e.strerror or e}")
            continue
        for e in errors:
            say(f"skipped {e}")
        docs += found
        ids = {d.id for d in found}
        gone += [i for i in known.get(path, []) if i not in ids]  # lines taken out of a file
    if not docs and not gone:
        return report
    with index.transaction():
        report.removed = index.remove(gone)
        ingest(index, docs, every=len(docs) + 1, seconds=float("inf"), progress=False,
               report=report)
    return report


def watch(index: Index, folder: Path, *, stop: threading.Event | None = None,
          say: Callable[[str], None] = print, ready: Callable[[], None] | None = None) -> int:
    """Ingest everything in ``folder``, then follow it until ``stop`` is set (or Ctrl-C):
    files added or changed are ingested, deleted files' articles removed, each batch of changes
    one commit. Returns the number of commits."""
    import watchfiles

    folder = folder.resolve()
    if not folder.is_dir():
        raise InputError("not a folder; give --watch the folder that articles are dropped into",
                         path=str(folder))
    stop = stop or threading.Event()
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGINT, lambda *_: stop.set())  # finish the commit first
    commits = 0
    try:
        present = [p for p in sorted(folder.rglob("*")) if p.is_file() and _wanted(folder, p)]
        missing = [f for f in from_files(index, folder) if not f.exists()]
        report = sync(index, folder, present, missing, say)
        commits += report.commits
        say(f"{folder}: {report.line(index)} Watching for changes (Ctrl-C stops).")
        if ready is not None:
            ready()
        for changes in watchfiles.watch(folder, stop_event=stop, raise_interrupt=False,
                                        watch_filter=lambda _, p: _visible(folder, Path(p)),
                                        debounce=400, step=50, yield_on_timeout=False):
            changed, deleted = [], []
            for kind, raw in changes:
                path = Path(raw)
                if path.is_dir():  # a new folder: its files may have landed before it was watched
                    changed += [p for p in path.rglob("*") if p.is_file() and _wanted(folder, p)]
                elif kind == watchfiles.Change.deleted or not path.exists():
                    deleted.append(path)  # a file, or a folder and all in it
                elif _wanted(folder, path):
                    changed.append(path)
            try:
                report = sync(index, folder, changed, deleted, say)
            except QAError as e:  # e.g. a full disk: nothing of this batch was committed
                say(f"not committed: {e}")
                continue
            if report.commits:
                commits += report.commits
                say(report.line(index))
            if stop.is_set():
                break
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    say(f"stopped watching {folder}; {commits} commit(s)")
    return commits

