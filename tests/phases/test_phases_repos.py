"""An `owner/*` pattern that cannot be expanded fails alone in every phase (issue 13, item 12)."""

from __future__ import annotations

from phases_kit import Rig

from ghw.phases.context import Filters
from ghw.phases.repos import expand_repos, unresolved_repos


async def test_an_unknown_pattern_fails_the_cycle_but_not_the_named_repository(rig: Rig) -> None:
    result, out = await rig.run("sync", "plan", repos=["nosuch/*", "demo/calc"])
    assert not result.ok  # sync counts the pattern as a failed repository: exit 1
    assert not result.fatal
    assert "nosuch/*: FAILED: cannot expand nosuch/*" in out
    assert any("nosuch/*" in e for e in result.errors)
    assert [await rig.state(n) for n in (1, 2, 3)] == ["planned"] * 3  # demo/calc ran
    plan = next(p for p in result.phases if p.name == "plan")
    assert not plan.fatal and plan.counts.get("completed") == 3


async def test_a_step_phase_alone_counts_the_pattern_as_a_failed_repository(rig: Rig) -> None:
    result, out = await rig.run("sync")
    assert result.ok, out
    result, out = await rig.run("plan", repos=["nosuch/*", "demo/calc"])
    assert not result.ok and not result.fatal  # exit 1, as for any failing repository
    (plan,) = result.phases
    assert plan.counts.get("completed") == 3  # demo/calc was planned all the same
    assert [f for f in plan.failures if "nosuch" in f] == [
        "plan nosuch/*: cannot expand nosuch/*: GitHub 404 on GET /users/nosuch/repos: Not Found"
    ]


async def test_the_owner_listing_is_asked_once_per_cycle_even_when_it_fails(rig: Rig) -> None:
    mark = rig.hub.control.requests()[-1]["seq"] if rig.hub.control.requests() else 0
    result, _ = await rig.run("sync", "plan", repos=["NoSuch/*", "Demo/Calc"])
    assert not result.ok
    asked = [r["path"] for r in rig.hub.control.requests(mark) if "/repos" in r["path"]]
    assert asked.count("/orgs/nosuch/repos") == 1 and asked.count("/users/nosuch/repos") == 1
    assert await rig.state(1) == "planned"  # Demo/Calc is demo/calc


async def test_expand_reports_the_failed_pattern_and_resolve_records_it(rig: Rig) -> None:
    from ghw.config import load_config
    from ghw.phases.context import StreamReporter
    from ghw.phases.repos import resolve_repos
    from ghw.runtime import open_runtime

    lines: list[str] = []
    config = load_config(rig.config_path, rig.env, {}, must_exist=True)
    async with open_runtime(config, rig.env, StreamReporter(lines.append)) as ctx:
        resolved = await expand_repos(ctx, Filters(repos=("nosuch/*", "demo/*")))
        assert resolved.names == ["demo/calc"]
        assert list(resolved.failed) == ["nosuch/*"]
        assert await resolve_repos(ctx, Filters(repos=("nosuch/*", "demo/calc"))) == ["demo/calc"]
        assert list(unresolved_repos(ctx)) == ["nosuch/*"]
    assert lines == ["  nosuch/*: FAILED: " + resolved.failed["nosuch/*"]]
