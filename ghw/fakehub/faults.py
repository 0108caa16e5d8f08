"""Injected faults: what the next matching requests get instead of (or before) their answer.

A fault matches by HTTP method and path (a glob such as ``/repos/*/issues*``, or a regular
expression searched in ``path?query``) and fires ``count`` times (None: until cleared). Kinds:

``status``                a 5xx (default 500) with GitHub's error body
``primary_rate_limit``    403 (or 429) with ``X-RateLimit-Remaining: 0`` and a future reset
``secondary_rate_limit``  403 (or 429) with ``Retry-After`` and GitHub's secondary-limit message
``reset``                 the socket is closed with RST, no response at all
``latency``               the request waits ``delay_ms`` and is then answered normally
``body``                  ``status`` (default 200) with ``body`` as given (a string verbatim:
                          not JSON, a truncated object…), the request itself not run
"""

from __future__ import annotations

import fnmatch
import re
import threading
from dataclasses import asdict, dataclass
from typing import Any

from ghw.fakehub.errors import validation_failed

__all__ = ["Fault", "FaultRegistry"]

KINDS = ("status", "primary_rate_limit", "secondary_rate_limit", "reset", "latency", "body")


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
        """Consume the faults for one request: (total latency ms, the first non-latency fault).

        Every matching latency fault adds its delay; the first matching other fault is returned.
        Counts are decremented here and spent faults removed, so ``count: 2`` fails exactly two
        requests even when workers race.
        """
        delay = 0
        chosen: Fault | None = None
        with self._lock:
            for fault in list(self._faults):
                if not fault.matches(method, path, query):
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
