"""The index folder on disk.

    index/
      manifest.json        format version, model, dimension, counts, per-document hashes,
                           fingerprint, and which generation folder is current
      g000007/documents.jsonl   one article a line, with its sentence spans
      g000007/vectors.faiss     the sentence vectors (FAISS), in document order
      g000007/search.faiss      large indexes only: the approximate search index over the same
                                rows (qa/vectors.py), so opening does not rebuild it

A save writes a new generation folder, then replaces manifest.json atomically (write, fsync,
rename). A crash at any point leaves the previous manifest pointing at the previous, complete
generation. Nothing here is pickled or executed: JSON, and FAISS's own format.
"""
from __future__ import annotations

import json
import os
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
SEARCH_FILE = "search.faiss"


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
    import faiss  # heavy: only when saving or loading

    path.mkdir(parents=True, exist_ok=True)
    gen = _next_generation(path)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=path))
    try:
        with open(tmp / "documents.jsonl", "w", encoding="utf-8") as fh:
            for d in snap.docs:
                row = {"document": d.document.to_dict(), "hash": d.hash,
                       "spans": [[s.start, s.end] for s in d.spans]}
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            _fsync(fh)
        flat = faiss.IndexFlatIP(snap.dim)
        if len(snap.vectors):
            flat.add(np.ascontiguousarray(snap.vectors, dtype=np.float32))
        faiss.write_index(flat, str(tmp / "vectors.faiss"))
        _fsync_path(tmp / "vectors.faiss")
        if snap.search is not None:
            snap.search.save(tmp / SEARCH_FILE)
            _fsync_path(tmp / SEARCH_FILE)
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
            **snap.extra,
        }
        tmp_manifest = path / (MANIFEST + ".tmp")
        with open(tmp_manifest, "w", encoding="utf-8") as fh:
            json.dump(manifest, fh, indent=1, ensure_ascii=False)
            _fsync(fh)
        os.replace(tmp_manifest, path / MANIFEST)
        _fsync_path(path)
    except OSError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        raise IndexFileError(f"could not save the index to {path}: {e.strerror or e}; the previous "
                             "index there is untouched. Free some disk space or choose another "
                             "--index folder") from None
    _remove_old_generations(path, keep=gen)


def load(path: Path) -> Snapshot:
    import faiss

    manifest = read_manifest(path)
    gen_dir = path / str(manifest.get("generation", ""))
    try:
        docs = []
        with open(gen_dir / "documents.jsonl", encoding="utf-8") as fh:
            for line in fh:
                row = json.loads(line)
                docs.append(StoredDoc(Document(**row["document"]), row["hash"],
                                      [Span(int(s), int(e)) for s, e in row["spans"]]))
        flat = faiss.read_index(str(gen_dir / "vectors.faiss"))
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as e:
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
    known = {"format", "model", "dimension", "documents", "sentences", "generation", "hashes"}
    extra = {k: v for k, v in manifest.items() if k not in known}
    return Snapshot(model=manifest["model"], dim=int(manifest["dimension"]), docs=docs,
                    vectors=vectors, extra=extra, search=_load_search(path, gen_dir / SEARCH_FILE, vectors))


def _load_search(path: Path, f: Path, vectors: np.ndarray):
    from .vectors import VectorStore

    if not f.is_file():
        return None
    search = VectorStore.load(f, exact=vectors)
    n = len(vectors)
    if search.ntotal != n:
        raise IndexFileError(f"index at {path} is inconsistent: {f.name} holds {search.ntotal} "
                             f"vectors, the store {n}; {rebuild_hint(path)}")
    return search


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
    for key, kind in (("model", str), ("dimension", int), ("generation", str)):
        if not isinstance(manifest.get(key), kind):
            raise IndexFileError(f"{f} lacks a valid {key!r}; {rebuild_hint(path)}")
    return manifest


def _next_generation(path: Path) -> str:
    nums = [int(p.name[1:]) for p in path.glob("g[0-9]*") if p.name[1:].isdigit()]
    return f"g{max(nums, default=0) + 1:06d}"


def _remove_old_generations(path: Path, keep: str) -> None:
    for p in path.iterdir():
        if p.is_dir() and p.name != keep and (p.name.startswith(".tmp-") or
                                              (p.name.startswith("g") and p.name[1:].isdigit())):
            shutil.rmtree(p, ignore_errors=True)


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
