"""The index folder on disk.

    index/
      manifest.json        format version, model, dimension, counts, per-document hashes,
                           fingerprint, and which generation folder is current
      g000007/documents.jsonl   one article a line: its metadata, text, sentence count and
                                who says which sentence
      g000007/spans.i64         every sentence's (start, end) offsets, raw int64, in row order
      g000007/vectors.f32       the sentence vectors: raw little-endian float32, (sentences,
                                dimension), in document order. Read row by row from disk where
                                the index is large (qa/vectors.py ``RawRows``), never pickled
      g000007/vectors.sum       a checksum of each vector row (uint64, ``qa.vectors.row_sums``)
      g000007/search.faiss      large indexes only: the approximate search index over the same
                                rows (qa/vectors.py), so opening does not rebuild it
      g000007/rank.*            large indexes only: what ranking needs about the whole corpus
                                (article centroids, BM25 postings), written at ingest so the
                                first question does not compute it (qa/corpus.py)
      .lock                held (flock) by a commit, so commits to one folder take turns

Several processes share one folder. A save is a commit (``qa.Index.save``): under the lock it
reads the newest manifest, applies the saving process's own changes on top of that state and
writes the result as the next generation, so no writer drops another's articles. Readers notice
a new manifest (one ``stat`` a question) and switch to it.

A save writes a new generation folder, then replaces manifest.json atomically (write, fsync,
rename). A crash at any point leaves the previous manifest pointing at the previous, complete
generation. The manifest records the sha256 of every generation file, so a damaged or edited file
is refused on open instead of giving wrong answers (files are hashed as they are streamed, so a
large index is never held twice in memory while it is checked). The one exception is a vectors
file over EAGER_HASH_MAX: each of its rows is checked against ``vectors.sum`` (hashed on open)
when it is read, so a damaged row is refused when a question reaches it. Saves to one folder take turns (a lock file);
a reader that finds its generation just replaced by a writer reads the new one. Nothing here is
pickled or executed: JSON, raw arrays, and FAISS's own format.

Format 2 (this one) differs from format 1 in the vectors file (raw float32 instead of a flat FAISS
index), the speakers stored per sentence, the ``backend`` in the manifest and the ranking files of
large indexes. A format-1 index is refused with the rebuild command.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .errors import IndexFileError
from .types import Document, Span

FORMAT_VERSION = 2
MANIFEST = "manifest.json"
LOCK = ".lock"
FILES = ("documents.jsonl", "spans.i64", "vectors.f32", "vectors.sum")
# vectors.f32 larger than this is not hashed whole on open: each row is checked against its
# checksum in vectors.sum (itself hashed) when it is read. 1.5 GB at 1M sentences took 1-2 s.
EAGER_HASH_MAX = 256 << 20
SEARCH_FILE = "search.faiss"  # optional
CHUNK = 8 << 20  # bytes read or written at a time
ROWS = 8192  # vector rows written at a time


@dataclass
class StoredDoc:
    """An article as the index keeps it: its sentences as an (n, 2) int32 array of offsets (not
    one object per sentence), and who says each (``None``: not computed)."""

    document: Document
    hash: str
    bounds: np.ndarray
    speakers: list[str | None] | None = None

    @classmethod
    def of(cls, document: Document, hash: str, spans: list[Span],
           speakers: list[str | None] | None = None) -> "StoredDoc":
        bounds = np.array([[s.start, s.end] for s in spans], np.int64).reshape(-1, 2)
        return cls(document, hash, bounds, speakers)

    @property
    def spans(self) -> list[Span]:
        return [Span(int(s), int(e)) for s, e in self.bounds]

    @property
    def size(self) -> int:
        return len(self.bounds)


@dataclass
class Snapshot:
    """Everything an index holds, in memory."""

    model: str
    dim: int
    docs: list[StoredDoc]
    vectors: Any  # (sum of spans, dim) float32 rows in document order: an array, or read from
    # disk (qa.vectors.RawRows, RowBlocks); anything with len() and row slices
    extra: dict[str, Any] = field(default_factory=dict)  # fingerprint, seed ids, ...
    search: Any = None  # a qa.vectors.VectorStore over ``vectors`` worth keeping, or None
    backend: str | None = None  # the encoder backend that embedded the vectors, when known
    generation: str | None = None  # the generation folder it was read from (None: not saved)
    side: dict[str, Any] = field(default_factory=dict)  # more generation files: name -> bytes
    # when saving; name -> Path (checksum verified) when loaded


def rebuild_hint(path: Path) -> str:
    return f"rebuild it with `qa ingest --rebuild --index {path} PATH...` (or delete the folder)"


def save(path: Path, snap: Snapshot) -> str:
    """Write ``snap`` as the folder's next generation, under the folder's lock; its name."""
    with locked(path):
        return write(path, snap)


@contextmanager
def locked(path: Path):
    """Hold the folder's lock (creating the folder): commits to one folder take turns, across
    processes. Released when the block ends or the process dies."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        lock = open(path / LOCK, "a+b")
    except OSError as e:  # e.g. a read-only folder: the caller may go on from memory
        raise _save_error(path, e) from None
    with lock:
        _flock(lock)  # two writers on one folder would pick the same generation name
        yield


def current_generation(path: Path) -> str | None:
    """The generation the folder's manifest names now; None when there is no index there."""
    if not (path / MANIFEST).is_file():
        return None
    return read_manifest(path)["generation"]


def write(path: Path, snap: Snapshot) -> str:
    """Write ``snap`` as the next generation and point the manifest at it (the caller holds
    ``locked(path)``); the generation's name. On an error nothing visible has changed."""
    return _save(path, snap)


def _save(path: Path, snap: Snapshot) -> str:
    gen = _next_generation(path)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=path))
    tmp_manifest = path / (MANIFEST + ".tmp")
    published = False
    try:
        # Streamed to disk and hashed as written (a 1M-sentence index is never held twice);
        # a full disk is an OSError like any other.
        digests = {"documents.jsonl": _write_lines(tmp / "documents.jsonl", (
            json.dumps(_doc_row(d), ensure_ascii=False) + "\n" for d in snap.docs)),
            "spans.i64": _write_lines(tmp / "spans.i64", (
                np.ascontiguousarray(d.bounds, "<i8").tobytes() for d in snap.docs)),
            **_write_rows(tmp / "vectors.f32", tmp / "vectors.sum", snap.vectors, snap.dim)}
        extra_files = dict(snap.side)
        if snap.search is not None:
            extra_files[SEARCH_FILE] = snap.search.to_bytes()
        for name, data in extra_files.items():
            digests[name] = _write(tmp / name, data)
        os.replace(tmp, path / gen)
        _fsync_path(path)
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
        _write(tmp_manifest, json.dumps(manifest, indent=1, ensure_ascii=False).encode("utf-8"))
        os.replace(tmp_manifest, path / MANIFEST)
        published = True
        _fsync_path(path)
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
    return row


def _save_error(path: Path, e: OSError) -> IndexFileError:
    return IndexFileError(f"could not save the index to {path}: {e.strerror or e}; the previous "
                          "index there is untouched. Free some disk space or choose another "
                          "--index folder")


def load(path: Path, attempts: int = 3) -> Snapshot:
    """The saved index. When a writer replaces the generation between reading the manifest and
    reading its files, the new generation is read instead (up to ``attempts`` reads)."""
    manifest = read_manifest(path)
    for _ in range(attempts):
        try:
            return _load(path, manifest)
        except FileNotFoundError:
            newer = read_manifest(path)
            if newer["generation"] == manifest["generation"]:
                raise IndexFileError(f"index at {path} is damaged: its generation folder "
                                     f"{manifest['generation']}/ or a file in it is missing; "
                                     f"{rebuild_hint(path)}") from None
            manifest = newer
        except OSError as e:
            raise IndexFileError(f"index at {path} cannot be read ({e.strerror or e}); check the "
                                 f"folder's permissions, or {rebuild_hint(path)}") from None
    raise IndexFileError(f"index at {path} changed {attempts} times while being opened; try again")


def _load(path: Path, manifest: dict[str, Any]) -> Snapshot:
    from .vectors import RawRows

    gen_dir = path / manifest["generation"]
    digests = manifest.get("files") or {}
    names = [n for n in digests if n != "documents.jsonl"] + \
        [n for n in FILES if n not in digests and n != "documents.jsonl"]
    # a large vectors file is checked row by row as it is read, against vectors.sum
    lazy = "vectors.sum" in digests and (gen_dir / "vectors.f32").is_file() and \
        (gen_dir / "vectors.f32").stat().st_size > EAGER_HASH_MAX
    for name in names:
        if "/" in name or name.startswith("."):  # never a path out of the generation folder
            raise IndexFileError(f"index at {path} names a file {name!r}; {rebuild_hint(path)}")
    # The other files are hashed on a second thread while the documents are parsed (hashlib
    # lets go of the GIL): a 1M-sentence index holds 2.4 GB to check.
    with ThreadPoolExecutor(1) as pool:
        hashed = pool.map(_hash_file, [gen_dir / name for name in names
                                       if not (lazy and name == "vectors.f32")])
        try:
            rows, digest = _read_documents(gen_dir / "documents.jsonl")
            spans = np.fromfile(gen_dir / "spans.i64", "<i8").reshape(-1, 2)
        except (ValueError, KeyError, TypeError) as e:
            raise IndexFileError(f"index at {path} is damaged ({type(e).__name__}: "
                                 f"{_short(e)}); {rebuild_hint(path)}") from None
        _check_digest(path, manifest, "documents.jsonl", digest)
        for name, digest in zip([n for n in names if not (lazy and n == "vectors.f32")], hashed):
            _check_digest(path, manifest, name, digest)
    side = {name: gen_dir / name for name in names}
    n = sum(size for _, _, size, _ in rows)
    if len(spans) != n:
        raise IndexFileError(f"index at {path} is inconsistent: its documents have {n} sentences, "
                             f"spans.i64 holds {len(spans)}; {rebuild_hint(path)}")
    try:
        docs = _stored_docs(rows, spans)
    except ValueError as e:
        raise IndexFileError(f"index at {path} is damaged ({_short(e)}); "
                             f"{rebuild_hint(path)}") from None
    side.pop("spans.i64")
    dim = manifest["dimension"]
    size = side["vectors.f32"].stat().st_size
    if manifest.get("sentences") != n or len(docs) != manifest.get("documents") or \
            size != n * dim * 4:
        raise IndexFileError(f"index at {path} is inconsistent: manifest says "
                             f"{manifest.get('documents')} documents / {manifest.get('sentences')} "
                             f"sentences of dimension {dim}, the files hold {len(docs)} / {n} "
                             f"stored and {size} bytes of vectors ({n * dim * 4} expected); "
                             f"{rebuild_hint(path)}")
    if manifest.get("hashes") != {d.document.id: d.hash for d in docs}:
        raise IndexFileError(f"index at {path} is inconsistent: the manifest's document hashes do "
                             f"not match the stored documents; {rebuild_hint(path)}")
    sums = np.fromfile(side.pop("vectors.sum"), "<u8") if "vectors.sum" in side else None
    if sums is not None and len(sums) != n:
        raise IndexFileError(f"index at {path} is inconsistent: vectors.sum holds {len(sums)} "
                             f"rows, the store {n}; {rebuild_hint(path)}")
    vectors = RawRows(side.pop("vectors.f32"), (n, dim), "<f4", checksums=sums)
    known = {"format", "model", "backend", "dimension", "documents", "sentences", "generation",
             "hashes", "files"}
    extra = {k: v for k, v in manifest.items() if k not in known}
    search = _load_search(path, side.pop(SEARCH_FILE, None), vectors)
    return Snapshot(model=manifest["model"], dim=int(dim), docs=docs, vectors=vectors,
                    extra=extra, search=search, backend=manifest.get("backend"),
                    generation=manifest["generation"], side=side)


def _read_documents(f: Path) -> tuple[list, str]:
    """The stored documents' rows, parsed line by line as the file is hashed."""
    h = hashlib.sha256()
    rows = []
    with open(f, "rb") as fh:
        for line in fh:
            h.update(line)
            if line.strip():
                rows.append(_doc_fields(line.decode("utf-8", "surrogatepass")))
    return rows, h.hexdigest()


def _hash_file(f: Path) -> str:
    h = hashlib.sha256()
    with open(f, "rb") as fh:
        while chunk := fh.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _check_digest(path: Path, manifest: dict[str, Any], name: str, digest: str) -> None:
    want = (manifest.get("files") or {}).get(name)
    if want is not None and want != digest:
        raise IndexFileError(f"index at {path} is damaged: {manifest['generation']}/{name} is "
                             f"not the file that was saved (checksum differs); "
                             f"{rebuild_hint(path)}")


def _load_search(path: Path, f: Path | None, vectors):
    from .vectors import VectorStore

    if f is None:
        return None
    search = VectorStore.load(f, exact=vectors)  # read from the file: no copy of it in memory
    if search.ntotal != len(vectors) or search.dim != vectors.shape[1]:
        raise IndexFileError(f"index at {path} is inconsistent: {SEARCH_FILE} holds "
                             f"{search.ntotal} vectors, the store {len(vectors)}; "
                             f"{rebuild_hint(path)}")
    return search


def earlier_documents(path: Path) -> list[Document]:
    """The articles of an index written by an earlier format (1), to be embedded again; [] when
    there is no such index or it cannot be read."""
    try:
        manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
        if manifest.get("format") != 1:
            return []
        docs = []
        with open(path / str(manifest["generation"]) / "documents.jsonl", encoding="utf-8",
                  errors="surrogatepass") as fh:
            for line in fh:
                if line.strip():
                    docs.append(Document(**json.loads(line)["document"]))
        return docs
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return []


def set_aside(path: Path) -> Path:
    """Move a damaged index folder out of the way, files and all: ``index.damaged-1``, ..."""
    n = 1
    while path.with_name(f"{path.name}.damaged-{n}").exists():
        n += 1
    target = path.with_name(f"{path.name}.damaged-{n}")
    path.rename(target)
    return target


def read_manifest(path: Path) -> dict[str, Any]:
    f = path / MANIFEST
    if not f.is_file():
        raise IndexFileError(f"no index at {path} (no {MANIFEST}); build one with "
                             f"`qa ingest --index {path} PATH...`")
    try:
        manifest = json.loads(f.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise IndexFileError(f"{f} is not readable JSON ({_short(e)}); {rebuild_hint(path)}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_VERSION:
        version = manifest.get("format") if isinstance(manifest, dict) else None
        raise IndexFileError(f"{f} has format {version!r}, this version reads format "
                             f"{FORMAT_VERSION}; {rebuild_hint(path)}")
    for key, kind in (("model", str), ("dimension", int), ("generation", str), ("files", dict)):
        if not isinstance(manifest.get(key, {}), kind):
            raise IndexFileError(f"{f} lacks a valid {key!r}; {rebuild_hint(path)}")
    if not re.fullmatch(r"g\d+", manifest["generation"]):  # never a path out of the folder
        raise IndexFileError(f"{f} names generation {manifest['generation']!r}, not a folder "
                             f"like g000001; {rebuild_hint(path)}")
    return manifest


def _next_generation(path: Path) -> str:
    nums = [int(p.name[1:]) for p in path.glob("g[0-9]*") if p.name[1:].isdigit()]
    return f"g{max(nums, default=0) + 1:06d}"


def _remove_old_generations(path: Path, keep: str) -> None:
    for p in path.iterdir():
        if p.is_dir() and p.name != keep and (p.name.startswith(".tmp-") or
                                              (p.name.startswith("g") and p.name[1:].isdigit())):
            shutil.rmtree(p, ignore_errors=True)


def _doc_fields(line: str) -> tuple[Document, str, int, list | None]:
    row = json.loads(line)
    doc = Document(**row["document"])
    size, speakers = row["sentences"], row.get("speakers")
    if not isinstance(doc.id, str) or not isinstance(doc.text, str) or \
            not isinstance(row["hash"], str) or not isinstance(size, int) or size < 0:
        raise TypeError(f"document {doc.id!r}: id, text and hash must be strings, sentences a "
                        "count")
    if speakers is not None:
        who: list[str | None] = [None] * size
        for i, name in speakers:
            if not isinstance(name, str) or not isinstance(i, int) or not 0 <= i < size:
                raise ValueError(f"document {doc.id!r} is inconsistent: speaker {name!r} of "
                                 f"sentence {i!r}, of {size}")
            who[i] = name
        speakers = who
    return doc, row["hash"], size, speakers


def _stored_docs(rows: list, spans: np.ndarray) -> list[StoredDoc]:
    """StoredDocs whose offsets are views of ``spans``, after checking the offsets invariant in
    one pass: doc.text[start:end] is each sentence, in order."""
    sizes = np.array([size for _, _, size, _ in rows], np.int64)
    first = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64) if len(rows) else sizes
    limit = np.repeat(np.array([len(doc.text) for doc, _, _, _ in rows], np.int64), sizes)
    starts, ends = spans[:, 0], spans[:, 1]
    prev = np.concatenate([[0], ends[:-1]])
    prev[first[sizes > 0]] = 0
    bad = np.flatnonzero((starts < prev) | (starts >= ends) | (ends > limit))
    if len(bad):
        doc = rows[int(np.searchsorted(first, bad[0], side="right")) - 1][0]
        raise ValueError(f"document {doc.id!r}: sentence span {starts[bad[0]]}:{ends[bad[0]]} is "
                         f"out of order or outside its {len(doc.text)}-character text")
    return [StoredDoc(doc, digest, spans[lo:lo + size], speakers)
            for (doc, digest, size, speakers), lo in zip(rows, first.tolist())]


def _flock(fh) -> None:
    """An exclusive lock on the open lock file, released when it is closed (or the process
    dies)."""
    try:
        import fcntl
    except ImportError:  # not on POSIX: saves do not take turns
        return
    fcntl.flock(fh.fileno(), fcntl.LOCK_EX)


def _write(p: Path, data: bytes) -> str:
    """Write ``data`` to ``p`` durably; its sha256."""
    with open(p, "wb") as fh:
        fh.write(data)
        _fsync(fh)
    return hashlib.sha256(data).hexdigest()


def _write_lines(p: Path, lines) -> str:
    h = hashlib.sha256()
    with open(p, "wb") as fh:
        for line in lines:
            data = line if isinstance(line, bytes) else line.encode("utf-8", "surrogatepass")
            h.update(data)
            fh.write(data)
        _fsync(fh)
    return h.hexdigest()


def _write_rows(p: Path, sums_file: Path, vectors, dim: int) -> dict[str, str]:
    """The vector rows as raw little-endian float32, a bounded number at a time, and their
    checksums; the two files' sha256."""
    from .vectors import row_sums

    h, hs = hashlib.sha256(), hashlib.sha256()
    with open(p, "wb") as fh, open(sums_file, "wb") as fs:
        for lo in range(0, len(vectors), ROWS):
            data = np.ascontiguousarray(vectors[lo:lo + ROWS], "<f4")
            if data.ndim != 2 or data.shape[1] != dim:
                raise ValueError(f"vector rows of shape {data.shape}, expected (*, {dim})")
            sums = row_sums(data).astype("<u8").tobytes()
            h.update(data.data)
            fh.write(data.data)
            hs.update(sums)
            fs.write(sums)
        _fsync(fh)
        _fsync(fs)
    return {p.name: h.hexdigest(), sums_file.name: hs.hexdigest()}


def _fsync(fh) -> None:
    fh.flush()
    os.fsync(fh.fileno())


def _fsync_path(p: Path) -> None:
    fd = os.open(p, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _short(e: Exception) -> str:
    text = str(e).strip().splitlines()
    return text[-1][:200] if text else type(e).__name__
