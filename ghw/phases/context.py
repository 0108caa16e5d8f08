"""What every phase is given: explicit dependencies, no globals (so tests build any situation)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from ghw.config import Config
from ghw.ledger.records import ClaimFilters
from ghw.ledger.store import Ledger

__all__ = ["Filters", "PhaseContext", "Reporter", "RunCaches", "StreamReporter"]


class Reporter(Protocol):
    """Where progress lines go (the console); phases never print directly."""

    def line(self, text: str) -> None: ...


@dataclass
class StreamReporter:
    write: Callable[[str], Any]

    def line(self, text: str) -> None:
        self.write(text)


@dataclass(frozen=True)
class Filters:
    """The §4.1 filters every phase honours."""

    repos: tuple[str, ...] = ()  # names or owner/* patterns, as given
    since: str | None = None
    numbers: tuple[int | tuple[int, int], ...] = ()
    labels: tuple[str, ...] = ()

    @property
    def narrowing(self) -> bool:
        """A sync narrowed by these stores no cursor (so it never hides an update)."""
        return bool(self.since or self.numbers or self.labels)

    def matches_number(self, number: int) -> bool:
        if not self.numbers:
            return True
        return any(
            (lo <= number <= hi) if isinstance(spec, tuple) else number == spec
            for spec in self.numbers
            for lo, hi in [spec if isinstance(spec, tuple) else (spec, spec)]
        )

    def matches_labels(self, labels: Sequence[str]) -> bool:
        """Any of ``--label``, compared as GitHub does: without regard to case."""
        if not self.labels:
            return True
        wanted = {label.casefold() for label in self.labels}
        return any(label.casefold() in wanted for label in labels)

    def claim_filters(self, repos: Sequence[str], exclude: Sequence[str] = ()) -> ClaimFilters:
        return ClaimFilters(
            repos=tuple(repos),
            numbers=self.numbers,
            labels=self.labels,
            since=self.since,
            exclude=tuple(exclude),
        )


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class RunCaches:
    """What one run learns once and its steps share (each a field, so it has a type and a
    reader can find who fills it)."""

    # repository -> default branch, clone URL, owner (steps.repo_info)
    repo_info: dict[str, Any] = field(default_factory=dict)
    # repository -> its bare mirror (steps._workspace)
    mirrors: dict[str, Any] = field(default_factory=dict)
    # repository -> the one fetch of its mirror in this phase run (steps._fetched)
    mirror_fetches: dict[str, Any] = field(default_factory=dict)
    # owner -> (its repositories, or why they could not be listed): one request per cycle
    owner_listings: dict[str, tuple[list[str], str | None]] = field(default_factory=dict)
    # owner/* pattern -> why it could not be expanded, for the phase's outcome
    unresolved: dict[str, str] = field(default_factory=dict)
    # the token's own login (GET /user, read once per run by the watch, only when it reads a PR;
    # "" when it could not be read): feedback from ghw's own account is never acted on
    own_login: str | None = None


@dataclass
class PhaseContext:
    config: Config
    ledger: Ledger
    issues_path: Path
    reporter: Reporter
    environ: Mapping[str, str]
    github: Any = None  # GitHubClient; Any so phases that need none can run without it
    clock: Callable[[], datetime] = _utcnow
    cycle_id: str | None = None
    dry_run: bool = False
    # the GitHub token, for ghw's own git calls only (never logged, never given to an agent)
    token: str | None = None
    # values no agent may see and every transcript or stored text is scrubbed of (the token)
    secrets: tuple[str, ...] = ()
    # set on the first Ctrl+C / SIGTERM: take no new work; `hurry` on the second: no grace
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    hurry: asyncio.Event = field(default_factory=asyncio.Event)
    cycle_cost_usd: float = 0.0  # what this run's steps cost so far (budget.per_cycle_usd)
    caches: RunCaches = field(default_factory=RunCaches)
