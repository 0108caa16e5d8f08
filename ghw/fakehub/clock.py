"""The fakehub clock: wall time plus an offset that tests can move.

GitHub timestamps (``created_at``, ``updated_at``, ``X-RateLimit-Reset``) all come from one
:class:`Clock` so a test can shift time (``since`` filters, rate-limit resets) without sleeping.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

__all__ = ["Clock", "format_ts", "parse_ts"]


class Clock:
    """Epoch seconds from ``source`` (``time.time`` by default) plus a settable offset."""

    def __init__(self, source: Callable[[], float] = time.time, offset: float = 0.0) -> None:
        self._source = source
        self._offset = offset
        self._lock = threading.Lock()

    @property
    def offset(self) -> float:
        with self._lock:
            return self._offset

    def set_offset(self, seconds: float) -> None:
        with self._lock:
            self._offset = float(seconds)

    def set_now(self, epoch: float) -> None:
        """Make ``now()`` return ``epoch`` at this moment (it keeps running from there)."""
        with self._lock:
            self._offset = float(epoch) - self._source()

    def now(self) -> float:
        with self._lock:
            return self._source() + self._offset

    def now_int(self) -> int:
        """Whole seconds, as GitHub's timestamps have no fractions."""
        return int(self.now())


def format_ts(epoch: int | float | None) -> str | None:
    """GitHub's timestamp shape: ``2024-01-02T03:04:05Z`` (UTC, whole seconds)."""
    if epoch is None:
        return None
    return datetime.fromtimestamp(int(epoch), tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_ts(text: str | int | float | datetime) -> int:
    """Parse an ISO 8601 timestamp (``Z`` or an offset; naive means UTC) into epoch seconds.

    Raises ValueError for anything else, which callers turn into GitHub's 422.
    """
    if isinstance(text, datetime):
        stamp = text if text.tzinfo else text.replace(tzinfo=UTC)
        return int(stamp.timestamp())
    if isinstance(text, int | float):
        return int(text)
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp())
