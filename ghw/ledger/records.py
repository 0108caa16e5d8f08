"""Data that crosses the ledger's boundary."""

from __future__ import annotations

import os
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ghw.machine.events import Event
from ghw.procinfo import process_start_time

__all__ = [
    "AppendRequest",
    "Claim",
    "ClaimFilters",
    "Holder",
    "LeaseRow",
    "ReplayReport",
    "RetryPolicy",
    "StoredEvent",
    "Takeover",
    "process_start_time",
]


@dataclass(slots=True)
class StoredEvent:
    seq: int
    event_id: str
    stream_id: str
    version: int
    type: str
    schema_version: int
    payload: dict[str, Any]
    ts: str
    actor: dict[str, Any]
    cycle_id: str | None
    correlation_id: str | None
    causation_id: str | None
    prev_hash: str
    hash: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "event_id": self.event_id,
            "stream_id": self.stream_id,
            "version": self.version,
            "type": self.type,
            "schema_version": self.schema_version,
            "payload": self.payload,
            "ts": self.ts,
            "actor": self.actor,
            "cycle_id": self.cycle_id,
            "correlation_id": self.correlation_id,
            "causation_id": self.causation_id,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


@dataclass(frozen=True, slots=True)
class Holder:
    """Who holds a lease: one process on one host, and the worker inside it."""

    host: str
    pid: int
    start: float | None
    worker: str = ""

    @classmethod
    def current(cls, worker: str = "") -> Holder:
        pid = os.getpid()
        return cls(socket.gethostname(), pid, process_start_time(pid), worker)

    def as_dict(self) -> dict[str, Any]:
        return {"host": self.host, "pid": self.pid, "worker": self.worker}


@dataclass(frozen=True, slots=True)
class ClaimFilters:
    """Which issues a claim may take (§4.1 filters). Empty means no restriction."""

    repos: Sequence[str] = ()
    numbers: Sequence[int] = ()
    labels: Sequence[str] = ()
    since: str | None = None  # GitHub's updated_at >= since (ISO-8601)
    exclude: Sequence[str] = ()  # stream ids not to take (e.g. already tried this run)


@dataclass(frozen=True, slots=True)
class Claim:
    stream_id: str
    phase: str
    token: int
    holder: Holder
    expires_at: float
    from_state: str
    version: int  # the stream's version after the *Started event


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """When a step whose lease ran out may run again: values the caller reads from its
    configuration before it calls the ledger, so no configuration is read inside a transaction.

    ``backoff`` seconds before the first retry, doubling with each attempt up to ``max_backoff``;
    ``backoff`` None: an expired step waits for ``ghw retry``.
    """

    max_attempts: int = 3
    backoff: float | None = None
    max_backoff: float | None = None

    def delay(self, attempt: int) -> float | None:
        """Seconds from now until attempt number ``attempt`` may start (None: not by itself)."""
        if self.backoff is None:
            return None
        delay = self.backoff * (2 ** max(0, attempt - 1))
        return delay if self.max_backoff is None else min(self.max_backoff, delay)


@dataclass(frozen=True, slots=True)
class Takeover:
    """A lease taken over at claim time; its agent group may still need killing."""

    stream_id: str
    reason: str
    phase: str
    pgid: int | None
    leader_start: float | None
    holder: dict[str, Any]


@dataclass(frozen=True, slots=True)
class LeaseRow:
    stream_id: str
    repo: str
    phase: str
    token: int
    holder: Holder
    claimed_at: float
    expires_at: float
    pgid: int | None
    leader_start: float | None


@dataclass(frozen=True, slots=True)
class AppendRequest:
    stream_id: str
    expected_version: int | None
    events: Sequence[Event]
    fence: Claim | None = None


@dataclass(slots=True)
class ReplayReport:
    events: int = 0
    streams: int = 0
    until: int | None = None
    verified: bool | None = None
    first_bad_seq: int | None = None
    problem: str | None = None
    seconds: float = 0.0
    issues: list[dict[str, Any]] = field(default_factory=list)
