"""The default index behind ``qa.retrieve``: the articles in ``seeds/``, saved in ``index/``.

It is built on first use and opened on later starts. A fingerprint of the seed files, the model
and the splitter is kept in the manifest; when it changes the index is brought up to date (only
changed articles are re-embedded; a new model re-embeds everything). Articles added by
``qa ingest`` or the app's upload stay in the index across such updates.
"""
from __future__ import annotations

import hashlib
import logging
import threading
from pathlib import Path

from . import config
from .storage import folder as store
from .encoders import model_name
from .errors import IndexFileError, QAError
from .index import Index
from .ingest.readers import SUFFIXES, read_paths
from .ingest.splitter import SPLITTER_VERSION

log = logging.getLogger(__name__)

_lock = threading.Lock()
_index: Index | None = None


def home() -> Path:
    """Project folder holding ``seeds/`` and ``index/``: ``QA_HOME``, else the checkout this
    package lives in, else the current folder."""
    if config.home() is not None:
        return config.home()
    checkout = Path(__file__).resolve().parent.parent
    return checkout if (checkout / "seeds").is_dir() else Path.cwd()


def seeds_dir() -> Path:
    return config.folder("QA_SEEDS") or home() / "seeds"


def index_dir() -> Path:
    return config.folder("QA_INDEX") or home() / "index"


def seed_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES
                  and not any(part.startswith(".") for part in p.relative_to(folder).parts))


def fingerprint(folder: Path, model: str) -> str:
    h = hashlib.sha256(f"{store.FORMAT_VERSION}|{SPLITTER_VERSION}|{model}".encode())
    for f in seed_files(folder):
        h.update(f.relative_to(folder).as_posix().encode() + b"\x00")
        h.update(hashlib.sha256(f.read_bytes()).digest())
    return h.hexdigest()


def default_index(*, progress=None) -> Index:
    """The default index, loaded once per process."""
    global _index
    with _lock:
        if _index is None:
            location = config.index_location()
            if location is not None:  # QA_INDEX names a Milvus engine
                _index = _engine_index(seeds_dir(), location, model_name(), progress)
            else:
                _index = _load_or_build(seeds_dir(), index_dir(), model_name(), progress)
        return _index


def use(location: str) -> Index:
    """Make the index at ``location`` (a folder, or a Milvus location) the default one as it
    stands: opened, not seeded (``qa serve --index``: the chat over an archive built with
    ``qa ingest --index``; the seeds belong to the project's own index)."""
    global _index
    from .storage import milvus

    if milvus.is_location(location):
        from .milvusindex import MilvusIndex

        index = MilvusIndex.open(location)
    else:
        index = Index.open(Path(location).expanduser())
    with _lock:
        _index = index
    return index


def reset() -> None:
    """Forget the loaded default index (tests; after changing QA_HOME)."""
    global _index
    with _lock:
        _index = None


def _load_or_build(seeds: Path, path: Path, model: str, progress) -> Index:
    fp = fingerprint(seeds, model)
    old = None
    earlier: list = []
    try:
        manifest = store.read_manifest(path)
        if manifest.get("fingerprint") == fp and manifest.get("model") == model:
            return Index.open(path, model=model)
        old = store.load(path)
    except IndexFileError as e:
        earlier = store.earlier_documents(path)  # written by an older version: carried over
        if (path / store.MANIFEST).exists():  # damaged: keep its files, they may hold uploads
            try:
                aside = store.set_aside(path)
            except OSError as why:
                log.warning("rebuilding the default index: %s (could not move it aside: %s)", e, why)
            else:
                if earlier:
                    log.warning("the default index was written by an older version of newsroom QA;"
                                " its %d articles are embedded again into a new one (the old folder"
                                " is kept in %s)", len(earlier), aside)
                else:
                    log.warning("the default index was damaged (%s); it is kept in %s and a new "
                                "one is built. Articles added to it are in %s/*/documents.jsonl "
                                "and the uploads folder: add them again with `qa ingest`",
                                e, aside, aside)
    index = Index(path, model=model)
    user_docs = [] if old is not None else earlier
    if old is not None:
        seed_ids = set(old.extra.get("seed_ids", []))
        user_docs = [d.document for d in old.docs if d.document.id not in seed_ids]
        if old.model == model:  # keep every vector that is still valid
            index = Index.open(path, model=model)
    result = read_paths([seeds]) if seeds.is_dir() else None
    seed_docs = result.documents if result else []
    for err in (result.errors if result else []):
        log.warning("seed not indexed: %s", err)
    stale = [d.id for d in index.documents if d.id in set(index.extra.get("seed_ids", []))
             and d.id not in {s.id for s in seed_docs}]
    index.remove(stale)
    index.add(seed_docs + [d for d in user_docs if d.id not in {s.id for s in seed_docs}],
              progress=progress)
    index.extra.update(fingerprint=fp, seed_ids=[d.id for d in seed_docs])
    try:  # a new model re-embedded everything: the whole index is replaced
        index.save(replace=old is not None and old.model != model)
    except QAError as e:  # a read-only checkout still answers, from memory
        log.warning("default index not saved: %s", e)
    return index


def _engine_index(seeds: Path, location: str, model: str, progress) -> Index:
    """The default index in a Milvus engine: the seeds added where they are new or changed
    (the engine's content hashes decide), those no longer in seeds/ removed."""
    from .milvusindex import MilvusIndex

    index = MilvusIndex.open_or_new(location, model=model)
    result = read_paths([seeds]) if seeds.is_dir() else None
    seed_docs = result.documents if result else []
    fresh = {s.id for s in seed_docs}
    index.remove([i for i in index.extra.get("seed_ids", []) if i not in fresh])
    index.add(seed_docs, progress=progress)
    if index.state.changed or index.extra.get("seed_ids") != [d.id for d in seed_docs]:
        index.extra.update(seed_ids=[d.id for d in seed_docs])
        index.save()
    return index


def retrieve(question: str, k: int = 5) -> list:
    """The ``k`` sentences of the default index that best answer ``question``."""
    return default_index().search(question, k)
