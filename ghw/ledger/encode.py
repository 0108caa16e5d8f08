"""Events <-> event rows: the one place a row of ``events`` is built, and the one place it is read.

The mapper half of the ledger (the recorder, ``store.py``, runs the SQL). A row is the table's
columns in order (``EVENT_COLUMNS``): payload and actor as canonical JSON text, then ``prev_hash``
and ``hash``. Pure: no SQL runs here.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Sequence
from typing import Any

from ghw.ledger.hashing import HASHED_FIELDS, BatchHasher, canonical_text
from ghw.ledger.records import StoredEvent
from ghw.machine.events import Event
from ghw.machine.upcast import upcast

__all__ = ["EVENT_COLUMNS", "BatchEncoder", "decode_row"]

EVENT_COLUMNS = (*HASHED_FIELDS, "prev_hash", "hash")


class BatchEncoder:
    """Encodes one append's events, in order: seq, a random event id, the stream's next version,
    canonical JSON and the hash chain from ``(seq, prev_hash)``, the last event already stored.

    ``rows`` collects the rows to insert; :meth:`encode` returns the same event as read back.
    """

    __slots__ = (
        "_actor",
        "_actor_text",
        "_causation_id",
        "_correlation_id",
        "_cycle_id",
        "_entropy",
        "_first_seq",
        "_hasher",
        "_ts",
        "prev_hash",
        "rows",
        "seq",
    )

    def __init__(
        self,
        head: tuple[int, str],
        count: int,
        *,
        ts: str,
        actor: dict[str, Any],
        cycle_id: str | None,
        correlation_id: str | None,
        causation_id: str | None,
    ) -> None:
        self.seq, self.prev_hash = head
        self.rows: list[tuple[Any, ...]] = []
        self._first_seq = self.seq + 1
        # One getrandom call for the batch's event ids instead of one per event (uuid4 reads
        # urandom each time: ~0.3 ms a call in a sandbox under file I/O load); each id is still a
        # random version-4 UUID.
        self._entropy = os.urandom(16 * count)
        self._ts = ts
        self._actor = actor
        self._actor_text = canonical_text(actor)
        self._cycle_id = cycle_id
        self._correlation_id = correlation_id
        self._causation_id = causation_id
        self._hasher = BatchHasher(ts, self._actor_text, cycle_id, correlation_id, causation_id)

    def encode(self, stream_id: str, version: int, event: Event) -> StoredEvent:
        """The next row, for ``event`` as version ``version`` of ``stream_id``."""
        payload = event.payload()
        self.seq = seq = self.seq + 1
        at = 16 * (seq - self._first_seq)
        event_id = uuid.UUID(bytes=self._entropy[at : at + 16], version=4).hex
        payload_text = canonical_text(payload)
        prev_hash = self.prev_hash
        digest = self._hasher(
            prev_hash,
            seq,
            event_id,
            stream_id,
            version,
            event.TYPE,
            event.SCHEMA_VERSION,
            payload_text,
        )
        row = (
            seq,
            event_id,
            stream_id,
            version,
            event.TYPE,
            event.SCHEMA_VERSION,
            payload_text,
            self._ts,
            self._actor_text,
            self._cycle_id,
            self._correlation_id,
            self._causation_id,
            prev_hash,
            digest,
        )
        self.rows.append(row)
        self.prev_hash = digest
        return _stored(row, event.SCHEMA_VERSION, payload, self._actor)


def _stored(
    row: Sequence[Any], schema_version: int, payload: dict[str, Any], actor: dict[str, Any]
) -> StoredEvent:
    """The event a row holds, with its JSON columns given as values."""
    return StoredEvent(
        seq=row[0],
        event_id=row[1],
        stream_id=row[2],
        version=row[3],
        type=row[4],
        schema_version=schema_version,
        payload=payload,
        ts=row[7],
        actor=actor,
        cycle_id=row[9],
        correlation_id=row[10],
        causation_id=row[11],
        prev_hash=row[12],
        hash=row[13],
    )


def decode_row(row: Sequence[Any]) -> StoredEvent:
    """A stored row as an event, its payload upcast to the current schema."""
    payload, schema_version = upcast(row[4], row[5], json.loads(row[6]))
    return _stored(row, schema_version, payload, json.loads(row[8]))
