"""Small file helpers the storage and the model caches share: hashing, locking, durable writes."""
from __future__ import annotations

import hashlib
import os
from contextlib import contextmanager
from pathlib import Path

CHUNK = 8 << 20  # bytes read or written at a time


def sha256_file(path: Path) -> str:
    """A file's sha256, read in blocks (model weights and vectors can be large)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


@contextmanager
def locked_file(path: Path, mode: str = "w"):
    """Hold an exclusive lock on ``path`` (created), across processes, for the block; released
    when it ends or the process dies. Where there is no ``fcntl`` (not POSIX) nothing is
    locked: writers then do not take turns."""
    with open(path, mode) as fh:
        try:
            import fcntl
        except ImportError:
            yield fh
            return
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        yield fh


def write_durably(p: Path, data: bytes) -> str:
    """Write ``data`` to ``p`` and fsync it; its sha256."""
    with open(p, "wb") as fh:
        fh.write(data)
        fsync(fh)
    return hashlib.sha256(data).hexdigest()


def write_lines(p: Path, lines) -> str:
    """Write ``lines`` (str, or bytes-like) to ``p``, hashing them as written, and fsync; the
    sha256."""
    h = hashlib.sha256()
    with open(p, "wb") as fh:
        for line in lines:
            data = line.encode("utf-8", "surrogatepass") if isinstance(line, str) else line
            h.update(data)
            fh.write(data)
        fsync(fh)
    return h.hexdigest()


def fsync(fh) -> None:
    fh.flush()
    os.fsync(fh.fileno())


def fsync_path(p: Path) -> None:
    fd = os.open(p, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def last_line(e: Exception) -> str:
    """The last line of an error's message, at most 200 characters (FAISS and json errors run
    long), or its type's name."""
    text = str(e).strip().splitlines()
    return text[-1][:200] if text else type(e).__name__
