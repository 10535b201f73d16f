"""Vector rows read where they are: a raw matrix file read row by row (``RawRows``), checked
against per-row checksums (``row_sums``), and several blocks read as one matrix (``RowBlocks``)."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import IndexFileError


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

    @property
    def fd(self) -> int:
        """The open file's descriptor (valid while this view lives)."""
        return self._owner.fd

    @property
    def width(self) -> int:
        """Bytes a row."""
        return self._width

    def followed_by(self, other) -> "RawRows | None":
        """One view of this one's rows and then ``other``'s, when ``other`` is the next rows
        of the same file; else None."""
        if not isinstance(other, RawRows) or other._owner is not self._owner or \
                other.offset != self.offset + len(self) * self._width or \
                other.row0 != self.row0 + len(self):
            return None
        return self.view(0, len(self) + len(other))

    def chunks(self, size: int = 8192):
        """The rows in order, a bounded number at a time."""
        for lo in range(0, len(self), size):
            yield self.read(lo, lo + size)

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
        self.blocks = []
        for b in blocks:  # an ingest's committed articles are views of one file: one block
            if not len(b):
                continue
            joined = self.blocks[-1].followed_by(b) if self.blocks and \
                isinstance(self.blocks[-1], RawRows) else None
            if joined is not None:
                self.blocks[-1] = joined
            else:
                self.blocks.append(b)
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
