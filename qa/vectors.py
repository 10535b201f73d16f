"""The vector store: the sentence vectors in a FAISS index whose kind is chosen by size.

    flat      exact inner product over float32 vectors: small corpora (up to FLAT_MAX sentences),
              where a scan takes a few milliseconds and nothing approximate is worth its error
    hnsw-sq4  HNSW graph over 4-bit scalar-quantized vectors: large corpora. An eighth of the
              memory of float32 for the vectors; the best RERANK candidates are re-scored with
              the exact float32 vectors when the caller has them (in memory, or read from disk
              with ``RawRows``). At 100k sentences 4-bit codes gave the same recall@10 after
              re-scoring as 8-bit ones (1.000 on-topic, 0.994 / 0.989 off-topic) for 192 bytes
              a sentence less, which is what keeps a 1M-sentence index under 1 GB
              (BENCHMARKS.md, "Speed and scale")
    hnsw-sq8  the same graph over 8-bit codes (the kind before; still read and built on request)

Why not IVF: questions sit far from the sentence clusters. On the 41.8k BBC sentences an inverted
file with a quarter of its cells probed had recall@10 0.92 (BBC and WikiQA questions, measured).

Every store is one FAISS index, saved with FAISS's own format (no pickle); its kind and search
setting travel inside that file. The interface is small on purpose - ``build``, ``search``,
``save``, ``load`` - so another engine (README, "Beyond one machine") is a new class, not a rewrite.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

from .errors import IndexFileError

log = logging.getLogger(__name__)

FLAT_MAX = 50_000
HNSW_M = 32  # graph degree: 16 saves 128 bytes a sentence and needs a larger search for recall
EF_CONSTRUCTION = 160  # 1M: built in 670 s, not 450 s as with 80; off-topic recall 0.92 -> 0.99
SQ_TRAIN = 20_000  # sample for the 8-bit quantizer's per-dimension ranges
RERANK = 40  # candidates re-scored exactly, at least; 4 k when k is larger
EXACT_ROWS = 20_000  # a search among at most this many rows scores them exactly
SEED = 1234
QUANTIZERS = {"hnsw-sq4": "QT_4bit", "hnsw-sq8": "QT_8bit"}


def choose_kind(n: int) -> str:
    return "flat" if n <= FLAT_MAX else "hnsw-sq4"


def ef_search_for(n: int) -> int:
    """Graph search breadth: recall@10 >= 0.98 after re-scoring for questions about the corpus
    at 100k and 1M sentences (BENCHMARKS.md)."""
    return 512 if n <= 300_000 else 1536


class VectorStore:
    """Unit vectors in rows 0..n-1; ``search`` gives the best rows by inner product (cosine).

    ``exact``: the same vectors in float32 (an (n, dim) array, or ``OnDiskVectors``), used to
    re-score an approximate index's candidates and for searches restricted to a few rows;
    optional."""

    def __init__(self, index, kind: str, exact: np.ndarray | None = None):
        self.index = index
        self.kind = kind
        self.exact = exact

    # ---- construction -------------------------------------------------------------------
    @classmethod
    def build(cls, matrix: np.ndarray, dim: int | None = None, *, kind: str | None = None,
              keep_exact: bool = True) -> "VectorStore":
        import faiss

        matrix = np.ascontiguousarray(matrix, dtype=np.float32)
        dim = int(matrix.shape[1]) if matrix.ndim == 2 and matrix.shape[1] else int(dim or 1)
        kind = kind or choose_kind(len(matrix))
        if kind == "flat":
            index = faiss.IndexFlatIP(dim)
        elif kind in QUANTIZERS:
            index = faiss.IndexHNSWSQ(dim, getattr(faiss.ScalarQuantizer, QUANTIZERS[kind]),
                                      HNSW_M, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = EF_CONSTRUCTION
            index.hnsw.efSearch = ef_search_for(len(matrix))
            index.train(_sample(matrix, SQ_TRAIN))
        else:
            raise ValueError(f"unknown vector store kind {kind!r}")
        if len(matrix):
            index.add(matrix)
        log.info("vector store %s: %d vectors of dimension %d", kind, len(matrix), dim)
        return cls(index, kind, matrix if keep_exact and kind != "flat" else None)

    @classmethod
    def load(cls, path: Path, exact: np.ndarray | None = None) -> "VectorStore":
        import faiss

        try:
            index = faiss.read_index(str(path))
        except RuntimeError as e:
            raise IndexFileError(f"{path} is not a readable FAISS index ({_last_line(e)}); "
                                 "rebuild the index with `qa ingest --rebuild`") from None
        return cls(index, _kind_of(index), exact)

    @classmethod
    def from_bytes(cls, data: bytes, exact: np.ndarray | None = None) -> "VectorStore":
        import faiss

        try:
            index = faiss.deserialize_index(np.frombuffer(data, dtype=np.uint8))
        except RuntimeError as e:
            raise IndexFileError(f"the saved search index is not readable ({_last_line(e)}); "
                                 "rebuild the index with `qa ingest --rebuild`") from None
        return cls(index, _kind_of(index), exact)

    def to_bytes(self) -> bytes:
        import faiss

        return faiss.serialize_index(self.index).tobytes()

    def save(self, path: Path) -> None:
        import faiss

        faiss.write_index(self.index, str(path))

    def extended(self, vectors: np.ndarray, exact: np.ndarray | None = None) -> "VectorStore":
        """A copy with ``vectors`` appended as the next rows (this store is left as it is, so
        searches running on it are not disturbed)."""
        import faiss

        index = faiss.clone_index(self.index)
        if len(vectors):
            index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        return VectorStore(index, self.kind, exact if exact is not None else self.exact)

    # ---- use ----------------------------------------------------------------------------
    @property
    def ntotal(self) -> int:
        return int(self.index.ntotal)

    @property
    def dim(self) -> int:
        return int(self.index.d)

    @property
    def nbytes(self) -> int:
        """Memory the index takes: vectors or codes, and graph links (not ``exact``)."""
        import faiss

        if self.kind == "flat":
            return self.ntotal * self.dim * 4
        links = int(self.index.hnsw.neighbors.size()) * 4 + self.ntotal * 12  # + offsets, levels
        return self.ntotal * int(faiss.downcast_index(self.index.storage).code_size) + links

    def candidates(self, query: np.ndarray, n: int, rows: np.ndarray | None = None) -> np.ndarray:
        """Up to ``n`` rows nearest ``query`` by the store's own scores (approximate for a graph:
        the caller re-scores them), nearest first; only among ``rows`` when given."""
        query = np.ascontiguousarray(np.atleast_2d(query)[:1], dtype=np.float32)
        n = min(n, self.ntotal if rows is None else len(rows))
        if n <= 0:
            return np.zeros(0, np.int64)
        if rows is not None and self.exact is not None and len(rows) <= EXACT_ROWS:
            rows = np.asarray(rows, dtype=np.int64)
            return _best(query @ np.asarray(self.exact[rows]).T, rows, n)[1][0]
        _, ids = _search(self.index, query, n, self._params(rows))
        return ids[0][ids[0] >= 0]

    def _params(self, rows: np.ndarray | None):
        import faiss

        if rows is None:
            return None
        sel = faiss.IDSelectorBatch(np.asarray(rows, dtype=np.int64))
        return faiss.SearchParameters(sel=sel) if self.kind == "flat" else \
            faiss.SearchParametersHNSW(sel=sel, efSearch=self.index.hnsw.efSearch * 2)

    def search(self, queries: np.ndarray, k: int, rows: np.ndarray | None = None):
        """(scores, row numbers), each (len(queries), k), best first; only among ``rows`` when
        given. Row -1 (score -inf) pads when fewer rows than k exist."""
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        k = min(k, self.ntotal if rows is None else len(rows))
        if k <= 0:
            empty = np.zeros((len(queries), 0))
            return empty.astype(np.float32), empty.astype(np.int64)
        if rows is not None and self.kind != "flat" and self.exact is not None:
            rows = np.asarray(rows, dtype=np.int64)
            return _best(queries @ np.asarray(self.exact[rows]).T, rows, k)
        params = self._params(rows)
        if self.kind == "flat" or self.exact is None:
            return _search(self.index, queries, k, params)
        _, candidates = _search(self.index, queries, max(RERANK, 4 * k), params)
        scores = np.full((len(queries), k), -np.inf, np.float32)
        ids = np.full((len(queries), k), -1, np.int64)
        for q, cand in enumerate(candidates):
            cand = np.sort(cand[cand >= 0])  # sorted rows read a memory map in order
            s, i = _best(queries[q:q + 1] @ np.asarray(self.exact[cand]).T, cand, k)
            scores[q, :s.shape[1]], ids[q, :s.shape[1]] = s[0], i[0]
        return scores, ids


class RawRows:
    """Rows of a raw little-endian matrix file (``shape``, ``dtype``, from byte ``offset``), read
    from disk on demand with ``pread``: a few hundred rows a question, so the matrix needs no
    memory (unlike a memory map, whose pages, with the kernel's fault-around, stay in the
    process's resident set). The file is opened once: it stays readable after a save removes
    its generation folder. ``view(start, count)`` is a window on the same file."""

    def __init__(self, path: Path, shape: tuple[int, ...], dtype="<f4", offset: int = 0, *,
                 checksums: np.ndarray | None = None, _fd: int | None = None):
        """``checksums``: ``row_sums`` of every row; each row read is checked against its own
        (``IndexFileError`` on a mismatch), so a large file need not be hashed whole on open."""
        self.path = Path(path)
        self.checksums = checksums
        self.row0 = 0  # this view's first row in the file (for its checksums)
        self.shape = tuple(int(x) for x in shape)
        self.dtype = np.dtype(dtype)
        self.offset = int(offset)
        self._width = self.dtype.itemsize * int(np.prod(self.shape[1:], dtype=np.int64))
        if _fd is None:
            size = os.path.getsize(self.path)
            if size < self.offset + self._width * self.shape[0]:
                raise IndexFileError(f"{self.path} holds {size} bytes, fewer than its "
                                     f"{self.shape[0]} rows need; rebuild the index with "
                                     "`qa ingest --rebuild`")
            self._owner = _Fd(os.open(self.path, os.O_RDONLY))
        else:
            self._owner = _fd
        self.ndim = len(self.shape)

    def view(self, start: int, count: int) -> "RawRows":
        view = object.__new__(RawRows)  # no checks to repeat: one per article at 1M sentences
        view.__dict__.update(self.__dict__)
        view.shape = (count, *self.shape[1:])
        view.offset = self.offset + start * self._width
        view.row0 = self.row0 + start
        return view

    def __len__(self) -> int:
        return self.shape[0]

    def __array__(self, dtype=None, copy=None):
        out = self.read(0, len(self))
        return out if dtype is None else out.astype(dtype, copy=False)

    def read(self, lo: int, hi: int) -> np.ndarray:
        """Rows ``lo`` to ``hi`` (one read)."""
        lo, hi = max(0, lo), min(len(self), hi)
        n = max(0, hi - lo)
        data = _pread(self._owner.fd, n * self._width, self.offset + lo * self._width)
        out = np.frombuffer(data, self.dtype).reshape((n, *self.shape[1:])).copy()
        self._verify(out, np.arange(lo, lo + n))
        return out

    def _verify(self, block: np.ndarray, rows: np.ndarray) -> None:
        if self.checksums is None or not len(rows):
            return
        bad = np.flatnonzero(row_sums(block) != self.checksums[self.row0 + rows])
        if len(bad):
            raise IndexFileError(f"{self.path} is damaged: row {self.row0 + rows[bad[0]]} is not "
                                 "the one that was saved (checksum differs); rebuild the index "
                                 "with `qa ingest --rebuild`")

    def __getitem__(self, rows) -> np.ndarray:
        if isinstance(rows, slice):
            lo, hi, step = rows.indices(len(self))
            out = self.read(lo, hi)
            return out[::step] if step != 1 else out
        rows = np.atleast_1d(np.asarray(rows, dtype=np.int64))
        if len(rows) and (rows.min() < 0 or rows.max() >= len(self)):
            raise IndexError(f"row out of range 0..{len(self) - 1}")
        order = np.argsort(rows, kind="stable")
        srt = rows[order]
        distinct = srt[np.concatenate([[True], srt[1:] != srt[:-1]])] if len(srt) else srt
        # runs of neighbouring rows, each read with one pread straight into the buffer
        breaks = np.flatnonzero(np.diff(distinct) > 1) + 1
        lo = distinct[np.concatenate([[0], breaks])] if len(distinct) else distinct
        hi = distinct[np.concatenate([breaks - 1, [len(distinct) - 1]])] + 1 if len(distinct) \
            else distinct
        buf = np.empty((len(distinct), *self.shape[1:]), self.dtype)
        view = memoryview(buf.reshape(-1).view(np.uint8))
        at, width, fd, base = 0, self._width, self._owner.fd, self.offset
        for a, b in zip(lo.tolist(), hi.tolist()):
            size = (b - a) * width
            if os.preadv(fd, [view[at:at + size]], base + a * width) != size:
                raise IndexFileError(f"{self.path} ended early; rebuild the index with "
                                     "`qa ingest --rebuild`")
            at += size
        self._verify(buf, distinct)
        out = np.empty((len(rows), *self.shape[1:]), self.dtype)
        out[order] = buf[np.searchsorted(distinct, srt)]
        return out


def row_sums(block: np.ndarray) -> np.ndarray:
    """A checksum of each row of a float32 block: its 32-bit words times fixed odd weights,
    summed modulo 2**64 (a changed word or two swapped ones change it). Cheap enough to check
    every row a question reads."""
    words = np.ascontiguousarray(block).reshape(len(block), -1).view(np.uint32)
    weights = np.arange(words.shape[1], dtype=np.uint64) * np.uint64(2654435761) | np.uint64(1)
    out = np.empty(len(words), np.uint64)
    for lo in range(0, len(words), 4096):  # bounded temporaries: a whole index is checked on open
        out[lo:lo + 4096] = (words[lo:lo + 4096].astype(np.uint64) * weights).sum(axis=1,
                                                                               dtype=np.uint64)
    return out


class OnDiskVectors(RawRows):
    """The rows of a float32 ``.npy`` matrix, read on demand (``RawRows``)."""

    def __init__(self, path: Path):
        with open(path, "rb") as fh:
            version = np.lib.format.read_magic(fh)
            read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else \
                np.lib.format.read_array_header_2_0
            shape, fortran, dtype = read_header(fh)
            offset = fh.tell()
        if fortran or dtype != np.float32 or len(shape) != 2:
            raise IndexFileError(f"{path} is not a float32 matrix; rebuild the index")
        super().__init__(path, shape, np.float32, offset)


class _Fd:
    """An open file descriptor shared by views, closed with the last of them."""

    def __init__(self, fd: int):
        self.fd = fd

    def __del__(self):
        os.close(self.fd)


def _pread(fd: int, size: int, offset: int) -> bytes:
    data = os.pread(fd, size, offset)
    while len(data) < size:  # pread may return less than asked
        more = os.pread(fd, size - len(data), offset + len(data))
        if not more:
            raise IndexFileError(f"an index file ended early (read {len(data)} of {size} bytes); "
                                 "rebuild the index with `qa ingest --rebuild`")
        data += more
    return data


class RowBlocks:
    """Several row sources (arrays or ``RawRows``) read as one matrix, without copying them:
    the vectors of an index whose older articles stay on disk and newer ones are in memory."""

    def __init__(self, blocks: list, dim: int):
        self.blocks = [b for b in blocks if len(b)]
        self.dim = dim
        self.starts = np.cumsum([0] + [len(b) for b in self.blocks])
        self.shape = (int(self.starts[-1]), dim)
        self.ndim = 2

    def __len__(self) -> int:
        return self.shape[0]

    def chunks(self, size: int = 8192):
        """The rows in order, a bounded number at a time."""
        for b in self.blocks:
            for lo in range(0, len(b), size):
                yield np.ascontiguousarray(b[lo:lo + size], np.float32)

    def __array__(self, dtype=None, copy=None):
        if not self.blocks:
            return np.zeros((0, self.dim), dtype or np.float32)
        out = np.concatenate(list(self.chunks()))
        return out if dtype is None else out.astype(dtype, copy=False)

    def __getitem__(self, rows) -> np.ndarray:
        if isinstance(rows, slice):
            rows = np.arange(*rows.indices(len(self)))
        rows = np.atleast_1d(np.asarray(rows, dtype=np.int64))
        out = np.empty((len(rows), self.dim), np.float32)
        which = np.searchsorted(self.starts, rows, side="right") - 1
        for b in np.unique(which):
            sel = np.flatnonzero(which == b)
            out[sel] = self.blocks[b][rows[sel] - self.starts[b]]
        return out


def _search(index, queries: np.ndarray, k: int, params):
    """``index.search``; one question runs on one thread. FAISS parallelises over questions, so
    for one the other OpenMP threads only wait - and on a busy CPU their waiting costs more than
    the search (measured: 10k flat, p50 20 ms with 2 threads, 0.6 ms with 1)."""
    import faiss

    if len(queries) > 1:
        return index.search(queries, k, params=params)
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        return index.search(queries, k, params=params)
    finally:
        faiss.omp_set_num_threads(threads)


def _best(scores: np.ndarray, rows: np.ndarray, k: int):
    """Top ``k`` of each row of ``scores`` (columns are ``rows``), best first."""
    k = min(k, scores.shape[1])
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    top = np.take_along_axis(scores, part, 1)
    order = np.argsort(-top, axis=1, kind="stable")
    return np.take_along_axis(top, order, 1).astype(np.float32), rows[np.take_along_axis(part, order, 1)]


def _sample(matrix: np.ndarray, n: int) -> np.ndarray:
    if len(matrix) <= n:
        return matrix
    pick = np.random.default_rng(SEED).choice(len(matrix), n, replace=False)
    return matrix[np.sort(pick)]


def _kind_of(index) -> str:
    import faiss

    if isinstance(index, faiss.IndexFlat):
        return "flat"
    if isinstance(index, faiss.IndexHNSWSQ):
        qtype = faiss.downcast_index(index.storage).sq.qtype
        for kind, name in QUANTIZERS.items():
            if qtype == getattr(faiss.ScalarQuantizer, name):
                return kind
    raise IndexFileError(f"unexpected FAISS index type {type(index).__name__}; rebuild the index "
                         "with `qa ingest --rebuild`")


def _last_line(e: Exception) -> str:
    lines = str(e).strip().splitlines()
    return lines[-1][:200] if lines else type(e).__name__
