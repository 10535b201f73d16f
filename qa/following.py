"""Following other writers: an open index notices a new commit in its folder (one ``stat`` of the
manifest a question), reads it on a background thread, prepares it to answer and swaps it in
whole. No question waits for it; questions under way finish on the state they started with."""
from __future__ import annotations

import logging
import os
import threading

from . import commits
from .errors import InputError, QAError
from .storage import folder

log = logging.getLogger("qa.index")


class Following:
    """The part of ``qa.Index`` that follows its folder (a mixin: it uses the index's state,
    locks and ``_open_latest``)."""

    def __init__(self):
        self._manifest_seen = None  # (inode, mtime, size) of the manifest last looked at
        self._following = None  # the thread reading a newer commit, while it does

    def refresh(self) -> bool:
        """Switch to the newest commit in the index's folder, keeping this process's own
        changes that are not saved yet on top. True when there was a newer commit. Questions
        start this by themselves, on a background thread (a ``stat`` of the manifest each);
        questions under way finish on the state they started with, and the new state is ready
        to answer when it is swapped in."""
        if self.path is None:
            return False
        with self._commit_lock:
            newest = folder.current_generation(self.path)
            if newest is None or newest == self._state.base.generation:
                return False
            latest = self._open_latest(self.path)
            commits.carry_graph(self._state, latest)
            fresh = commits.on_top_of(self._state, latest)
            fresh.prepared(self._dim(fresh))  # ready to answer before it is swapped in
            with self._lock:
                self._state = fresh
            log.info("index at %s: now at %s (%d articles)", self.path, newest, len(fresh.docs))
            return True

    def keep_following(self, every: float = 1.0) -> threading.Event:
        """Look for another writer's commit every ``every`` seconds as well, not only when a
        question comes (the chat: the first question after a quiet night must not answer from
        the state before the night's ingest, nor /api/articles list it). Returns the event that
        stops it; the thread is a daemon."""
        if isinstance(every, bool) or not isinstance(every, (int, float)) or not every >= 0.05:
            raise InputError(f"keep_following takes seconds between looks, at least 0.05, not "
                             f"{every!r}")
        stop = threading.Event()

        def loop() -> None:
            while not stop.wait(every):
                try:
                    self._follow()
                except Exception:  # a bug: say so, and keep the questions' own following
                    log.exception("index at %s: looking for a newer commit failed", self.path)

        threading.Thread(target=loop, name="qa-follow-every", daemon=True).start()
        return stop

    def _manifest_key(self) -> tuple | None:
        """What changes when the manifest is replaced: (inode, modification time, size)."""
        try:
            st = os.stat(self.path / folder.MANIFEST)
        except OSError:
            return None
        return st.st_ino, st.st_mtime_ns, st.st_size

    def _follow(self) -> None:
        """When the folder's manifest changed since last looked at, read the new commit on a
        background thread and swap it in when it is ready to answer."""
        if self.path is None:
            return
        seen = self._manifest_key()
        if seen is None:
            return
        with self._lock:
            if seen == self._manifest_seen or self._following is not None:
                return
            self._manifest_seen = seen
            self._following = threading.Thread(target=self._follow_in_background,
                                               name="qa-follow", daemon=True)
            self._following.start()

    def _follow_in_background(self) -> None:
        try:
            self.refresh()
        except QAError as e:  # e.g. rebuilt with another model: keep answering from this state
            log.warning("index at %s changed on disk but cannot be read (%s); answering from "
                        "the state read before", self.path, e)
        except Exception:  # a bug: say so, and keep answering
            log.exception("index at %s: reading a newer commit failed", self.path)
        finally:
            with self._lock:
                self._following = None
