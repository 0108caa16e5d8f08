"""The one runtime assembly: ledger, GitHub client and phase context built from the
configuration — the same way for `ghw` commands, the orchestrator, scripts and tests — and
closed again.

Everything a run depends on is made here and passed in: the clock (to the ledger and the
phases), the token (resolved once, kept apart from the values to redact), the stop signals, and
for tests the GitHub client's clock, sleep and transport.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ghw.config import Config
from ghw.errors import ConfigError
from ghw.ledger.store import Ledger, format_ts
from ghw.machine import events as ev
from ghw.phases.context import PhaseContext, Reporter

__all__ = [
    "connect_github",
    "github_token",
    "ledger_target",
    "open_github",
    "open_runtime",
    "require_github_token",
]


def github_token(config: Config, environ: Mapping[str, str]) -> str | None:
    # start-up: ghw.github loads httpx, which only commands that talk to GitHub need
    from ghw.github.auth import resolve_token

    return resolve_token(list(config["github.token_env"]), environ)


def require_github_token(config: Config, environ: Mapping[str, str]) -> str:
    """The token, or the configuration error every command reports without one (§6: exit 2,
    before any work)."""
    token = github_token(config, environ)
    if token:
        return token
    names = ", ".join(config["github.token_env"]) or "(none: github.token_env is empty)"
    raise ConfigError(
        f"no GitHub token: none of {names} is set in the environment. Export a token with "
        "repo access (e.g. `export GITHUB_TOKEN=...`, or `export GITHUB_TOKEN=$(gh auth token)`), "
        "or name the variable that holds it with `ghw config set github.token_env VAR`."
    )


def ledger_target(config: Config, *, dry_run: bool) -> tuple[str | Path, bool]:
    """The one dry-run rule for the ledger: (what to open, read-only?). A dry run writes
    nothing: it reads the ledger read-only, or, when there is none yet, an empty one in memory
    (so it creates no file either)."""
    path = config.ledger_path
    if not dry_run:
        return path, False
    if not path.exists():
        return ":memory:", False
    return path, True


def _not_before(rate_waits: list[str | None]) -> float | None:
    """The latest recorded rate-limit wait, so a restarted ghw honours it."""
    latest = max((w for w in rate_waits if w), default=None)
    if latest is None:
        return None
    return datetime.strptime(latest, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC).timestamp()


@asynccontextmanager
async def open_github(
    config: Config,
    environ: Mapping[str, str],
    *,
    token: str | None = None,
    not_before: float | None = None,
    clock: Callable[[], float] | None = None,
    sleep: Any = None,
    transport: Any = None,
) -> AsyncIterator[Any]:
    # start-up: ghw.github loads httpx, which only commands that talk to GitHub need
    from ghw.github import GitHubClient

    token = token or require_github_token(config, environ)
    kwargs: dict[str, Any] = {
        "timeout": config.seconds("github.timeout"),
        "write_interval": config.seconds("github.write_interval"),
        "max_rate_wait": config.seconds("github.max_rate_wait"),
        "not_before": not_before,
    }
    if clock is not None:
        kwargs["clock"] = clock
    if sleep is not None:
        kwargs["sleep"] = sleep
    if transport is not None:
        kwargs["transport"] = transport
    async with GitHubClient(config["github.api_url"], token, **kwargs) as client:
        yield client


_REPO_PATH = re.compile(r"^(?:.*?)/repos/([^/]+)/([^/?#]+)")


def _rate_limit_recorder(ctx: PhaseContext) -> Callable[[Any], Awaitable[None]]:
    """Record every rate-limit wait (of any phase) on the repository it was met for, so a
    restarted ghw honours it."""

    async def record(wait: Any) -> None:
        match = _REPO_PATH.match(wait.path or "")
        if match is None:
            return
        repo = f"{match.group(1)}/{match.group(2)}"
        until = format_ts(datetime.fromtimestamp(wait.until, UTC))
        await ctx.ledger.append(
            repo,
            None,
            [ev.RateLimitWait(until=until, reason=wait.reason, path=wait.path)],
            cycle_id=ctx.cycle_id,
        )
        ctx.reporter.line(f"  {repo}: rate limited ({wait.reason}); waiting until {until}")

    return record


@asynccontextmanager
async def connect_github(
    ctx: PhaseContext,
    *,
    clock: Callable[[], float] | None = None,
    sleep: Any = None,
    transport: Any = None,
) -> AsyncIterator[Any]:
    """The GitHub client for ``ctx`` (set as ``ctx.github`` while open). Its ``not_before``
    comes from the ledger's recorded ``RateLimitWait`` events, and the waits it meets are
    recorded there (not in a dry run, which writes nothing). Raises ConfigError without a
    token."""
    not_before = _not_before([r.rate_wait_until for r in await ctx.ledger.repos()])
    async with open_github(
        ctx.config,
        ctx.environ,
        token=ctx.token,
        not_before=not_before,
        clock=clock,
        sleep=sleep,
        transport=transport,
    ) as gh:
        if not ctx.dry_run:
            gh.on_rate_limit_wait = _rate_limit_recorder(ctx)
        ctx.github = gh
        try:
            yield gh
        finally:
            ctx.github = None


@asynccontextmanager
async def open_runtime(
    config: Config,
    environ: Mapping[str, str],
    reporter: Reporter,
    *,
    dry_run: bool = False,
    need_github: bool = True,
    cycle_id: str | None = None,
    worker: str = "ghw",
    clock: Callable[[], datetime] | None = None,
    stop: asyncio.Event | None = None,
    hurry: asyncio.Event | None = None,
    github_clock: Callable[[], float] | None = None,
    github_sleep: Any = None,
    github_transport: Any = None,
) -> AsyncIterator[PhaseContext]:
    """A PhaseContext with the ledger (see :func:`ledger_target` for a dry run) and, when
    ``need_github``, the GitHub client (:func:`connect_github`).

    ``clock`` reaches the ledger (event times, leases) and the phases. ``github_clock`` (epoch
    seconds), ``github_sleep`` and ``github_transport`` go to the GitHub client, so tests run
    rate-limit waits and retries without sleeping.
    """
    target, readonly = ledger_target(config, dry_run=dry_run)
    optional: dict[str, Any] = {"clock": clock} if clock else {}
    ledger = await Ledger.open(
        target,
        readonly=readonly,
        worker=worker,
        max_page_count=config.get("ledger_max_pages"),
        **optional,
    )
    try:
        token = github_token(config, environ)
        ctx = PhaseContext(
            config=config,
            ledger=ledger,
            issues_path=config.issues_path,
            reporter=reporter,
            environ=environ,
            cycle_id=cycle_id,
            dry_run=dry_run,
            token=token,
            secrets=(token,) if token else (),
            stop=stop or asyncio.Event(),
            hurry=hurry or asyncio.Event(),
            **optional,
        )
        if need_github:
            async with connect_github(
                ctx, clock=github_clock, sleep=github_sleep, transport=github_transport
            ):
                yield ctx
        else:
            yield ctx
    finally:
        await ledger.close()
