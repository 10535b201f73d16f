"""How this process's changes make new states: its own additions and removals, and - for a save
or a refresh - the same changes applied on top of the newest state another writer committed.
Each function takes states and returns a new one; none changes a state it is given."""
from __future__ import annotations

import logging

import numpy as np

from .state import Commit, State, _Lazy
from .storage.stored import StoredDoc

log = logging.getLogger("qa.index")  # the index's messages, wherever they are made


def added(state: State, stored: list[StoredDoc], vectors: np.ndarray,
          relabelled: list[StoredDoc], backend: str | None) -> tuple[State, list[str]]:
    """``state`` with ``stored`` articles added or replacing those of the same id (a replaced
    article moves to the end) and ``relabelled`` ones' metadata changed; the ids that were
    replaced. A large index's search graph is extended (when first used) when every article
    is new."""
    if not stored and not relabelled:
        return state, []
    lazy = _Lazy(search=state.lazy.search, grow_from=state.lazy.grow_from) if not stored \
        else _Lazy()
    new = state.derive(backend=backend, lazy=lazy,
                       opened=state.opened if not stored else None)
    for d in relabelled:
        new.docs[d.document.id] = d
        new.changed[d.document.id] = d.hash
    updated, row = [], 0
    for d in stored:
        doc_id = d.document.id
        if doc_id in new.docs:
            updated.append(doc_id)
        new.docs.pop(doc_id, None)
        new.docs[doc_id] = d
        new.vectors[doc_id] = vectors[row:row + d.size]
        new.changed[doc_id] = d.hash
        row += d.size
    if stored and not updated:
        _grow(state, new)
    return new, updated


def removed(state: State, doc_ids) -> tuple[State, list[str]]:
    """``state`` without the articles ``doc_ids``; the ids that were there."""
    gone = [d for d in dict.fromkeys(doc_ids) if d in state.docs]
    if not gone:
        return state, []
    new = state.derive(opened=None)
    for doc_id in gone:
        del new.docs[doc_id]
        new.vectors.pop(doc_id, None)
        new.changed[doc_id] = None
    return new, gone


def committed(state: State, generation: str, path) -> State:
    """``state`` as just written to ``path`` as ``generation``: nothing left to commit."""
    return state.derive(path=path, changed={}, lazy=state.lazy, base=Commit(
        generation, {i: d.hash for i, d in state.docs.items()}, dict(state.extra)))


def on_top_of(mine: State, latest: State) -> State:
    """``latest`` (just read from the folder) with ``mine``'s uncommitted changes applied; what
    another writer changed too is logged, and this process's version kept."""
    for doc_id, digest in mine.changed.items():
        theirs = latest.base.hashes.get(doc_id)
        if theirs != mine.base.hashes.get(doc_id) and theirs != digest:
            log.warning("article %r was also changed by another writer since this process "
                        "read %s; keeping this process's %s", doc_id, latest.path,
                        "removal" if digest is None else "version")
    if not mine.changed:
        new = latest.derive(lazy=latest.lazy)
    else:
        new = latest.derive(opened=None)
        for doc_id, digest in mine.changed.items():
            new.docs.pop(doc_id, None)
            new.vectors.pop(doc_id, None)
            if digest is not None:
                new.docs[doc_id] = mine.docs[doc_id]
                new.vectors[doc_id] = mine.vectors[doc_id]
        # only new articles: a large index's search graph is extended, not built again
        appended = [i for i, h in mine.changed.items() if h is not None and i not in latest.docs]
        if len(appended) == len(mine.changed):
            _grow(latest, new)
    for key, value in mine.extra.items():  # settings this process changed
        if mine.base.extra.get(key) != value:
            new.extra[key] = value
    backend = latest.backend
    if any(d is not None for d in mine.changed.values()) and mine.backend != latest.backend:
        others = set(latest.docs) - set(mine.changed)
        backend = "mixed" if others and latest.backend else mine.backend
    return new.derive(changed=dict(mine.changed), backend=backend, lazy=new.lazy)


def carry_graph(before: State, latest: State) -> None:
    """When ``latest`` (just read from the folder) is a commit without a search graph (a long
    ingest's, before its last) that only appended articles to ``before`` as committed, let it
    extend ``before``'s graph instead of building one over every row: a reader following a long
    ingest adds each commit's new rows."""
    if latest.lazy.search is not None or before.changed or len(before.docs) > len(latest.docs):
        return
    hashes = latest.base.hashes
    if all(hashes.get(i) == h for i, h in before.base.hashes.items()) and \
            list(latest.docs)[:len(before.docs)] == list(before.docs):
        _grow(before, latest)


def _grow(before: State, after: State) -> None:
    """Give ``after`` (``before`` with articles appended) ``before``'s approximate search graph,
    to be extended by the new rows when first used (``State.search_store``), when it has one;
    an exact store is cheap to build again (and may have to become a graph)."""
    base = before.lazy.search if before.lazy.search is not None else before.lazy.grow_from
    if base is not None and base.kind != "flat":
        after.lazy.grow_from = base
