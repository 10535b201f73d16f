"""Background work: what may wait while people are asking, such as an upload from the chat.

Inside ``with background():`` the default encoder (qa/encoders/onnx.py) runs its model on
worker threads of the lowest CPU priority (nice 19), each run on that one thread, so that on a
busy machine the questions' runs take the cores first and the background work takes what they
leave; on an idle machine it still uses every core. The Python steps of the work (reading,
splitting) stay on the calling thread at its own priority: a lowered thread holding the GIL
would hold up the questions' Python steps while it waits for a core. The torch encoder
(``QA_BACKEND=torch``, ``QA_DEVICE=cuda``) runs background work as any other.

On Linux a priority is a thread's own (``setpriority`` on its thread id); elsewhere it would be
the whole process's, so there threads are left as they are and the work only runs as above.
A thread's priority is lowered once and for good: raising it back needs privileges, so the
workers are threads of their own (``executor``), never the caller's.
"""
from __future__ import annotations

import logging
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

log = logging.getLogger(__name__)

LOWEST = 19  # the nice value of a background worker thread
_marked = threading.local()


@contextmanager
def background():
    """The block's model runs, on this thread, are background work (see the module's text)."""
    depth = getattr(_marked, "depth", 0)
    _marked.depth = depth + 1
    try:
        yield
    finally:
        _marked.depth = depth


def active() -> bool:
    """Whether this thread is inside ``background()``."""
    return getattr(_marked, "depth", 0) > 0


def lower_this_thread() -> bool:
    """Give the calling thread the lowest CPU priority; whether it could (Linux only)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), LOWEST)
        return True
    except OSError as e:  # a sandbox that forbids it: the work still runs, at normal priority
        log.debug("could not lower a background thread's priority: %s", e)
        return False


def executor(workers: int, name: str = "qa-background") -> ThreadPoolExecutor:
    """A pool of ``workers`` threads that each lower their own priority when they start."""
    return ThreadPoolExecutor(workers, thread_name_prefix=name, initializer=lower_this_thread)
