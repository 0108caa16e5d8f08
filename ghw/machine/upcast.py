"""Upcasting: old event payloads are brought to today's schema on read, never rewritten.

Each entry maps (event type, stored schema_version) to a pure function returning the payload of
the next version. A payload is upcast step by step until it reaches the type's SCHEMA_VERSION.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Mapping
from typing import Any

from ghw.machine.events import EVENT_TYPES

__all__ = [
    "UPCASTERS",
    "Upcaster",
    "upcast",
]

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]

UPCASTERS: Mapping[tuple[str, int], Upcaster] = types.MappingProxyType({})


def upcast(
    event_type: str,
    schema_version: int,
    payload: dict[str, Any],
    upcasters: Mapping[tuple[str, int], Upcaster] = UPCASTERS,
) -> tuple[dict[str, Any], int]:
    cls = EVENT_TYPES.get(event_type)
    target = cls.SCHEMA_VERSION if cls is not None else schema_version
    while schema_version < target:
        step = upcasters.get((event_type, schema_version))
        if step is None:
            raise ValueError(f"no upcaster for {event_type} v{schema_version}")
        payload = step(payload)
        schema_version += 1
    return payload, schema_version
