"""The index folder on disk.

    index/
      manifest.json        format version, model, dimension, counts, per-document hashes,
                           fingerprint, and which generation folder is current
      g000007/documents.jsonl   one article a line: its metadata, text, sentence count and
                                who says which sentence (with the attribution pass's version:
                                an article stored by an earlier pass is attributed again on open)
      g000007/spans.i64         every sentence's (start, end) offsets, raw int64, in row order
      g000007/vectors.f32       the sentence vectors: raw little-endian float32, (sentences,
                                dimension), in document order. Read row by row from disk where
                                the index is large (qa/storage/rows.py ``RawRows``), never pickled
      g000007/vectors.sum       a checksum of each vector row (uint64, ``qa.storage.rows.row_sums``)
      g000007/search.faiss      large indexes only: the approximate search index over the same
                                rows (qa/storage/vectors.py), so opening does not rebuild it
      g000007/rank.*            large indexes only: what ranking needs about the whole corpus
                                (article centroids, BM25 postings), written at ingest so the
                                first question does not compute it (qa/ranking/corpusdata.py).
                                A long ingest's commits before its last hold neither of these
                                two (``Index.save(derived=False)``): a reader computes them
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
import logging
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from ..errors import IndexFileError
from ..tuning import EAGER_HASH_MAX
from ..types import Document
from . import FILES, FORMAT_VERSION, LOCK, MANIFEST, SEARCH_FILE  # noqa: F401
from .files import last_line, sha256_file
from .stored import Snapshot, StoredDoc
from .writing import locked, save, write  # noqa: F401  (the write side)

log = logging.getLogger(__name__)


def rebuild_hint(path: Path) -> str:
    return f"rebuild it with `qa ingest --rebuild --index {path} PATH...` (or delete the folder)"


def current_generation(path: Path) -> str | None:
    """The generation the folder's manifest names now; None when there is no index there."""
    if not (path / MANIFEST).is_file():
        return None
    return read_manifest(path)["generation"]


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
        raise IndexFileError(f"{f} is not readable JSON ({last_line(e)}); {rebuild_hint(path)}") from None
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
    from .rows import RawRows

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
        hashed = pool.map(sha256_file, [gen_dir / name for name in names
                                       if not (lazy and name == "vectors.f32")])
        try:
            rows, digest = _read_documents(gen_dir / "documents.jsonl")
            spans = np.fromfile(gen_dir / "spans.i64", "<i8").reshape(-1, 2)
        except (ValueError, KeyError, TypeError) as e:
            raise IndexFileError(f"index at {path} is damaged ({type(e).__name__}: "
                                 f"{last_line(e)}); {rebuild_hint(path)}") from None
        _check_digest(path, manifest, "documents.jsonl", digest)
        for name, digest in zip([n for n in names if not (lazy and n == "vectors.f32")], hashed):
            _check_digest(path, manifest, name, digest)
    side = {name: gen_dir / name for name in names}
    n = sum(row.size for row in rows)
    if len(spans) != n:
        raise IndexFileError(f"index at {path} is inconsistent: its documents have {n} sentences, "
                             f"spans.i64 holds {len(spans)}; {rebuild_hint(path)}")
    try:
        docs = _stored_docs(rows, spans)
    except ValueError as e:
        raise IndexFileError(f"index at {path} is damaged ({last_line(e)}); "
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


def _read_documents(f: Path) -> tuple[list[_DocRow], str]:
    """The stored documents' rows, parsed line by line as the file is hashed."""
    h = hashlib.sha256()
    rows = []
    with open(f, "rb") as fh:
        for line in fh:
            h.update(line)
            if line.strip():
                rows.append(_doc_fields(line.decode("utf-8", "surrogatepass")))
    return rows, h.hexdigest()


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


class _DocRow(NamedTuple):
    """One documents.jsonl row as read."""
    doc: Document
    hash: str
    size: int  # sentences
    speakers: list | None
    speakers_version: int | None  # of the attribution pass that made ``speakers``


def _doc_fields(line: str) -> _DocRow:
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
    return _DocRow(doc, row["hash"], size, speakers, row.get("speakers_version"))


def _stored_docs(rows: list[_DocRow], spans: np.ndarray) -> list[StoredDoc]:
    """StoredDocs whose offsets are views of ``spans``, after checking the offsets invariant in
    one pass: doc.text[start:end] is each sentence, in order."""
    sizes = np.array([row.size for row in rows], np.int64)
    first = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64) if len(rows) else sizes
    limit = np.repeat(np.array([len(row.doc.text) for row in rows], np.int64), sizes)
    starts, ends = spans[:, 0], spans[:, 1]
    prev = np.concatenate([[0], ends[:-1]])
    prev[first[sizes > 0]] = 0
    bad = np.flatnonzero((starts < prev) | (starts >= ends) | (ends > limit))
    if len(bad):
        doc = rows[int(np.searchsorted(first, bad[0], side="right")) - 1].doc
        raise ValueError(f"document {doc.id!r}: sentence span {starts[bad[0]]}:{ends[bad[0]]} is "
                         f"out of order or outside its {len(doc.text)}-character text")
    stored = [StoredDoc(row.doc, row.hash, spans[lo:lo + row.size], row.speakers)
              for row, lo in zip(rows, first.tolist())]
    docs = [d.current(row.speakers_version) for d, row in zip(stored, rows)]
    again = sum(new is not old for new, old in zip(docs, stored))
    if again:  # once: the next commit stores them under this version
        log.info("attributed the speakers of %d articles again (stored by an earlier pass)", again)
    return docs
