"""The index folder on disk.

    index/
      manifest.json        format version, model, dimension, counts, per-document hashes,
                           fingerprint, and which generation folder is current
      g000007/documents.jsonl   one article a line, with its sentence spans
      g000007/vectors.faiss     the sentence vectors (FAISS), in document order
      g000007/search.faiss      large indexes only: the approximate search index over the same
                                rows (qa/vectors.py), so opening does not rebuild it
      .lock                held (flock) by a save, so saves to one folder take turns

A save writes a new generation folder, then replaces manifest.json atomically (write, fsync,
rename). A crash at any point leaves the previous manifest pointing at the previous, complete
generation. The manifest records the sha256 of both generation files, so a damaged or edited file
is refused on open instead of giving wrong answers. Saves to one folder take turns (a lock file);
a reader that finds its generation just replaced by a writer reads the new one. Nothing here is
pickled or executed: JSON, and FAISS's own format.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .errors import IndexFileError
from .types import Document, Span

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
LOCK = ".lock"
FILES = ("documents.jsonl", "vectors.faiss")
SEARCH_FILE = "search.faiss"  # optional


@dataclass
class StoredDoc:
    document: Document
    hash: str
    spans: list[Span]


@dataclass
class Snapshot:
    """Everything an index holds, in memory."""

    model: str
    dim: int
    docs: list[StoredDoc]
    vectors: np.ndarray  # (sum of spans, dim) float32, rows in document order
    extra: dict[str, Any] = field(default_factory=dict)  # fingerprint, seed ids, ...
    search: Any = None  # a qa.vectors.VectorStore over ``vectors`` worth keeping, or None


def rebuild_hint(path: Path) -> str:
    return f"rebuild it with `qa ingest --rebuild --index {path} PATH...` (or delete the folder)"


def save(path: Path, snap: Snapshot) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
        lock = open(path / LOCK, "a+b")
    except OSError as e:  # e.g. a read-only folder: the caller may go on from memory
        raise _save_error(path, e) from None
    with lock:
        _flock(lock)  # two writers on one folder would pick the same generation name
        _save(path, snap)


def _save(path: Path, snap: Snapshot) -> None:
    import faiss  # heavy: only when saving or loading

    gen = _next_generation(path)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=path))
    tmp_manifest = path / (MANIFEST + ".tmp")
    published = False
    try:
        rows = (json.dumps({"document": d.document.to_dict(), "hash": d.hash,
                            "spans": [[s.start, s.end] for s in d.spans]}, ensure_ascii=False)
                for d in snap.docs)
        documents = "".join(row + "\n" for row in rows).encode("utf-8", "surrogatepass")
        flat = faiss.IndexFlatIP(snap.dim)
        if len(snap.vectors):
            flat.add(np.ascontiguousarray(snap.vectors, dtype=np.float32))
        # Serialised in memory and written by Python, so a full disk is an OSError like any other.
        contents = dict(zip(FILES, (documents, faiss.serialize_index(flat).tobytes())))
        if snap.search is not None:
            contents[SEARCH_FILE] = snap.search.to_bytes()
        for name, data in contents.items():
            _write(tmp / name, data)
        os.replace(tmp, path / gen)
        _fsync_path(path)
        manifest = {
            "format": FORMAT_VERSION,
            "model": snap.model,
            "dimension": snap.dim,
            "documents": len(snap.docs),
            "sentences": int(len(snap.vectors)),
            "generation": gen,
            "hashes": {d.document.id: d.hash for d in snap.docs},
            "files": {name: hashlib.sha256(data).hexdigest() for name, data in contents.items()},
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
    import faiss

    gen_dir = path / manifest["generation"]
    data = {name: (gen_dir / name).read_bytes() for name in FILES}
    if SEARCH_FILE in (manifest.get("files") or {}):
        data[SEARCH_FILE] = (gen_dir / SEARCH_FILE).read_bytes()
    for name, digest in (manifest.get("files") or {}).items():
        if name in data and hashlib.sha256(data[name]).hexdigest() != digest:
            raise IndexFileError(f"index at {path} is damaged: {manifest['generation']}/{name} is "
                                 f"not the file that was saved (checksum differs); "
                                 f"{rebuild_hint(path)}")
    try:
        lines = data["documents.jsonl"].decode("utf-8", "surrogatepass").split("\n")
        docs = [_stored_doc(line) for line in lines if line.strip()]
        flat = faiss.deserialize_index(np.frombuffer(data["vectors.faiss"], dtype=np.uint8))
    except (ValueError, KeyError, TypeError, RuntimeError) as e:
        raise IndexFileError(f"index at {path} is damaged ({type(e).__name__}: {_short(e)}); "
                             f"{rebuild_hint(path)}") from None
    n = sum(len(d.spans) for d in docs)
    if flat.d != manifest["dimension"] or flat.ntotal != n or manifest.get("sentences") != n \
            or len(docs) != manifest.get("documents"):
        raise IndexFileError(f"index at {path} is inconsistent: manifest says "
                             f"{manifest.get('documents')} documents / {manifest.get('sentences')} "
                             f"sentences of dimension {manifest['dimension']}, the files hold "
                             f"{len(docs)} / {n} stored and {flat.ntotal} vectors of dimension "
                             f"{flat.d}; {rebuild_hint(path)}")
    if manifest.get("hashes") != {d.document.id: d.hash for d in docs}:
        raise IndexFileError(f"index at {path} is inconsistent: the manifest's document hashes do "
                             f"not match the stored documents; {rebuild_hint(path)}")
    vectors = faiss.rev_swig_ptr(flat.get_xb(), n * flat.d).reshape(n, flat.d).copy() if n \
        else np.zeros((0, flat.d), dtype=np.float32)
    known = {"format", "model", "dimension", "documents", "sentences", "generation", "hashes", "files"}
    extra = {k: v for k, v in manifest.items() if k not in known}
    return Snapshot(model=manifest["model"], dim=int(manifest["dimension"]), docs=docs,
                    vectors=vectors, extra=extra, search=_load_search(path, data, vectors))


def _load_search(path: Path, data: dict[str, bytes], vectors: np.ndarray):
    from .vectors import VectorStore

    if SEARCH_FILE not in data:
        return None
    search = VectorStore.from_bytes(data[SEARCH_FILE], exact=vectors)
    if search.ntotal != len(vectors):
        raise IndexFileError(f"index at {path} is inconsistent: {SEARCH_FILE} holds "
                             f"{search.ntotal} vectors, the store {len(vectors)}; "
                             f"{rebuild_hint(path)}")
    return search


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


def _stored_doc(line: str) -> StoredDoc:
    row = json.loads(line)
    doc = Document(**row["document"])
    spans = [Span(int(s), int(e)) for s, e in row["spans"]]
    if not isinstance(doc.id, str) or not isinstance(doc.text, str) or not isinstance(row["hash"], str):
        raise TypeError(f"document {doc.id!r}: id, text and hash must be strings")
    prev = 0
    for span in spans:  # the offsets invariant: doc.text[start:end] is the sentence, in order
        if not prev <= span.start < span.end <= len(doc.text):
            raise ValueError(f"document {doc.id!r}: sentence span {span.start}:{span.end} is out "
                             f"of order or outside its {len(doc.text)}-character text")
        prev = span.end
    return StoredDoc(doc, row["hash"], spans)


def _flock(fh) -> None:
    """An exclusive lock on the open lock file, released when it is closed (or the process
    dies)."""
    try:
        import fcntl
    except ImportError:  # not on POSIX: saves do not take turns
        return
    fcntl.flock(fh.fileno(), fcntl.LOCK_EX)


def _write(p: Path, data: bytes) -> None:
    with open(p, "wb") as fh:
        fh.write(data)
        _fsync(fh)


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
