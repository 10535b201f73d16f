"""Background work (qa/background.py): its worker threads run at the lowest CPU priority, the
caller's own priority is left alone, and only the marked thread's work is background."""
from __future__ import annotations

import os
import sys
import threading

import pytest

from qa import background

linux = pytest.mark.skipif(not sys.platform.startswith("linux"),
                           reason="a thread's own priority: Linux only")


def _priority() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


@pytest.fixture(autouse=True)
def _not_lowest_already():
    if sys.platform.startswith("linux") and _priority() >= background.LOWEST:
        pytest.skip("this process already runs at the lowest priority: nothing to tell apart")


@linux
def test_background_workers_run_at_the_lowest_priority_and_the_caller_keeps_its_own():
    mine = _priority()
    with background.executor(2) as pool:
        seen = set(pool.map(lambda _: (_priority(), threading.get_native_id()), range(20)))
    assert {p for p, _ in seen} == {background.LOWEST}
    assert threading.get_native_id() not in {t for _, t in seen}
    assert _priority() == mine
    assert os.getpriority(os.PRIO_PROCESS, 0) == mine  # the process's main thread too


@linux
def test_lowering_a_thread_lowers_only_that_thread():
    mine = _priority()
    got = {}

    def lower():
        got["lowered"] = background.lower_this_thread()
        got["priority"] = _priority()

    worker = threading.Thread(target=lower)
    worker.start()
    worker.join()
    assert got == {"lowered": True, "priority": background.LOWEST}
    assert _priority() == mine


def test_only_the_marked_thread_is_in_the_background_and_marks_nest():
    assert not background.active()
    seen = {}
    with background.background():
        with background.background():
            assert background.active()
        assert background.active()  # the inner block's end does not end the outer one
        other = threading.Thread(target=lambda: seen.setdefault("other", background.active()))
        other.start()
        other.join()
    assert not background.active()
    assert seen == {"other": False}


def test_a_failure_inside_still_ends_the_background_block():
    with pytest.raises(ValueError):
        with background.background():
            raise ValueError("boom")
    assert not background.active()
