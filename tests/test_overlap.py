"""Embedding while splitting (qa/encoders/overlap.py): same sentences, same order, same vectors
as splitting first; errors and progress come through."""
import threading
import time

import numpy as np
import pytest

from fakes import FakeEncoder
from qa import Document, Index
from qa.encoders import embed
from qa.encoders.overlap import embed_while_split


def articles(n: int, per: int = 7):
    return [[f"Article {a} sentence {s} about topic {a * s % 5}." for s in range(per)]
            for a in range(n)]


@pytest.mark.parametrize("first", [1, 10, 1000])
def test_same_sentences_and_vectors_as_splitting_first(first):
    given = articles(40)
    flat = [s for a in given for s in a]
    encoder = FakeEncoder()
    texts, vectors = embed_while_split(encoder, iter(given), progress=False, first=first)
    assert texts == flat
    assert np.array_equal(vectors, embed(FakeEncoder(), flat, progress=False))


def test_embedding_starts_before_the_last_article_is_split():
    started = threading.Event()

    class Recording(FakeEncoder):
        def encode(self, texts, *, progress=False):
            started.set()
            return super().encode(texts)

    def slow_split():
        for i, a in enumerate(articles(20)):
            if i == 10:  # half split: the first sentences are being embedded meanwhile
                assert started.wait(10)
            yield a

    texts, vectors = embed_while_split(Recording(), slow_split(), progress=False, first=14)
    assert len(texts) == len(vectors) == 140


def test_an_encoder_error_stops_the_split_and_is_raised():
    split = []

    class Failing(FakeEncoder):
        def encode(self, texts, *, progress=False):
            raise RuntimeError("model broke")

    def splitting():
        for a in articles(500):
            split.append(a)
            time.sleep(0.002)  # splitting takes time: the failure is seen meanwhile
            yield a

    with pytest.raises(RuntimeError, match="model broke"):
        embed_while_split(Failing(), splitting(), progress=False, first=7)
    assert len(split) < 500


def test_progress_ends_at_every_sentence():
    seen = []
    embed_while_split(FakeEncoder(), iter(articles(30)), progress=lambda d, t: seen.append((d, t)),
                      first=20)
    assert seen and seen[-1] == (210, 210)
    assert all(d <= t for d, t in seen)


def test_nothing_to_embed():
    texts, vectors = embed_while_split(FakeEncoder(), iter([]), progress=False)
    assert texts == [] and vectors.shape[0] == 0


def test_index_add_splits_while_embedding_and_reports_empty_articles():
    docs = [Document(id=f"d{i}", text=" ".join(f"Sentence {i}.{j} here." for j in range(5)))
            for i in range(30)] + [Document(id="blank", text="   \n  ")]
    index = Index.build(docs, encoder=FakeEncoder())
    assert len(index) == 150 and "blank" not in index.documents
    again = Index(encoder=FakeEncoder())
    report = again.add(docs)
    assert report.empty == ["blank"] and report.sentences == 150
    hits = again.search("Sentence 7.3 here", k=1)
    assert hits[0].text == "Sentence 7.3 here."


def test_a_split_error_is_raised_and_nothing_more_is_embedded():
    encoder = FakeEncoder()

    def splitting():
        yield from articles(3)
        raise ValueError("bad article")

    with pytest.raises(ValueError, match="bad article"):
        embed_while_split(encoder, splitting(), progress=False, first=1000)
    assert encoder.encoded == 0


@pytest.mark.parametrize("marked", [False, True])
def test_the_embedding_thread_keeps_the_callers_background_mark(marked):
    from qa import background

    seen = []

    class Noting(FakeEncoder):
        def encode(self, texts, **kwargs):
            seen.append(background.active())
            return super().encode(texts, **kwargs)

    def run():
        return embed_while_split(Noting(), iter(articles(5)), progress=False, first=1)

    if marked:
        with background.background():
            run()
    else:
        run()
    assert seen and set(seen) == {marked}
