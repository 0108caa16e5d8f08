"""Which repositories a run works on: `--repo` names and `owner/*` patterns, else the registered.

Names are lower-cased (GitHub's are case-insensitive), so `Demo/Calc` and `demo/calc` are one
stream. A pattern whose owner cannot be listed (unknown owner, GitHub failing) fails alone: the
other repositories still run, and the phase counts the pattern as a failed repository.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ghw.errors import GhwError
from ghw.logs import get_logger
from ghw.phases.context import Filters, PhaseContext
from ghw.phases.outcome import PhaseOutcome
from ghw.refs import is_pattern, validate_repo, validate_repo_or_pattern

__all__ = [
    "Resolved",
    "count_unresolved",
    "expand_repos",
    "registered_repos",
    "resolve_repos",
    "unresolved_repos",
]


@dataclass
class Resolved:
    names: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # pattern -> why it was not expanded


async def registered_repos(ctx: PhaseContext) -> list[str]:
    """The config's `repos` plus those added with `ghw repo add` (minus removed ones)."""
    names = list(ctx.config["repos"])
    for view in await ctx.ledger.repos():
        if view.registered and view.stream_id not in names:
            names.append(view.stream_id)
    return names


async def expand_repos(ctx: PhaseContext, filters: Filters) -> Resolved:
    """Names validated and lower-cased, patterns expanded (one listing request per owner per
    cycle, a failed one included), deduplicated; the patterns that failed, with the reason."""
    names = list(filters.repos) or await registered_repos(ctx)
    out = Resolved()
    cache = ctx.caches.owner_listings
    for given in names:
        name = validate_repo_or_pattern(given)
        if not is_pattern(name):
            out.names.append(name)
            continue
        owner = name[:-2]
        if owner not in cache:
            cache[owner] = await _owner_repos(ctx, owner)
        listed, error = cache[owner]
        if error is not None:
            out.failed[name] = f"cannot expand {name}: {error}"
        out.names.extend(listed)
    out.names = list(dict.fromkeys(out.names))
    return out


async def _owner_repos(ctx: PhaseContext, owner: str) -> tuple[list[str], str | None]:
    if ctx.github is None:
        known = {v.repo for v in await ctx.ledger.issues()}
        return sorted(r for r in known if r.split("/", 1)[0].lower() == owner), None
    try:
        listed = await ctx.github.list_owner_repos(owner)
    except GhwError as exc:
        return [], str(exc)
    return [validate_repo(r.full_name.lower()) for r in listed], None


async def resolve_repos(ctx: PhaseContext, filters: Filters) -> list[str]:
    """The repositories to work on. A pattern that cannot be expanded is logged as a warning
    naming it and recorded (see :func:`unresolved_repos`); the others are returned."""
    resolved = await expand_repos(ctx, filters)
    log = get_logger(cycle_id=ctx.cycle_id)
    for pattern, error in resolved.failed.items():
        log.warning("repository pattern failed", pattern=pattern, error=error)
        ctx.reporter.line(f"  {pattern}: FAILED: {error}")
    ctx.caches.unresolved = dict(resolved.failed)
    return resolved.names


def unresolved_repos(ctx: PhaseContext) -> dict[str, str]:
    """The patterns the last :func:`resolve_repos` could not expand (pattern -> why)."""
    return dict(ctx.caches.unresolved)


def count_unresolved(ctx: PhaseContext, phase: str, outcome: PhaseOutcome) -> PhaseOutcome:
    """Add the patterns :func:`resolve_repos` could not expand to a step phase's outcome as
    failed repositories: the phase ran for the others, and is not ok."""
    failed = unresolved_repos(ctx)
    if failed:
        outcome.failures.extend(f"{phase} {pattern}: {error}" for pattern, error in failed.items())
        outcome.ok = False
        outcome.error = outcome.error or f"{len(failed)} repository pattern(s) not expanded"
    return outcome
