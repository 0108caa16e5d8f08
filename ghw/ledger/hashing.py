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
    return hash_parts(prev_hash, *row[:12])


def hash_parts(
    prev_hash: str,
    seq: int,
    event_id: str,
    stream_id: str,
    version: int,
    type_: str,
    schema_version: int,
    payload_text: str,
    ts: str,
    actor_text: str,
    cycle_id: str | None,
    correlation_id: str | None,
    causation_id: str | None,
) -> str:
    """Hash from the parts, splicing the canonical payload and actor texts (keys in sorted order)."""
    dumps = json.dumps
    body = (
        f'{{"actor":{actor_text},"causation_id":{dumps(causation_id, ensure_ascii=False)},'
        f'"correlation_id":{dumps(correlation_id, ensure_ascii=False)},'
        f'"cycle_id":{dumps(cycle_id, ensure_ascii=False)},'
        f'"event_id":{dumps(event_id, ensure_ascii=False)},"payload":{payload_text},'
        f'"schema_version":{schema_version},"seq":{seq},'
        f'"stream_id":{dumps(stream_id, ensure_ascii=False)},"ts":{dumps(ts, ensure_ascii=False)},'
        f'"type":{dumps(type_, ensure_ascii=False)},"version":{version}}}'
    )
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()
