"""Injected faults: what the next matching requests get instead of (or before) their answer.

A fault matches by HTTP method and path (a glob such as ``/repos/*/issues*``, or a regular
expression searched in ``path?query``) and fires ``count`` times (None: until cleared). Kinds:

``status``                a 5xx (default 500) with GitHub's error body
``primary_rate_limit``    403 (or 429) with ``X-RateLimit-Remaining: 0`` and a future reset
``secondary_rate_limit``  403 (or 429) with ``Retry-After`` and GitHub's secondary-limit message
``reset``                 the socket is closed with RST, no response at all
``close``                 the connection is closed (FIN), no response at all
``latency``               the request waits ``delay_ms`` and is then answered normally
``body``                  ``status`` (default 200) with ``body`` as given (a string verbatim:
                          not JSON, a truncated object…), the request itself not run

``when`` says where the fault strikes. ``before`` (the default): the request is not run. ``after``:
the request is run to the end — the PR created, the comment posted, the push's refs updated, all
persisted — and only then is its answer dropped (``reset``, ``close``), replaced (``status``,
``body``) or delayed (``latency``). An ``after`` fault fires only on a request whose own answer is a
success (status < 400) and stays armed otherwise. Rate limits cannot be ``after``: GitHub refuses a
rate-limited request unprocessed, and a client may rightly send it again.
"""

from __future__ import annotations

import fnmatch
import re
import threading
from dataclasses import asdict, dataclass
from typing import Any

from ghw.fakehub.errors import validation_failed

__all__ = [
    "DROPS",
    "KINDS",
    "WHEN",
    "Fault",
    "FaultRegistry",
]

KINDS = (
    "status",
    "primary_rate_limit",
    "secondary_rate_limit",
    "reset",
    "close",
    "latency",
    "body",
)
WHEN = ("before", "after")
# What a request gets instead of an answer: no response at all.
DROPS = ("reset", "close")


@dataclass(slots=True)
class Fault:
    id: int
    kind: str
    path: str = "*"
    regex: str | None = None
    method: str = "*"
    count: int | None = 1
    status: int | None = None
    retry_after: int | None = 60
    reset_in: int = 60
    delay_ms: int = 0
    body: Any = None
    when: str = "before"
    hits: int = 0

    def matches(self, method: str, path: str, query: str) -> bool:
        if self.method != "*" and self.method.upper() != method.upper():
            return False
        if self.regex is not None:
            target = f"{path}?{query}" if query else path
            return re.search(self.regex, target) is not None
        return fnmatch.fnmatchcase(path, self.path)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class FaultRegistry:
    """Thread-safe list of faults, consumed in the order they were added."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._next = 1

    def add(self, spec: dict[str, Any]) -> Fault:
        """Add a fault from its JSON form; refuses unknown kinds and fields with a 422."""
        spec = dict(spec)
        kind = spec.pop("kind", "status")
        if kind not in KINDS:
            raise validation_failed({"resource": "Fault", "code": "invalid", "field": "kind"})
        allowed = {
            "path",
            "regex",
            "method",
            "count",
            "status",
            "retry_after",
            "reset_in",
            "delay_ms",
            "body",
            "when",
        }
        unknown = set(spec) - allowed
        if unknown:
            raise validation_failed(
                {"resource": "Fault", "code": "invalid", "field": sorted(unknown)[0]}
            )
        if spec.get("regex") is not None:
            try:
                re.compile(spec["regex"])
            except re.error as exc:
                raise validation_failed(
                    {"resource": "Fault", "code": "invalid", "field": "regex"}
                ) from exc
        when = spec.get("when") or "before"
        if when not in WHEN or (
            when == "after" and kind in {"primary_rate_limit", "secondary_rate_limit"}
        ):
            raise validation_failed({"resource": "Fault", "code": "invalid", "field": "when"})
        status = spec.get("status")
        if kind == "status":
            status = int(status or 500)
            if not 400 <= status <= 599:
                raise validation_failed({"resource": "Fault", "code": "invalid", "field": "status"})
        elif kind == "body":
            status = int(status or 200)
            if not 200 <= status <= 599 or spec.get("body") is None:
                field = "status" if spec.get("body") is not None else "body"
                raise validation_failed({"resource": "Fault", "code": "invalid", "field": field})
        elif kind in {"primary_rate_limit", "secondary_rate_limit"}:
            status = int(status or 403)
            if status not in {403, 429}:
                raise validation_failed({"resource": "Fault", "code": "invalid", "field": "status"})
        count = spec.get("count", 1)
        with self._lock:
            fault = Fault(
                id=self._next,
                kind=kind,
                path=str(spec.get("path") or "*"),
                regex=spec.get("regex"),
                method=str(spec.get("method") or "*").upper(),
                count=None if count is None else int(count),
                status=status,
                retry_after=spec.get("retry_after", 60),
                reset_in=int(spec.get("reset_in", 60)),
                delay_ms=int(spec.get("delay_ms", 0)),
                body=spec.get("body"),
                when=when,
            )
            self._next += 1
            self._faults.append(fault)
            return fault

    def list(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def remove(self, fault_id: int) -> bool:
        with self._lock:
            before = len(self._faults)
            self._faults = [f for f in self._faults if f.id != fault_id]
            return len(self._faults) != before

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def take(self, method: str, path: str, query: str) -> tuple[int, Fault | None]:
        """Consume the ``before`` faults for one request: (total latency ms, the first
        non-latency fault).

        Every matching latency fault adds its delay; the first matching other fault is returned.
        Counts are decremented here and spent faults removed, so ``count: 2`` fails exactly two
        requests even when workers race.
        """
        return self._take(method, path, query, "before")

    def take_after(self, method: str, path: str, query: str) -> tuple[int, Fault | None]:
        """The same for the ``after`` faults, once the request has been run and succeeded."""
        return self._take(method, path, query, "after")

    def armed_after(self, method: str, path: str, query: str) -> bool:
        """Whether an ``after`` fault may fire for this request (nothing is consumed): git
        answers are then held back until the request is done, so they can still be dropped."""
        with self._lock:
            return any(f.when == "after" and f.matches(method, path, query) for f in self._faults)

    def _take(self, method: str, path: str, query: str, when: str) -> tuple[int, Fault | None]:
        delay = 0
        chosen: Fault | None = None
        with self._lock:
            for fault in list(self._faults):
                if fault.when != when or not fault.matches(method, path, query):
                    continue
                if fault.kind == "latency":
                    delay += fault.delay_ms
                elif chosen is None:
                    chosen = fault
                else:
                    continue
                fault.hits += 1
                if fault.count is not None:
                    fault.count -= 1
                    if fault.count <= 0:
                        self._faults.remove(fault)
        return delay, chosen
