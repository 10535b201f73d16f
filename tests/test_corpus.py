"""Large-index ranking data: BM25 postings score chosen texts as BM25 scores all of them, raw
rows read from disk are the rows written, and the data survives a save."""
from __future__ import annotations

import numpy as np
import pytest

from qa.ranking.lexical import BM25, Postings, terms
from qa.storage.rows import RawRows, RowBlocks

TEXTS = ["The central bank raised interest rates again.", "Rates rose; the bank said so.",
         "A striker scored twice for the club.", "", "Bank bank bank holiday traffic.",
         "Shares in the bank fell after the rates decision."]


@pytest.mark.parametrize("question", ["bank rates", "striker club goals", "unknown words only",
                                      "bank", "the of and"])
@pytest.mark.parametrize("capped", [True, False])
def test_postings_score_chosen_texts_like_bm25(question, capped):
    bm25 = BM25([terms(t) for t in TEXTS])
    vocab = {"zzz-only-elsewhere": 0}  # a shared vocabulary may hold terms this collection lacks
    for t in bm25.vocab:
        vocab.setdefault(t, len(vocab))
    postings = Postings.from_bm25(bm25, vocab)
    want = bm25.scores(terms(question), capped=capped)
    cols = np.array([0, 2, 3, 5])
    got = postings.scores(terms(question), cols, capped=capped)
    np.testing.assert_allclose(got, want[cols], atol=1e-6)
    np.testing.assert_allclose(postings.scores(terms(question), np.arange(len(TEXTS)),
                                               capped=capped), want, atol=1e-6)


def test_a_term_of_another_collection_counts_as_unknown():
    bm25 = BM25([terms(t) for t in TEXTS])
    vocab = dict(bm25.vocab)
    vocab["holidaymaker"] = len(vocab)
    postings = Postings.from_bm25(bm25, vocab)
    np.testing.assert_allclose(postings.scores(["bank", "holidaymaker"], np.arange(6)),
                               bm25.scores(["bank", "holidaymaker"]), atol=1e-6)


def test_holds_says_which_terms_a_text_holds_alike_in_both_collections():
    bm25 = BM25([terms(t) for t in TEXTS])
    vocab = {"zzz-only-elsewhere": 0}
    for t in bm25.vocab:
        vocab.setdefault(t, len(vocab))
    postings = Postings.from_bm25(bm25, vocab)
    asked = ["bank", "striker", "rate", "zzz-only-elsewhere", "never-seen"]
    for text in range(len(TEXTS)):
        # a term is held exactly where BM25 of it alone is above 0
        want = [bool(bm25.scores([t], np.array([text]))[0] > 0) for t in asked]
        assert bm25.holds(asked, text) == want == postings.holds(asked, text)
    assert bm25.holds(asked, 0) == [True, False, True, False, False]


def test_raw_rows_read_the_rows_written(tmp_path):
    data = np.random.default_rng(0).normal(size=(50, 8)).astype(np.float32)
    f = tmp_path / "v.f32"
    f.write_bytes(b"HEAD" + data.tobytes())
    rows = RawRows(f, (50, 8), "<f4", offset=4)
    pick = np.array([49, 3, 4, 5, 0, 3])  # unsorted, with a run and a repeat
    np.testing.assert_array_equal(rows[pick], data[pick])
    np.testing.assert_array_equal(rows[10:13], data[10:13])
    view = rows.view(20, 5)
    assert len(view) == 5
    np.testing.assert_array_equal(np.asarray(view), data[20:25])
    blocks = RowBlocks([view, data[:3], rows.view(40, 10)], 8)
    whole = np.concatenate([data[20:25], data[:3], data[40:50]])
    np.testing.assert_array_equal(np.asarray(blocks), whole)
    np.testing.assert_array_equal(blocks[[17, 0, 6, 5]], whole[[17, 0, 6, 5]])
    with pytest.raises(IndexError):
        rows[[50]]


def test_raw_rows_refuse_a_short_file(tmp_path):
    from qa.errors import IndexFileError

    f = tmp_path / "v.f32"
    f.write_bytes(np.zeros((3, 4), np.float32).tobytes())
    with pytest.raises(IndexFileError, match="rebuild"):
        RawRows(f, (4, 4))
