"""The chat's micro-batcher (qa/app/batching.py): questions arriving together share one model
run, each caller gets its own result back (no cross-talk), errors reach every caller of their
run, and a lone question runs at once."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from fakes import FakeEncoder
from qa.app.batching import BatchingEncoder, BatchingReranker, Coalescer


def _held_first_run(run):
    """``run`` wrapped so that its first call waits until ``release`` is set: the calls made
    meanwhile queue up behind it, as questions do behind a model run."""
    release, started = threading.Event(), threading.Event()
    calls: list[list] = []

    def held(items):
        calls.append(list(items))
        if len(calls) == 1:
            started.set()
            release.wait()
        return run(items)

    return held, calls, release, started


def _queued(batch: Coalescer, items: list, started, release) -> list:
    """Futures of ``batch(item)`` for each item, called from threads: the first call's run is
    held until every other call waits behind it, then released."""
    pool = ThreadPoolExecutor(len(items))
    futures = [pool.submit(batch, items[0])]
    started.wait()
    futures += [pool.submit(batch, item) for item in items[1:]]
    while len(batch._pending) < len(items) - 1:
        threading.Event().wait(0.001)
    release.set()
    pool.shutdown(wait=True)
    return futures


def test_callers_waiting_together_share_one_run_and_get_their_own_results():
    held, calls, release, started = _held_first_run(lambda items: [x * 10 for x in items])
    batch = Coalescer(held, most=16)
    futures = _queued(batch, list(range(12)), started, release)
    assert [f.result() for f in futures] == [n * 10 for n in range(12)]
    assert calls[0] == [0] and sorted(calls[1]) == list(range(1, 12))  # threads arrive in any order
    assert (batch.runs, batch.items) == (2, 12)


def test_a_run_takes_at_most_most_and_the_rest_run_next():
    held, calls, release, started = _held_first_run(lambda items: [-x for x in items])
    batch = Coalescer(held, most=4)
    futures = _queued(batch, list(range(11)), started, release)
    assert [f.result() for f in futures] == [-n for n in range(11)]
    assert [len(c) for c in calls] == [1, 4, 4, 2]
    assert sorted(x for c in calls for x in c) == list(range(11))


def test_an_error_reaches_every_caller_of_its_run_and_the_next_run_works():
    def run(items):
        if "bad" in items:
            raise ValueError("model failed")
        return [s.upper() for s in items]

    held, calls, release, started = _held_first_run(run)
    batch = Coalescer(held)
    first, *doomed = _queued(batch, ["ok", "a", "bad", "b"], started, release)
    assert first.result() == "OK"
    for f in doomed:
        with pytest.raises(ValueError, match="model failed"):
            f.result()
    assert batch("again") == "AGAIN"


def test_a_run_giving_the_wrong_number_of_results_is_an_error_not_a_mix_up():
    batch = Coalescer(lambda items: items[:-1])
    with pytest.raises(RuntimeError, match="0 results for 1"):
        batch("x")


def test_many_threads_get_exactly_their_own_vectors():
    fake = FakeEncoder()
    encoder = BatchingEncoder(fake)
    questions = [f"What did Speaker{n} say about topic {n % 7}?" for n in range(200)]
    expected = {q: fake.encode([q])[0] for q in questions}
    with ThreadPoolExecutor(16) as pool:
        got = list(pool.map(lambda q: (q, encoder.encode([q])), questions))
    for q, vectors in got:
        assert vectors.shape == (1, fake.dim)
        np.testing.assert_array_equal(vectors[0], expected[q])
    assert encoder.name == fake.name and encoder.dim == fake.dim  # the wrapped one's


def test_an_ingest_sized_call_goes_straight_to_the_encoder():
    fake = FakeEncoder()
    encoder = BatchingEncoder(fake)
    texts = [f"sentence {n}" for n in range(50)]
    np.testing.assert_array_equal(encoder.encode(texts), fake.encode(texts))
    assert encoder._batch.runs == 0
    assert encoder.encode([]).shape == (0, fake.dim)


class _Scorer:
    """A cross-encoder stand-in: a pair's score is a function of both texts."""

    def scores(self, question, sentences):
        return np.array([len(question) * 1000 + len(s) for s in sentences], np.float32)


class _ManyScorer(_Scorer):
    def __init__(self):
        self.many = 0

    def scores_many(self, calls):
        self.many += 1
        return [self.scores(q, s) for q, s in calls]


@pytest.mark.parametrize("model", [_Scorer(), _ManyScorer()])
def test_each_question_gets_its_own_scores(model):
    reranker = BatchingReranker(model)
    calls = [("q" * (1 + n % 9), [f"s{'x' * m}" for m in range(n % 5 + 1)]) for n in range(120)]
    with ThreadPoolExecutor(16) as pool:
        got = list(pool.map(lambda c: reranker.scores(*c), calls))
    for (q, sentences), scores in zip(calls, got):
        np.testing.assert_array_equal(scores, model.scores(q, sentences))


def test_the_app_installs_the_batchers_once(isolated_home, fake_model, monkeypatch):
    import qa.default
    from qa.app import batching
    from qa.ranking import crossencoder

    monkeypatch.setattr(crossencoder, "_LOADED", {None: _ManyScorer()})
    index = qa.default.default_index()
    batching.install(index)
    batching.install(index)
    assert isinstance(index.encoder, BatchingEncoder)
    assert not isinstance(index.encoder.wrapped, BatchingEncoder)
    assert isinstance(crossencoder.load(), BatchingReranker)
    assert not isinstance(crossencoder.load().wrapped, BatchingReranker)
