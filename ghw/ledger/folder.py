"""Folding raw event rows into every stream's view, checking the chain on the way: the core of
``ghw replay`` and of the migration that rebuilds projections (so the ledger's store can use it
without importing replay)."""

from __future__ import annotations

import json
from typing import Any

import orjson

from ghw.errors import IllegalTransitionError
from ghw.ledger.hashing import GENESIS, event_hash_from_texts
from ghw.ledger.projection import APPLIERS, PROJECTION_TABLES, row_for
from ghw.machine.events import EVENT_TYPES
from ghw.machine.fold import apply, stream_kind
from ghw.machine.upcast import upcast

__all__ = ["Folder"]


def _loads(text: str) -> Any:
    """orjson for speed (parsing only: hashes are checked on the stored text); the stdlib for
    what orjson refuses but json.dumps may have written (NaN, integers beyond 64 bits)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


class _Row:
    """A stored event as the fold sees it (cheaper than building a StoredEvent)."""

    __slots__ = ("_actor", "payload", "seq", "stream_id", "ts", "type", "version")

    def __init__(self, row: tuple[Any, ...], payload: dict[str, Any]) -> None:
        self.seq = row[0]
        self.stream_id = row[2]
        self.version = row[3]
        self.type = row[4]
        self.payload = payload
        self.ts = row[7]
        self._actor = row[8]

    @property
    def actor(self) -> Any:
        # parsed only when a fold asks (cycles): most events never need it
        return _loads(self._actor)


class Folder:
    """Folds raw event rows, in seq order, into every stream's view; with ``verify`` it also
    checks seq continuity, per-stream versions and the hash chain, remembering the first bad
    seq. Shared by ``ghw replay`` and the migration that rebuilds projections."""

    def __init__(self, *, verify: bool = False) -> None:
        self.verify = verify
        self.views: dict[str, Any] = {}
        self.kinds: dict[str, str] = {}
        self.events = 0
        self.bad: tuple[int, str] | None = None
        self._prev_hash = GENESIS
        self._expected_seq = 1
        self._current = {name: cls.SCHEMA_VERSION for name, cls in EVENT_TYPES.items()}

    def flag(self, seq: int, problem: str) -> None:
        if self.bad is None or seq < self.bad[0]:
            self.bad = (seq, problem)

    def feed(self, rows: list[tuple[Any, ...]]) -> None:
        # the hot loop of replay: everything it touches per row is a local
        verify, views, kinds, current, loads = (
            self.verify,
            self.views,
            self.kinds,
            self._current,
            _loads,
        )
        prev_hash, expected_seq, flag = self._prev_hash, self._expected_seq, self.flag
        for row in rows:
            seq = row[0]
            if verify and self.bad is None:
                if seq != expected_seq:
                    flag(expected_seq, f"seq {expected_seq} is missing (next is {seq})")
                elif row[12] != prev_hash:
                    flag(seq, "prev_hash does not match the previous event's hash")
                elif event_hash_from_texts(prev_hash, row) != row[13]:
                    flag(seq, "hash does not match the event's content (altered after writing)")
            expected_seq = seq + 1
            prev_hash = row[13]
            sid = row[2]
            kind = kinds.get(sid)
            if kind is None:
                kind = kinds[sid] = stream_kind(sid)
            view = views.get(sid)
            if verify and row[3] != (view.version if view is not None else 0) + 1:
                flag(seq, f"{sid}: version {row[3]} does not follow {getattr(view, 'version', 0)}")
            try:
                payload = loads(row[6])
                if row[5] != current.get(row[4], row[5]):
                    payload, _ = upcast(row[4], row[5], payload)
                rec = _Row(row, payload)
                if kind == "issue":
                    views[sid] = apply(view, rec, in_place=True)
                else:
                    views[sid] = APPLIERS[kind](view, rec)
            except (IllegalTransitionError, ValueError, KeyError, TypeError) as exc:
                flag(seq, f"{sid}: {exc}")
                if not verify:
                    self._prev_hash, self._expected_seq = prev_hash, expected_seq
                    raise
        self._prev_hash, self._expected_seq = prev_hash, expected_seq
        self.events += len(rows)

    def rows(self) -> dict[str, list[tuple[Any, ...]]]:
        """The rebuilt projection rows, per kind, ordered by stream id."""
        rebuilt: dict[str, list[tuple[Any, ...]]] = {k: [] for k in PROJECTION_TABLES}
        for sid in sorted(self.views):
            rebuilt[self.kinds[sid]].append(row_for(self.kinds[sid], self.views[sid]))
        return rebuilt
