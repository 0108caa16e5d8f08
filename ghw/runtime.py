"""Opening what a run needs — ledger, GitHub client — from the configuration, and closing it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ghw.config import Config
from ghw.errors import ConfigError
from ghw.ledger.store import Ledger
from ghw.phases.context import PhaseContext, Reporter

__all__ = ["github_token", "open_github", "open_runtime", "require_github_token"]


def github_token(config: Config, environ: Mapping[str, str]) -> str | None:
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
    not_before: float | None = None,
    clock: Callable[[], float] | None = None,
    sleep: Any = None,
    transport: Any = None,
) -> AsyncIterator[Any]:
    from ghw.github import GitHubClient

    token = require_github_token(config, environ)
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
    github_clock: Callable[[], float] | None = None,
    github_sleep: Any = None,
    github_transport: Any = None,
) -> AsyncIterator[PhaseContext]:
    """A PhaseContext with the ledger (read-only for a dry run) and, when needed, GitHub.

    ``github_clock`` (epoch seconds), ``github_sleep`` and ``github_transport`` go to the GitHub
    client, so tests run rate-limit waits and retries without sleeping; the client's
    ``not_before`` comes from the ledger's recorded ``RateLimitWait`` events either way.
    """
    issues_path: Path = config.issues_path
    readonly = dry_run and config.ledger_path.exists()
    ledger = await Ledger.open(
        config.ledger_path,
        readonly=readonly,
        worker=worker,
        max_page_count=config.get("ledger_max_pages"),
        **({"clock": clock} if clock else {}),
    )
    try:
        secrets: tuple[str, ...] = ()
        token = github_token(config, environ)
        if token:
            secrets = (token,)
        ctx = PhaseContext(
            config=config,
            ledger=ledger,
            issues_path=issues_path,
            reporter=reporter,
            environ=environ,
            cycle_id=cycle_id,
            dry_run=dry_run,
            token=token,
            secrets=secrets,
            **({"clock": clock} if clock else {}),
        )
        if need_github:
            not_before = _not_before([r.rate_wait_until for r in await ledger.repos()])
            async with open_github(
                config,
                environ,
                not_before=not_before,
                clock=github_clock,
                sleep=github_sleep,
                transport=github_transport,
            ) as gh:
                ctx.github = gh
                yield ctx
        else:
            yield ctx
    finally:
        await ledger.close()
