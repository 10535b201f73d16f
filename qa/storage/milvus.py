"""An index kept in a Milvus engine: Milvus Lite (a ``.db`` folder, embedded) or a Milvus
server or cluster by URL. The engine is the source of truth; nothing local is needed to answer.

Locations (everywhere an index location is taken):

    milvus+lite:///ABSOLUTE/PATH/news.db   Milvus Lite, embedded (one process per .db)
    milvus+lite:relative.db                ... relative to the working directory
    milvus+http://HOST:PORT                a Milvus server or cluster (token: QA_MILVUS_TOKEN)
    milvus+https://HOST:PORT               ... over TLS
    ...?collection=NAME                    which collections (default ``news``)

Three collections per index, named after ``collection``:

    NAME           one entity a sentence: pk, doc_id, hash, sent, vector (inner product index)
    NAME_articles  one entity per ~60 kB part of an article's JSON (text, title, date, source,
                   url, content hash, sentence offsets, speakers) with the article's centroid
    NAME_meta      the model, dimension, backend, settings, and a generation that every commit
                   changes (readers poll it to follow writers)

Every key holds the article's content hash, so a new version of an article is written beside
the old one (sentences first, then the article's parts) and the old one deleted after: a writer
killed at any point leaves each article either whole in its old or its new version. A reader
takes, per article, the newest version whose parts are all there, and only sentences whose hash
is that version's.
"""
from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence
from urllib.parse import parse_qs, urlsplit

import numpy as np

from ..errors import IndexFileError, InputError
from ..ingest.speakers import VERSION as SPEAKERS_VERSION
from .stored import StoredDoc
from ..types import Document

log = logging.getLogger(__name__)

PREFIX = "milvus+"
DEFAULT_COLLECTION = "news"
INDEX_TYPES = ("HNSW", "FLAT")
FORMAT = 1
ID_CHARS = 4096  # the longest article id (and sentence key) the collections take
PART_CHARS = 60_000  # an article's JSON is cut into parts this long (Milvus: 65,535 bytes)
BATCH = 1000  # entities per insert, ids per lookup
HNSW_M, HNSW_EF_CONSTRUCTION = 32, 160  # as the folder index's graph (qa/tuning.py)
_WRITE_LOCKS: dict[str, threading.RLock] = {}  # one writer at a time per engine, in a process


def is_location(location) -> bool:
    """Whether ``location`` names a Milvus engine rather than a folder."""
    return isinstance(location, str) and location.startswith(PREFIX)


@dataclass(frozen=True)
class Location:
    """A parsed Milvus location. It never holds the token (``QA_MILVUS_TOKEN``)."""

    text: str  # as given, for messages
    uri: str  # what pymilvus connects to: a .db path, or http(s)://HOST:PORT
    collection: str
    lite: bool
    index_type: str

    @classmethod
    def parse(cls, text: str) -> "Location":
        parts = urlsplit(text)
        scheme = parts.scheme[len(PREFIX):] if parts.scheme.startswith(PREFIX) else ""
        options = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        unknown = set(options) - {"collection", "index"}
        if unknown:
            raise InputError(f"unknown option {sorted(unknown)[0]!r} in the index location "
                             f"{_shown(text)}: only ?collection=NAME and ?index=HNSW|FLAT")
        collection = options.get("collection", DEFAULT_COLLECTION)
        if not collection.replace("_", "a").isalnum() or not collection[0].isalpha() \
                or len(collection) > 200 or not collection.isascii():
            raise InputError(f"collection name {collection!r} in {_shown(text)}: use letters, "
                             "digits and _ , starting with a letter")
        index_type = options.get("index", "HNSW").upper()
        if index_type not in INDEX_TYPES:
            raise InputError(f"index type {index_type!r} in {_shown(text)}: use "
                             + " or ".join(INDEX_TYPES))
        if scheme == "lite":
            path = parts.netloc + parts.path if parts.netloc else parts.path
            if not path.endswith(".db"):  # pymilvus takes anything else for a server's URL
                raise InputError(f"{_shown(text)} names no .db file: write "
                                 "milvus+lite:///ABSOLUTE/PATH/news.db or milvus+lite:news.db")
            return cls(text, str(Path(path).expanduser().resolve()), collection, True,
                       index_type)
        if scheme in ("http", "https"):
            if "@" in parts.netloc:
                raise InputError(f"{_shown(text)} holds a user or token: put the token in "
                                 "QA_MILVUS_TOKEN, never in the URL")
            if not parts.hostname or not parts.port:
                raise InputError(f"{_shown(text)}: write milvus+{scheme}://HOST:PORT")
            return cls(text, f"{scheme}://{parts.netloc}", collection, False, index_type)
        raise InputError(f"unknown index location {_shown(text)}: use a folder, "
                         "milvus+lite:///PATH/news.db or milvus+http://HOST:PORT")

    def __str__(self) -> str:
        return _shown(self.text)


def _shown(text: str) -> str:
    """A location for messages and logs, without anything that looks like a secret."""
    parts = urlsplit(text)
    if "@" in parts.netloc:
        return text.replace(parts.netloc, "***@" + parts.netloc.rsplit("@", 1)[1])
    return text


def quoted(value: str) -> str:
    """``value`` as a string literal of a Milvus filter expression."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def any_of(field: str, values: Iterable[str]) -> str:
    return f"{field} in [{', '.join(quoted(v) for v in values)}]"


def sentence_key(doc_id: str, digest: str, sent: int) -> str:
    return f"{digest[:16]}:{sent}:{doc_id}"


@dataclass(frozen=True)
class Meta:
    model: str
    dim: int
    backend: str | None
    extra: dict
    generation: str | None


@dataclass(frozen=True)
class Read:
    """What a reader takes from the engine: the meta data, and each article's newest whole
    version with its centroid (rows in the order of ``docs``)."""

    meta: Meta
    docs: list[StoredDoc]
    centroids: np.ndarray


class Engine:
    """One index's collections in one engine, through pymilvus."""

    def __init__(self, location: Location):
        self.location = location
        self.sentences = location.collection
        self.articles = location.collection + "_articles"
        self.meta_name = location.collection + "_meta"
        self.client = _connect(location)
        self._loaded = False

    @property
    def write_lock(self) -> threading.RLock:
        return _WRITE_LOCKS.setdefault(self.location.uri, threading.RLock())

    # ---- collections -----------------------------------------------------------------------
    def exists(self) -> bool:
        return self.client.has_collection(self.meta_name)

    def create(self, dim: int) -> None:
        """The three collections, with their indexes (nothing when they exist)."""
        from pymilvus import DataType, MilvusClient

        c = self.client
        if not c.has_collection(self.sentences):
            s = _keyed_schema("pk")
            s.add_field("sent", DataType.INT64)
            s.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
            params = c.prepare_index_params()
            if self.location.index_type == "HNSW":
                params.add_index(field_name="vector", index_type="HNSW", metric_type="IP",
                                 params={"M": HNSW_M, "efConstruction": HNSW_EF_CONSTRUCTION})
            else:
                params.add_index(field_name="vector", index_type="FLAT", metric_type="IP")
            params.add_index(field_name="doc_id", index_type="INVERTED")
            c.create_collection(self.sentences, schema=s, index_params=params)
        if not c.has_collection(self.articles):
            s = _keyed_schema("key")
            s.add_field("part", DataType.INT64)
            s.add_field("parts", DataType.INT64)
            s.add_field("seq", DataType.INT64)
            s.add_field("blob", DataType.VARCHAR, max_length=65_535)
            s.add_field("centroid", DataType.FLOAT_VECTOR, dim=dim)
            params = c.prepare_index_params()
            params.add_index(field_name="centroid", index_type="FLAT", metric_type="IP")
            params.add_index(field_name="doc_id", index_type="INVERTED")
            c.create_collection(self.articles, schema=s, index_params=params)
        if not c.has_collection(self.meta_name):
            s = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
            s.add_field("key", DataType.VARCHAR, is_primary=True, max_length=64)
            s.add_field("value", DataType.VARCHAR, max_length=65_535)
            s.add_field("unused", DataType.FLOAT_VECTOR, dim=2)  # Milvus wants a vector field
            params = c.prepare_index_params()
            params.add_index(field_name="unused", index_type="FLAT", metric_type="L2")
            c.create_collection(self.meta_name, schema=s, index_params=params)
        self._loaded = False
        self.load()

    def load(self) -> None:
        """Load the collections for search. Milvus Lite (and a server after a restart) keeps a
        collection with an index "released" when it is opened again, so this is done on every
        open, not only after creating."""
        if not self._loaded:
            for name in (self.sentences, self.articles, self.meta_name):
                self.client.load_collection(name)
            self._loaded = True

    def drop(self) -> None:
        for name in (self.sentences, self.articles, self.meta_name):
            if self.client.has_collection(name):
                self.client.drop_collection(name)
        self._loaded = False

    # ---- meta --------------------------------------------------------------------------------
    def meta(self) -> Meta | None:
        rows = self.client.get(self.meta_name, ids=["meta", "generation"],
                               output_fields=["value"])
        values = {r["key"]: r["value"] for r in rows}
        if "meta" not in values:
            return None
        try:
            m = json.loads(values["meta"])
            if m.get("format") != FORMAT:
                raise IndexFileError(f"the index at {self.location} has format "
                                     f"{m.get('format')!r}, this version reads {FORMAT}: run "
                                     f"`qa ingest --rebuild --index {self.location} PATH...`")
            return Meta(m["model"], int(m["dim"]), m.get("backend"), dict(m.get("extra", {})),
                        values.get("generation"))
        except (ValueError, KeyError, TypeError) as e:
            raise IndexFileError(f"the index at {self.location} has damaged meta data ({e}): "
                                 f"run `qa ingest --rebuild --index {self.location} PATH...`"
                                 ) from None

    def generation(self) -> str | None:
        rows = self.client.get(self.meta_name, ids=["generation"], output_fields=["value"])
        return rows[0]["value"] if rows else None

    def _set_meta(self, model: str, dim: int, backend: str | None, extra: dict) -> str:
        generation = uuid.uuid4().hex
        meta = json.dumps({"format": FORMAT, "model": model, "dim": dim, "backend": backend,
                           "extra": extra}, ensure_ascii=True)
        self.client.upsert(self.meta_name, [
            {"key": "meta", "value": meta, "unused": [0.0, 0.0]},
            {"key": "generation", "value": generation, "unused": [0.0, 0.0]}])
        return generation

    # ---- reading -------------------------------------------------------------------------------
    def read(self) -> Read | None:
        """Every article's newest whole version; None when the index has no meta data yet."""
        meta = self.meta()
        if meta is None:
            return None
        versions: dict[tuple[str, str], dict] = {}
        it = self.client.query_iterator(
            self.articles, batch_size=BATCH, filter='doc_id != ""',
            output_fields=["doc_id", "hash", "part", "parts", "seq", "blob", "centroid"])
        try:
            while True:
                batch = it.next()
                if not batch:
                    break
                for r in batch:
                    v = versions.setdefault((r["doc_id"], r["hash"]), {
                        "parts": int(r["parts"]), "seq": int(r["seq"]), "blobs": {}})
                    v["blobs"][int(r["part"])] = r["blob"]
                    if int(r["part"]) == 0:
                        v["centroid"] = r["centroid"]
        finally:
            it.close()
        newest: dict[str, tuple[int, str, dict]] = {}
        for (doc_id, digest), v in versions.items():
            if len(v["blobs"]) != v["parts"] or "centroid" not in v:
                continue  # a version being written, or left by a writer that was killed
            if doc_id not in newest or newest[doc_id][0] < v["seq"]:
                newest[doc_id] = (v["seq"], digest, v)
        order = sorted(newest.items(), key=lambda kv: (kv[1][0], kv[0]))
        docs = [_stored(digest, "".join(v["blobs"][i] for i in range(v["parts"])))
                for _, (_, digest, v) in order]
        centroids = np.array([v["centroid"] for _, (_, _, v) in order],
                             np.float32).reshape(-1, meta.dim)
        return Read(meta, docs, centroids)

    def search(self, query: np.ndarray, n: int, doc_ids: Sequence[str] | None = None,
               ef: int = 512) -> list[tuple[str, str, int, float]]:
        """The ``n`` nearest sentences (inner product) as (doc_id, hash, sentence, score),
        among the articles ``doc_ids`` when given: a filter expression in the engine."""
        params = {"metric_type": "IP", "params": {"ef": max(ef, n)}
                  if self.location.index_type == "HNSW" else {}}
        expr = any_of("doc_id", doc_ids) if doc_ids is not None else ""
        found = self.client.search(self.sentences, data=[np.asarray(query, np.float32).tolist()],
                                   anns_field="vector", limit=n, filter=expr,
                                   output_fields=["doc_id", "hash", "sent"],
                                   search_params=params)
        return [(h["entity"]["doc_id"], h["entity"]["hash"], int(h["entity"]["sent"]),
                 float(h["distance"])) for h in found[0]]

    def nearest_articles(self, query: np.ndarray, n: int,
                         doc_ids: Sequence[str] | None = None) -> list[tuple[str, str]]:
        """The ``n`` articles whose centroids are nearest (inner product), as (doc_id, hash),
        among ``doc_ids`` when given."""
        expr = "part == 0" + (f" and {any_of('doc_id', doc_ids)}" if doc_ids is not None else "")
        found = self.client.search(self.articles, data=[np.asarray(query, np.float32).tolist()],
                                   anns_field="centroid", limit=n, filter=expr,
                                   output_fields=["doc_id", "hash"],
                                   search_params={"metric_type": "IP", "params": {}})
        return [(h["entity"]["doc_id"], h["entity"]["hash"]) for h in found[0]]

    def vectors(self, keys: Sequence[str], dim: int) -> np.ndarray:
        """The vectors of the sentences ``keys`` (``sentence_key``), in that order."""
        out = np.zeros((len(keys), dim), np.float32)
        at = {k: i for i, k in enumerate(keys)}
        for lo in range(0, len(keys), BATCH):
            batch = list(keys[lo:lo + BATCH])
            # a filter of our own quoting: pymilvus's get(ids=) puts the keys (which end with the
            # article's id) in quotes unescaped, so an id such as "o'neill.txt" broke every query
            for r in self.client.query(self.sentences, filter=any_of("pk", batch),
                                       output_fields=["pk", "vector"], limit=len(batch)):
                out[at[r["pk"]]] = r["vector"]
        return out

    def of_articles(self, doc_ids: Sequence[str], dim: int) -> list[tuple[str, str, int, np.ndarray]]:
        """Every stored sentence of the articles ``doc_ids``: (doc_id, hash, sentence, vector)."""
        out = []
        for lo in range(0, len(doc_ids), BATCH):
            rows = self.client.query(self.sentences, filter=any_of("doc_id", doc_ids[lo:lo + BATCH]),
                                     output_fields=["doc_id", "hash", "sent", "vector"],
                                     limit=16_384)
            out += [(r["doc_id"], r["hash"], int(r["sent"]), np.asarray(r["vector"], np.float32))
                    for r in rows]
        return out

    # ---- writing -------------------------------------------------------------------------------
    def heads(self, doc_ids: Sequence[str]) -> dict[str, set[str]]:
        """The versions (hashes) the engine holds of each of ``doc_ids``, whole or not."""
        out: dict[str, set[str]] = {}
        for lo in range(0, len(doc_ids), BATCH):
            for r in self.client.query(self.articles,
                                       filter=any_of("doc_id", doc_ids[lo:lo + BATCH]),
                                       output_fields=["doc_id", "hash"], limit=16_384):
                out.setdefault(r["doc_id"], set()).add(r["hash"])
        return out

    def commit(self, upserts: list[tuple[StoredDoc, np.ndarray]], removals: list[str], *,
               model: str, dim: int, backend: str | None, extra: dict,
               relabelled: list[tuple[StoredDoc, np.ndarray]] = ()) -> str:
        """Write ``upserts`` (articles with their sentence vectors) and delete ``removals``;
        ``relabelled``: articles whose metadata alone changed, with their centroids (their
        sentences stay). Returns the new generation. Sentences go in before their article, old
        versions are deleted after it (see the module's docstring)."""
        with self.write_lock:
            held = self.heads([d.document.id for d, _ in upserts] + list(removals))
            todo = [(d, v) for d, v in upserts if held.get(d.document.id) != {d.hash}]
            seq = time.time_ns()
            rows: list[dict] = []
            for d, vectors in todo:
                vectors = np.asarray(vectors, np.float32)
                for i in range(d.size):
                    rows.append({"pk": sentence_key(d.document.id, d.hash, i),
                                 "doc_id": d.document.id, "hash": d.hash, "sent": i,
                                 "vector": vectors[i].tolist()})
                if len(rows) >= BATCH:
                    self.client.upsert(self.sentences, rows)
                    rows = []
            if rows:
                self.client.upsert(self.sentences, rows)
            self._write_articles([(d, centroid(v, dim)) for d, v in todo] + list(relabelled),
                                 seq, dim)
            for d, _ in todo:  # older versions of changed articles
                if held.get(d.document.id, set()) - {d.hash}:
                    expr = f"doc_id == {quoted(d.document.id)} and hash != {quoted(d.hash)}"
                    self.client.delete(self.articles, filter=expr)
                    self.client.delete(self.sentences, filter=expr)
            gone = [i for i in removals if i in held]
            for lo in range(0, len(gone), BATCH):
                expr = any_of("doc_id", gone[lo:lo + BATCH])
                self.client.delete(self.articles, filter=expr)  # the article first: then
                self.client.delete(self.sentences, filter=expr)  # its sentences are unread
            generation = self._set_meta(model, dim, backend, extra)
            log.info("%s: wrote %d articles (%d sentences), relabelled %d, removed %d",
                     self.location, len(todo), sum(d.size for d, _ in todo), len(relabelled),
                     len(gone))
            if self.location.lite:
                # sealed into a segment with its index now, not on the first question
                self.client.flush(self.sentences)
            return generation

    def _write_articles(self, todo: list[tuple[StoredDoc, np.ndarray]], seq: int,
                        dim: int) -> None:
        """The articles ``todo`` with their centroids, in parts."""
        rows: list[dict] = []
        zero = [0.0] * dim
        for n, (d, center) in enumerate(todo):  # seq: readers keep the commit's order
            blob = _blob(d)
            parts = [blob[i:i + PART_CHARS] for i in range(0, len(blob), PART_CHARS)] or [""]
            for p, text in enumerate(parts):
                rows.append({"key": f"{d.hash[:16]}:{p}:{d.document.id}",
                             "doc_id": d.document.id, "hash": d.hash, "part": p,
                             "parts": len(parts), "seq": seq + n, "blob": text,
                             "centroid": np.asarray(center, np.float32).tolist() if p == 0
                             else zero})
            if len(rows) >= BATCH:
                self.client.upsert(self.articles, rows)
                rows = []
        if rows:
            self.client.upsert(self.articles, rows)


def centroid(vectors, dim: int) -> np.ndarray:
    """An article's centroid: the sum of its sentence vectors, unit length (zero when none)."""
    c = np.asarray(vectors, np.float32).reshape(-1, dim).sum(axis=0)
    norm = float(np.linalg.norm(c))
    return c / norm if norm else c


def _keyed_schema(key: str):
    """A schema whose primary key ``key`` holds an article's id and content hash (both fields
    too): every version of an article has keys of its own."""
    from pymilvus import DataType, MilvusClient

    s = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
    s.add_field(key, DataType.VARCHAR, is_primary=True, max_length=ID_CHARS + 40)
    s.add_field("doc_id", DataType.VARCHAR, max_length=ID_CHARS)
    s.add_field("hash", DataType.VARCHAR, max_length=64)
    return s


def _blob(d: StoredDoc) -> str:
    return json.dumps({"document": d.document.to_dict(), "bounds": d.bounds.ravel().tolist(),
                       "speakers": d.speakers, "speakers_version": SPEAKERS_VERSION},
                      ensure_ascii=True)  # ASCII: chars = bytes


def _stored(digest: str, blob: str) -> StoredDoc:
    data = json.loads(blob)
    bounds = np.asarray(data["bounds"], np.int64).reshape(-1, 2)
    return StoredDoc(Document(**data["document"]), digest, bounds,
                     data.get("speakers")).current(data.get("speakers_version"))


def _connect(location: Location):
    """A pymilvus client for ``location``: the embedded Milvus Lite for a .db, else the
    server, with the token from QA_MILVUS_TOKEN (never logged, never in the URL)."""
    try:
        from pymilvus import MilvusClient
    except ImportError:
        raise InputError(f"the index {location} is in Milvus, and pymilvus is not installed: "
                         "run `pip install -e \".[milvus]\"`") from None
    from .. import config

    if location.lite:
        try:
            import milvus_lite  # noqa: F401  (pymilvus starts it for a .db path)
        except ImportError:
            raise InputError(f"the index {location} is in Milvus Lite, which is not installed:"
                             " run `pip install -e \".[milvus]\"`") from None
        Path(location.uri).parent.mkdir(parents=True, exist_ok=True)
        for name in LITE_NOISE:  # what Milvus Lite does not implement, logged as tracebacks
            logging.getLogger(name).setLevel(logging.CRITICAL)
        # Milvus Lite logs its own traceback when the .db is locked: the error below says it
        quiet = logging.getLogger("milvus_lite.server_manager")
        level, quiet.level = quiet.level, logging.CRITICAL
        try:
            return MilvusClient(location.uri)
        except Exception as e:  # pymilvus wraps the engine's error in its own kinds
            raise _lite_error(location, e) from None
        finally:
            quiet.setLevel(level)
    try:
        return MilvusClient(uri=location.uri, token=config.milvus_token() or "", timeout=30)
    except Exception as e:
        raise IndexFileError(f"cannot reach the Milvus server of {location} "
                             f"({type(e).__name__}): check the address and QA_MILVUS_TOKEN"
                             ) from None


# Loggers that report, on every query iterator, a timestamp call Milvus Lite does not implement
# (the embedded gRPC server's traceback, pymilvus's fallback warning): the results are unaffected
# (pymilvus uses a client-side timestamp), so users are not shown them.
LITE_NOISE = ("grpc._server", "pymilvus.client.iterator.query_iterator",
              "pymilvus.client.iterator.search_iterator")


def _lite_error(location: Location, e: Exception) -> IndexFileError:
    return IndexFileError(
        f"cannot open the Milvus Lite archive {location} ({type(e).__name__}); Milvus Lite lets "
        "one process open a .db at a time: to share it, run `milvus-lite server --data-dir "
        f"{location.uri} --host 127.0.0.1 --port 19530 --max-workers 1` and use "
        "milvus+http://127.0.0.1:19530 (without --host it serves the archive to the network, "
        "with no login)")
