"""Which repositories a run works on: `--repo` names and `owner/*` patterns, else the registered."""

from __future__ import annotations

from ghw.errors import GhwError
from ghw.phases.context import Filters, PhaseContext
from ghw.refs import is_pattern, validate_repo, validate_repo_or_pattern

__all__ = ["registered_repos", "resolve_repos"]


async def registered_repos(ctx: PhaseContext) -> list[str]:
    """The config's `repos` plus those added with `ghw repo add` (minus removed ones)."""
    names = list(ctx.config["repos"])
    for view in await ctx.ledger.repos():
        if view.registered and view.stream_id not in names:
            names.append(view.stream_id)
    return names


async def resolve_repos(ctx: PhaseContext, filters: Filters) -> list[str]:
    """Names validated, patterns expanded (one listing request per owner per cycle), deduplicated."""
    names = list(filters.repos) or await registered_repos(ctx)
    out: list[str] = []
    cache: dict[str, list[str]] = ctx.extra.setdefault("owner_repos", {})
    for name in names:
        validate_repo_or_pattern(name)
        if not is_pattern(name):
            out.append(name)
            continue
        owner = name[:-2]
        if owner not in cache:
            if ctx.github is not None:
                try:
                    listed = await ctx.github.list_owner_repos(owner)
                except GhwError as exc:
                    raise GhwError(f"cannot expand {name}: {exc}") from exc
                cache[owner] = [validate_repo(r.full_name) for r in listed]
            else:
                known = {v.repo for v in await ctx.ledger.issues()}
                cache[owner] = sorted(r for r in known if r.split("/", 1)[0] == owner)
        out.extend(cache[owner])
    return list(dict.fromkeys(out))
