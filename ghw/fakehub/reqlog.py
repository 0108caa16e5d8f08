"""The request log: what clients asked for and what they got, tokens redacted.

Tests read it through the control API to assert on traffic (one ``304`` per unchanged repository,
the ``If-None-Match`` sent, a retry after a fault). The ``Authorization`` header keeps only its
scheme (``Bearer [redacted]``), so the log can be printed or stored safely.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Mapping
from typing import Any

__all__ = [
    "SECRET_HEADERS",
    "RequestLog",
    "redact_headers",
]

SECRET_HEADERS = {"authorization", "proxy-authorization", "cookie"}


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Headers with secrets replaced: ``Authorization: Bearer abc`` → ``Bearer [redacted]``."""
    result: dict[str, str] = {}
    for name, value in headers.items():
        if name.lower() in SECRET_HEADERS:
            scheme = value.split(" ", 1)[0] if " " in value else ""
            value = f"{scheme} [redacted]".strip()
        result[name] = value
    return result


class RequestLog:
    """A bounded, thread-safe list of request records with increasing ``seq``."""

    def __init__(self, maxlen: int = 100_000) -> None:
        self._lock = threading.Lock()
        self._entries: deque[dict[str, Any]] = deque(maxlen=maxlen)
        self._seq = 0

    def add(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._seq += 1
            entry["seq"] = self._seq
            self._entries.append(entry)

    def entries(self, after_seq: int = 0) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(e) for e in self._entries if e["seq"] > after_seq]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
