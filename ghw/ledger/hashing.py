"""The hash chain: ``hash = sha256(prev_hash ‖ canonical JSON of the other fields)``."""

from __future__ import annotations

import hashlib
import json
from typing import Any

__all__ = ["GENESIS", "HASHED_FIELDS", "canonical_json", "event_hash"]

GENESIS = "0" * 64

# Every stored field but prev_hash and hash, in the order the table lists them.
HASHED_FIELDS = (
    "seq",
    "event_id",
    "stream_id",
    "version",
    "type",
    "schema_version",
    "payload",
    "ts",
    "actor",
    "cycle_id",
    "correlation_id",
    "causation_id",
)


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, UTF-8 (not ASCII-escaped)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def event_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    body = canonical_json({name: fields[name] for name in HASHED_FIELDS})
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def event_hash_from_texts(prev_hash: str, row: tuple[Any, ...]) -> str:
    """The same hash as :func:`event_hash`, from a stored row whose payload and actor are
    already canonical JSON text, without parsing and re-serialising them.

    ``row`` is (seq, event_id, stream_id, version, type, schema_version, payload_text, ts,
    actor_text, cycle_id, correlation_id, causation_id, ...).
    """
    dumps = json.dumps
    body = (
        '{"actor":'
        + row[8]
        + ',"causation_id":'
        + dumps(row[11], ensure_ascii=False)
        + ',"correlation_id":'
        + dumps(row[10], ensure_ascii=False)
        + ',"cycle_id":'
        + dumps(row[9], ensure_ascii=False)
        + ',"event_id":'
        + dumps(row[1], ensure_ascii=False)
        + ',"payload":'
        + row[6]
        + ',"schema_version":'
        + dumps(row[5])
        + ',"seq":'
        + dumps(row[0])
        + ',"stream_id":'
        + dumps(row[2], ensure_ascii=False)
        + ',"ts":'
        + dumps(row[7], ensure_ascii=False)
        + ',"type":'
        + dumps(row[4], ensure_ascii=False)
        + ',"version":'
        + dumps(row[3])
        + "}"
    )
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()
