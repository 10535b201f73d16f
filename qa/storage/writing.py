"""Writing the index folder (qa/storage/folder.py describes it): a new generation folder,
streamed to disk and hashed as written, then the manifest replaced atomically; commits to one
folder take turns under its lock."""
from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import tempfile
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import IndexFileError
from ..ingest.speakers import VERSION as SPEAKERS_VERSION
from . import FORMAT_VERSION, LOCK, MANIFEST, SEARCH_FILE
from .files import fsync, fsync_path, locked_file, sha256_file, write_durably, write_lines
from .stored import Snapshot, StoredDoc

ROWS = 8192  # vector rows written at a time


def save(path: Path, snap: Snapshot) -> str:
    """Write ``snap`` as the folder's next generation, under the folder's lock; its name."""
    with locked(path):
        return write(path, snap)


@contextmanager
def locked(path: Path):
    """Hold the folder's lock (creating the folder): commits to one folder take turns, across
    processes. Released when the block ends or the process dies."""
    with ExitStack() as held:
        try:
            path.mkdir(parents=True, exist_ok=True)
            # two writers on one folder would pick the same generation name
            held.enter_context(locked_file(path / LOCK, "a+b"))
        except OSError as e:  # e.g. a read-only folder: the caller may go on from memory
            raise _save_error(path, e) from None
        yield


def _read_umask() -> int:
    """The process's umask (read by setting it: there is no other way; set back at once). Read
    once, at import, before any thread of this process creates files."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _read_umask()


def write(path: Path, snap: Snapshot) -> str:
    """Write ``snap`` as the next generation and point the manifest at it (the caller holds
    ``locked(path)``); the generation's name. On an error nothing visible has changed."""
    return _save(path, snap)


def _save(path: Path, snap: Snapshot) -> str:
    gen = _next_generation(path)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=path))
    os.chmod(tmp, 0o777 & ~_UMASK)  # as any folder made here (mkdtemp's is the owner's only):
    # a chat under a service account reads what a reporter's `qa ingest` committed
    tmp_manifest = path / (MANIFEST + ".tmp")
    published = False
    try:
        # Streamed to disk and hashed as written (a 1M-sentence index is never held twice);
        # a full disk is an OSError like any other.
        digests = {"documents.jsonl": write_lines(tmp / "documents.jsonl", (
            json.dumps(_doc_row(d), ensure_ascii=False) + "\n" for d in snap.docs)),
            "spans.i64": write_lines(tmp / "spans.i64", (
                np.ascontiguousarray(d.bounds, "<i8").tobytes() for d in snap.docs)),
            **_write_rows(tmp / "vectors.f32", tmp / "vectors.sum", snap.vectors, snap.dim)}
        for name, data in snap.side.items():  # bytes, or parts of the file in order
            digests[name] = write_lines(tmp / name, [data] if isinstance(data, bytes) else data)
        if snap.search is not None:  # FAISS writes it to the file: no copy of it in memory
            snap.search.save(tmp / SEARCH_FILE)
            fsync_path(tmp / SEARCH_FILE)
            digests[SEARCH_FILE] = sha256_file(tmp / SEARCH_FILE)
        os.replace(tmp, path / gen)
        fsync_path(path)
        manifest = {
            "format": FORMAT_VERSION,
            "model": snap.model,
            "backend": snap.backend,
            "dimension": snap.dim,
            "documents": len(snap.docs),
            "sentences": int(len(snap.vectors)),
            "generation": gen,
            "hashes": {d.document.id: d.hash for d in snap.docs},
            "files": digests,
            **snap.extra,
        }
        write_durably(tmp_manifest, json.dumps(manifest, indent=1, ensure_ascii=False).encode("utf-8"))
        os.replace(tmp_manifest, path / MANIFEST)
        published = True
        fsync_path(path)
    except OSError as e:
        if not published:
            for leftover in (tmp, path / gen):
                shutil.rmtree(leftover, ignore_errors=True)
            tmp_manifest.unlink(missing_ok=True)
        raise _save_error(path, e) from None
    _remove_old_generations(path, keep=gen)
    return gen


def _doc_row(d: StoredDoc) -> dict[str, Any]:
    row = {"document": d.document.to_dict(), "hash": d.hash, "sentences": d.size}
    if d.speakers is not None:  # [sentence number, name] where someone is quoted or reported
        row["speakers"] = [[i, name] for i, name in enumerate(d.speakers) if name is not None]
        row["speakers_version"] = SPEAKERS_VERSION
    return row


def _save_error(path: Path, e: OSError) -> IndexFileError:
    return IndexFileError(f"could not save the index to {path}: {e.strerror or e}; the previous "
                          "index there is untouched. Free some disk space or choose another "
                          "--index folder")


def _next_generation(path: Path) -> str:
    nums = [int(p.name[1:]) for p in path.glob("g[0-9]*") if p.name[1:].isdigit()]
    return f"g{max(nums, default=0) + 1:06d}"


def _remove_old_generations(path: Path, keep: str) -> None:
    for p in path.iterdir():
        if p.is_dir() and p.name != keep and (p.name.startswith(".tmp-") or
                                              (p.name.startswith("g") and p.name[1:].isdigit())):
            shutil.rmtree(p, ignore_errors=True)


# Vectors files this process wrote: (device, inode) -> (rows, sha256 of the file, of its sums),
# so that the next commit copies such a file as its first rows and hashes only what follows
_WRITTEN: dict[tuple[int, int], tuple[int, Any, Any]] = {}


def _write_rows(p: Path, sums_file: Path, vectors, dim: int) -> dict[str, str]:
    """The vector rows as raw little-endian float32, a bounded number at a time, and their
    checksums; the two files' sha256. When the rows start with a whole vectors file this
    process wrote (a long ingest's last commit, read from disk), that file is copied by the
    kernel and its hashes taken up where they ended: each commit of a long ingest writes its
    new rows, not every row again."""
    from .rows import row_sums

    with open(p, "wb", buffering=0) as fh, open(sums_file, "wb") as fs:
        start, h, hs = _copy_written(vectors, fh, fs)
        for lo in range(start, len(vectors), ROWS):
            data = np.ascontiguousarray(vectors[lo:lo + ROWS], "<f4")
            if data.ndim != 2 or data.shape[1] != dim:
                raise ValueError(f"vector rows of shape {data.shape}, expected (*, {dim})")
            sums = row_sums(data).astype("<u8").tobytes()
            h.update(data.data)
            _write_all(fh, data.data)
            hs.update(sums)
            fs.write(sums)
        fsync(fh)
        fsync(fs)
        st = os.fstat(fh.fileno())
    while len(_WRITTEN) >= 4:  # the newest few: only a file still current is copied
        del _WRITTEN[next(iter(_WRITTEN))]
    _WRITTEN[(st.st_dev, st.st_ino)] = (len(vectors), h.copy(), hs.copy())
    return {p.name: h.hexdigest(), sums_file.name: hs.hexdigest()}


def _write_all(fh, data) -> None:
    """Write all of ``data`` to an unbuffered file (a raw write may take only part)."""
    view = memoryview(data).cast("B")
    while view:
        view = view[fh.write(view):]


def _copy_written(vectors, fh, fs) -> tuple[int, Any, Any]:
    """Copy the first rows of ``vectors`` into ``fh``/``fs`` when they are a whole vectors file
    this process wrote; the rows copied and the hashes so far (0 and new hashes otherwise)."""
    from .rows import RawRows, RowBlocks

    first = vectors.blocks[0] if isinstance(vectors, RowBlocks) and vectors.blocks else vectors
    if not isinstance(first, RawRows) or first.row0 or first.offset or first.checksums is None:
        return 0, hashlib.sha256(), hashlib.sha256()
    st = os.fstat(first.fd)
    known = _WRITTEN.get((st.st_dev, st.st_ino))
    size = len(first) * first.width
    if known is None or known[0] != len(first) or st.st_size != size:
        return 0, hashlib.sha256(), hashlib.sha256()
    at = 0
    try:
        while at < size:
            n = os.copy_file_range(first.fd, fh.fileno(), size - at, at)
            if not n:
                raise OSError(errno.EIO, f"{first.path} ended early")
            at += n
    except OSError as e:
        if e.errno not in (errno.EXDEV, errno.ENOSYS, errno.EOPNOTSUPP, errno.EINVAL):
            raise
        fh.seek(0)  # no kernel copy here: every row is written as usual
        fh.truncate()
        return 0, hashlib.sha256(), hashlib.sha256()
    fs.write(np.ascontiguousarray(first.checksums[:len(first)], "<u8").tobytes())
    return len(first), known[1].copy(), known[2].copy()
