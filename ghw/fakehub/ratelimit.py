"""Realistic ``X-RateLimit-*`` headers for every API answer.

fakehub never refuses for volume (faults do that on purpose); it counts requests in hourly
windows so clients see headers shaped and moving like GitHub's. When a window's count reaches the
limit a new window starts, so ``Remaining`` never reads 0 on a successful answer (a client that
pauses on ``Remaining: 0`` would otherwise stall on a fake).
"""

from __future__ import annotations

import threading

from ghw.fakehub.clock import Clock

__all__ = ["RateCounter"]


class RateCounter:
    def __init__(self, clock: Clock, limit: int = 5000, window: int = 3600) -> None:
        self.clock = clock
        self.limit = limit
        self.window = window
        self._lock = threading.Lock()
        self._used = 0
        self._reset = 0

    def headers(self, *, count: bool, resource: str = "core") -> dict[str, str]:
        """Headers for one answer; ``count=False`` for answers that are free (304)."""
        now = self.clock.now_int()
        with self._lock:
            if now >= self._reset or self._used >= self.limit - 1:
                self._reset = now + self.window
                self._used = 0
            if count:
                self._used += 1
            used, reset = self._used, self._reset
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.limit - used),
            "X-RateLimit-Reset": str(reset),
            "X-RateLimit-Used": str(used),
            "X-RateLimit-Resource": resource,
        }

    def exhausted_headers(self, reset_at: int, resource: str = "core") -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": str(reset_at),
            "X-RateLimit-Used": str(self.limit),
            "X-RateLimit-Resource": resource,
        }
