"""Lexical matching: BM25 over articles and titles, in memory (sparse matrices) or term by term
(postings, readable from disk); both score chosen texts the same way.

Dense sentence embeddings miss rare names and numbers that a question shares word for word with
its answer; BM25 catches those. Each term's BM25 weight is capped at 1 (about one occurrence in a
text of average length) and the sum is divided by the query's total idf, so a score is the share
of the question's words, weighted by rarity, that a text holds: 0 to 1, comparable across
questions.
"""
from __future__ import annotations

import re
from typing import Iterable, Sequence

import numpy as np

K1 = 1.2
B = 0.75
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*", re.UNICODE)
STOPWORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further had has
have having he her here hers herself him himself his how i if in into is it its itself just me more
most my myself no nor not now of off on once only or other our ours ourselves out over own said same
say says she should so some such than that the their theirs them themselves then there these they
this those through to too under until up very was we were what when where which while who whom why
will with would you your yours yourself yourselves tell told did does what's who's
""".split())


def terms(text: str) -> list[str]:
    """Lower-case word terms without stopwords; a possessive ``'s`` and a plural ``s`` are cut."""
    out = []
    for w in _WORD.findall(text.lower()):
        if w.endswith(("'s", "’s")):
            w = w[:-2]
        if w in STOPWORDS:
            continue
        if len(w) > 3 and w.endswith("s") and not w.endswith("ss"):
            w = w[:-1]
        out.append(w)
    return out


class BM25:
    """BM25 weights of a collection of texts, as a (terms x texts) sparse matrix.

    ``texts``: each text's terms, a sequence or a stream (read once: a million sentences'
    articles are never held as term lists at once); each text's term counts are kept as small
    arrays, not Python ints."""

    def __init__(self, texts: Iterable[Sequence[str]], vocab: dict[str, int] | None = None,
                 typical: tuple[float, float] | None = None):
        """``typical``: (length, weight): the average length that normalises each text's
        term weights counts ``weight`` texts of ``length`` terms beside the collection's own, so
        that a few texts' lengths do not move it (``tuning.ARTICLE_LENGTH``)."""
        from scipy import sparse

        self.vocab = vocab if vocab is not None else {}
        row_parts, count_parts, sizes, length_list = [], [], [], []
        for toks in texts:
            length_list.append(len(toks))
            tf: dict[int, int] = {}
            for t in toks:
                i = self._id(t)
                tf[i] = tf.get(i, 0) + 1
            row_parts.append(np.fromiter(tf, np.int64, len(tf)))
            count_parts.append(np.fromiter(tf.values(), np.float32, len(tf)))
            sizes.append(len(tf))
        lengths = np.array(length_list, np.float32)
        n_texts = len(lengths)
        n = max(n_texts, 1)
        rows = np.concatenate(row_parts) if row_parts else np.zeros(0, np.int64)
        counts = np.concatenate(count_parts) if count_parts else np.zeros(0, np.float32)
        del row_parts, count_parts
        cols_a = np.repeat(np.arange(n_texts, dtype=np.int64), sizes)
        length, weight = typical if typical is not None else (0.0, 0.0)
        total, count = float(lengths.sum()) + length * weight, n_texts + weight
        avg = total / count if count and total > 0 else 1.0
        norm = K1 * (1 - B + B * lengths[cols_a] / avg) if len(cols_a) else counts
        weights = counts * (K1 + 1) / (counts + norm)
        self.matrix = sparse.csr_matrix((weights, (rows, cols_a)),
                                        shape=(len(self.vocab), n_texts), dtype=np.float32)
        df = np.bincount(rows, minlength=len(self.vocab)).astype(np.float32)
        self.idf = np.log(1 + (n - df + 0.5) / (df + 0.5)).astype(np.float32)

    def _id(self, term: str) -> int:
        i = self.vocab.get(term)
        if i is None:
            i = self.vocab[term] = len(self.vocab)
        return i

    def query_ids(self, query_terms: Sequence[str]) -> np.ndarray:
        return np.array(sorted({self.vocab[t] for t in query_terms if t in self.vocab
                                and self.vocab[t] < len(self.idf)}), np.int64)

    def scores(self, query_terms: Sequence[str], texts: np.ndarray | None = None, *,
               capped: bool = True) -> np.ndarray:
        """Capped, normalised BM25 of every text (or of ``texts``): 0 (no query term) to 1
        (every term). ``capped=False``: plain BM25 divided by the most it could reach (every
        term saturated), so a text scores high only where the question's words recur."""
        out = self._scores(query_terms, capped)
        return out if texts is None else out[texts]

    def both(self, query_terms: Sequence[str], texts: np.ndarray | None = None):
        """(capped, plain) scores, as ``Postings.both``."""
        return self.scores(query_terms, texts), self.scores(query_terms, texts, capped=False)

    def holds(self, query_terms: Sequence[str], text: int) -> list[bool]:
        """Whether text ``text`` holds each of ``query_terms`` (reading only their rows)."""
        m = self.matrix
        return [t in self.vocab and self.vocab[t] < m.shape[0] and
                bool(np.any(m.indices[m.indptr[self.vocab[t]]:m.indptr[self.vocab[t] + 1]] == text))
                for t in query_terms]

    def _scores(self, query_terms: Sequence[str], capped: bool) -> np.ndarray:
        n = self.matrix.shape[1]
        ids = self.query_ids(query_terms)
        unique = set(query_terms)
        idf = self.idf
        if not unique:
            return np.zeros(n, np.float32)
        q_idf = idf[ids] if len(ids) else np.zeros(0, np.float32)
        # unknown terms count at the highest idf: a word found nowhere still makes a match partial
        best = float(q_idf.sum() + (len(unique) - len(ids)) * (idf.max() if len(idf) else 1.0))
        if not len(ids) or best <= 0:
            return np.zeros(n, np.float32)
        sub = self.matrix[ids]  # a copy: capping it leaves the index as it is
        if not capped:
            return np.asarray(sub.T @ q_idf, np.float32).ravel() / (best * (K1 + 1))
        sub.data = np.minimum(sub.data, 1.0)  # a term counts fully once it occurs about once
        return np.asarray(sub.T @ q_idf, np.float32).ravel() / best


class Postings:
    """One BM25 collection stored term by term: for each term, the texts holding it (sorted) and
    its weight in each. ``scores`` scores chosen texts exactly as ``BM25.scores`` scores all of
    them, reading only the question's terms: the postings can stay on disk (``RawRows``).

    Term ids are those of a vocabulary shared by several collections; ``idf`` is NaN for a term
    this collection does not hold (it counts as unknown, as in ``BM25``)."""

    def __init__(self, vocab: dict[str, int], indptr: np.ndarray, idf: np.ndarray, indices,
                 weights, n_texts: int):
        self.vocab, self.indptr, self.idf = vocab, indptr, idf
        self.indices, self.weights = indices, weights  # arrays, or RawRows on disk
        self.n_texts = n_texts
        known = idf[~np.isnan(idf)]
        self.idf_max = float(known.max()) if len(known) else 1.0

    @classmethod
    def from_bm25(cls, bm25: BM25, vocab: dict[str, int]) -> "Postings":
        """``bm25`` re-keyed by the shared ``vocab`` (which must hold its terms)."""
        order = np.full(len(bm25.idf), -1, np.int64)
        for term, i in bm25.vocab.items():
            if i < len(bm25.idf):
                order[i] = vocab[term]
        matrix = bm25.matrix.tocsr()
        matrix.sort_indices()
        counts = np.zeros(len(vocab), np.int64)
        counts[order] = np.diff(matrix.indptr)
        indptr = np.concatenate([[0], np.cumsum(counts)])
        indices = np.empty(matrix.nnz, np.int32)
        weights = np.empty(matrix.nnz, np.float32)
        for local, shared in enumerate(order):
            lo, hi = matrix.indptr[local], matrix.indptr[local + 1]
            indices[indptr[shared]:indptr[shared] + hi - lo] = matrix.indices[lo:hi]
            weights[indptr[shared]:indptr[shared] + hi - lo] = matrix.data[lo:hi]
        idf = np.full(len(vocab), np.nan, np.float32)
        idf[order] = bm25.idf
        return cls(vocab, indptr, idf, indices, weights, matrix.shape[1])

    def scores(self, query_terms: Sequence[str], texts: np.ndarray, *,
               capped: bool = True) -> np.ndarray:
        """``BM25.scores(query_terms, texts, capped=capped)``, reading only the query's terms."""
        capped_scores, plain = self.both(query_terms, texts)
        return capped_scores if capped else plain

    def holds(self, query_terms: Sequence[str], text: int) -> list[bool]:
        """``BM25.holds``: whether text ``text`` holds each term, from its postings alone."""
        out = []
        for term in query_terms:
            t = self.vocab.get(term)
            if t is None or np.isnan(self.idf[t]):
                out.append(False)
                continue
            found_in = np.asarray(self.indices[int(self.indptr[t]):int(self.indptr[t + 1])])
            out.append(bool(np.any(found_in == text)))
        return out

    def both(self, query_terms: Sequence[str], texts: np.ndarray):
        """The capped and the plain scores of ``texts``, from one read of the postings."""
        cols = np.asarray(texts, np.int64)
        out = np.zeros(len(cols), np.float32)
        plain = np.zeros(len(cols), np.float32)
        unique = set(query_terms)
        ids = sorted({self.vocab[t] for t in unique if t in self.vocab
                      and not np.isnan(self.idf[self.vocab[t]])})
        if not unique:
            return out, plain
        q_idf = self.idf[ids] if ids else np.zeros(0, np.float32)
        best = float(q_idf.sum() + (len(unique) - len(ids)) * self.idf_max)
        if not ids or best <= 0:
            return out, plain
        for t, w_idf in zip(ids, q_idf):
            lo, hi = int(self.indptr[t]), int(self.indptr[t + 1])
            found_in = np.asarray(self.indices[lo:hi], np.int64)
            at = np.searchsorted(found_in, cols)
            found = (at < len(found_in)) & (found_in[np.minimum(at, len(found_in) - 1)] == cols)
            if not found.any():
                continue
            w = np.asarray(self.weights[lo:hi])[at[found]]
            out[found] += np.minimum(w, 1.0) * w_idf
            plain[found] += w * w_idf
        return out / best, plain / (best * (K1 + 1))
