"""Shared by the sync tests: a fakehub, a ledger and an injected clock, wired like a real run.

``SyncRig.sync(...)`` runs the real sync phase (``run_sync``) through ``ghw.runtime.open_runtime``,
the same path a command takes (ledger opened read-only for a dry run, the client's ``not_before``
read from the ledger), with the GitHub client's ``clock`` and ``sleep`` injected: rate-limit waits
and retry back-offs advance a fake clock instead of sleeping.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ghw.cli.context import AppContext
from ghw.cli.main import main
from ghw.config import Config, load_config
from ghw.fakehub import FakeHub
from ghw.ledger.records import StoredEvent
from ghw.ledger.store import Ledger
from ghw.machine.view import IssueView
from ghw.phases.context import Filters, StreamReporter
from ghw.phases.sync import SyncResult, run_sync
from ghw.runtime import open_runtime

TOKEN = "ghp_sync_tests_token_0001"


class FakeTime:
    """The GitHub client's clock and sleep: sleeping records the wait and moves the clock.

    It starts at the real time so that fakehub's ``X-RateLimit-Reset`` (fakehub's clock is the
    real one) lies a few seconds ahead of it, as on GitHub.
    """

    def __init__(self, start: float) -> None:
        self.now = start
        self.sleeps: list[float] = []
        self.fail_on_sleep: BaseException | None = None

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        if self.fail_on_sleep is not None:
            raise self.fail_on_sleep
        self.sleeps.append(seconds)
        self.now += max(0.0, seconds)


@dataclass
class SyncRun:
    result: SyncResult
    lines: list[str]


@dataclass
class SyncRig:
    hub: FakeHub
    root: Path
    time: FakeTime
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def issues_path(self) -> Path:
        return self.root / "issues"

    @property
    def ledger_path(self) -> Path:
        return self.issues_path / "ghw.db"

    @property
    def environ(self) -> dict[str, str]:
        return {"GITHUB_TOKEN": TOKEN}

    def config(self, **settings: Any) -> Config:
        overrides = {
            "issues_path": str(self.issues_path),
            "github.api_url": self.hub.base_url,
            **self.settings,
            **settings,
        }
        return load_config(None, self.environ, overrides)

    async def sync(
        self,
        *repos: str,
        since: str | None = None,
        numbers: Sequence[int | tuple[int, int]] = (),
        labels: Sequence[str] = (),
        dry_run: bool = False,
        settings: Mapping[str, Any] | None = None,
    ) -> SyncRun:
        lines: list[str] = []
        filters = Filters(
            repos=tuple(repos), since=since, numbers=tuple(numbers), labels=tuple(labels)
        )
        async with open_runtime(
            self.config(**dict(settings or {})),
            self.environ,
            StreamReporter(lines.append),
            dry_run=dry_run,
            github_clock=self.time.clock,
            github_sleep=self.time.sleep,
        ) as ctx:
            result = await run_sync(ctx, filters)
        return SyncRun(result, lines)

    async def ledger(self) -> Ledger:
        return await Ledger.open(self.ledger_path, readonly=True)

    async def events(self, stream_prefix: str = "") -> list[StoredEvent]:
        led = await self.ledger()
        try:
            events = [e async for e in led.read()]
        finally:
            await led.close()
        return [e for e in events if e.stream_id.startswith(stream_prefix)]

    async def issues(self, repo: str | None = None) -> dict[int, IssueView]:
        led = await self.ledger()
        try:
            views = await led.issues(repo=repo)
        finally:
            await led.close()
        return {v.number: v for v in views}

    def api_requests(self, after: int = 0) -> list[dict[str, Any]]:
        """fakehub's log of API requests (git requests excluded)."""
        return [r for r in self.hub.control.requests(after) if not r.get("git")]

    def last_seq(self) -> int:
        log = self.hub.control.requests()
        return log[-1]["seq"] if log else 0


def type_counts(events: Sequence[StoredEvent]) -> Counter[tuple[str, str]]:
    """(stream, type) -> how many: a duplicate IssueSynced shows up as a 2."""
    return Counter((e.stream_id, e.type) for e in events)


def run_cli(args: list[str], environ: Mapping[str, str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(args, context=AppContext(environ=dict(environ), stdout=out, stderr=err))
    return code, out.getvalue(), err.getvalue()
