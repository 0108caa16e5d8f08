"""The hash chain: ``hash = sha256(prev_hash ‖ canonical JSON of the other fields)``.

``canonical_json`` is the definition (the standard library, sorted keys, no spaces, UTF-8).
``canonical_text`` and ``BatchHasher`` are the fast paths the ledger writes with: orjson where it
yields the very same text (tests/ledger/test_hashing.py proves the equality on random values), the
definition everywhere else.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import orjson

__all__ = [
    "GENESIS",
    "HASHED_FIELDS",
    "BatchHasher",
    "canonical_json",
    "canonical_text",
    "event_hash",
    "event_hash_from_texts",
    "hash_parts",
]

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

_SORT = orjson.OPT_SORT_KEYS


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, UTF-8 (not ASCII-escaped)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _orjson_same(value: Any) -> bool:
    """True when orjson writes ``value`` exactly as :func:`canonical_json` does.

    Strings, ints, bools, None, lists, tuples and dicts with string keys are written alike
    (escapes included; orjson refuses what it cannot, e.g. integers beyond 64 bits or lone
    surrogates, and the caller falls back). Floats are not: ``1e16`` is ``1e+16`` in Python.
    """
    kind = type(value)
    if kind is dict:
        if any(type(key) is not str for key in value):
            return False
        inners = value.values()
    elif kind is list or kind is tuple:
        inners = value
    else:
        return kind is str or kind is int or kind is bool or value is None
    for inner in inners:  # scalars inline: a call per value would cost more than the dump
        k = type(inner)
        if not (k is str or k is int or k is bool or inner is None or _orjson_same(inner)):
            return False
    return True


def canonical_text(value: Any) -> str:
    """:func:`canonical_json`, several times faster for the values events carry."""
    if _orjson_same(value):
        try:
            return orjson.dumps(value, option=_SORT).decode()
        except (TypeError, orjson.JSONEncodeError):
            pass
    return canonical_json(value)


def _quote(value: str | None) -> str:
    """A JSON string (or null) as :func:`canonical_json` writes it."""
    if value is None:
        return "null"
    if type(value) is str:
        try:
            return orjson.dumps(value).decode()
        except (TypeError, orjson.JSONEncodeError):
            pass
    return json.dumps(value, ensure_ascii=False)


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
    return BatchHasher(ts, actor_text, cycle_id, correlation_id, causation_id)(
        prev_hash, seq, event_id, stream_id, version, type_, schema_version, payload_text
    )


class BatchHasher:
    """:func:`hash_parts` for many events that share their time, actor and ids (one append):
    the fields they share are quoted once, in the canonical body's key order."""

    __slots__ = ("_head", "_ts")

    def __init__(
        self,
        ts: str,
        actor_text: str,
        cycle_id: str | None,
        correlation_id: str | None,
        causation_id: str | None,
    ) -> None:
        self._head = (
            f'{{"actor":{actor_text},"causation_id":{_quote(causation_id)},'
            f'"correlation_id":{_quote(correlation_id)},"cycle_id":{_quote(cycle_id)},'
            '"event_id":'
        )
        self._ts = _quote(ts)

    def __call__(
        self,
        prev_hash: str,
        seq: int,
        event_id: str,
        stream_id: str,
        version: int,
        type_: str,
        schema_version: int,
        payload_text: str,
    ) -> str:
        body = (
            f"{prev_hash}{self._head}{_quote(event_id)},"
            f'"payload":{payload_text},"schema_version":{schema_version},"seq":{seq},'
            f'"stream_id":{_quote(stream_id)},"ts":{self._ts},"type":{_quote(type_)},'
            f'"version":{version}}}'
        )
        return hashlib.sha256(body.encode("utf-8")).hexdigest()
