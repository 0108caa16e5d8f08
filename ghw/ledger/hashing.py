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
