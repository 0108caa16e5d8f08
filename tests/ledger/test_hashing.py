"""The ledger's fast serialisation paths write exactly the canonical text the hash chain defines."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from ghw.ledger.hashing import (
    BatchHasher,
    canonical_json,
    canonical_text,
    event_hash,
    hash_parts,
)

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text()
)
_json = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(_json)
def test_canonical_text_is_canonical_json(value: Any) -> None:
    assert canonical_text(value) == canonical_json(value)


def test_canonical_text_falls_back_where_orjson_differs() -> None:
    # Python writes 1e+16, orjson 1e16; orjson refuses integers beyond 64 bits
    value = {"cost": 1e16, "big": 2**64, "tiny": 1e-7, "text": 'é\n\x1f"\\'}
    assert canonical_text(value) == canonical_json(value)
    assert '"cost":1e+16' in canonical_text(value)


_ids = st.text(min_size=1, max_size=12) | st.none()


@given(
    prev=st.text(alphabet="0123456789abcdef", min_size=64, max_size=64),
    seq=st.integers(min_value=1, max_value=2**40),
    event_id=st.text(min_size=1, max_size=32),
    stream_id=st.text(min_size=1, max_size=20),
    version=st.integers(min_value=1, max_value=10**6),
    type_=st.text(min_size=1, max_size=20),
    payload=st.dictionaries(st.text(max_size=5), _scalars, max_size=5),
    ts=st.text(min_size=1, max_size=30),
    actor=st.dictionaries(st.text(max_size=5), st.text(max_size=5) | st.integers(), max_size=3),
    cycle_id=_ids,
    correlation_id=_ids,
    causation_id=_ids,
)
def test_batch_hasher_is_event_hash(
    prev: str,
    seq: int,
    event_id: str,
    stream_id: str,
    version: int,
    type_: str,
    payload: dict[str, Any],
    ts: str,
    actor: dict[str, Any],
    cycle_id: str | None,
    correlation_id: str | None,
    causation_id: str | None,
) -> None:
    fields = {
        "seq": seq,
        "event_id": event_id,
        "stream_id": stream_id,
        "version": version,
        "type": type_,
        "schema_version": 1,
        "payload": payload,
        "ts": ts,
        "actor": actor,
        "cycle_id": cycle_id,
        "correlation_id": correlation_id,
        "causation_id": causation_id,
    }
    expected = event_hash(prev, fields)
    hasher = BatchHasher(ts, canonical_text(actor), cycle_id, correlation_id, causation_id)
    payload_text = canonical_text(payload)
    assert hasher(prev, seq, event_id, stream_id, version, type_, 1, payload_text) == expected
    assert (
        hash_parts(
            prev,
            seq,
            event_id,
            stream_id,
            version,
            type_,
            1,
            payload_text,
            ts,
            canonical_text(actor),
            cycle_id,
            correlation_id,
            causation_id,
        )
        == expected
    )


def test_event_hash_is_sha256_of_prev_and_the_canonical_body() -> None:
    fields = {name: None for name in ("event_id", "stream_id", "type", "ts")}
    fields.update(
        seq=1,
        version=1,
        schema_version=1,
        payload={"b": 1, "a": "x"},
        actor={},
        cycle_id=None,
        correlation_id=None,
        causation_id=None,
    )
    body = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert event_hash("0" * 64, fields) == hashlib.sha256(("0" * 64 + body).encode()).hexdigest()
