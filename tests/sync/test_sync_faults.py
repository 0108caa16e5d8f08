"""Rate limits and faults injected through fakehub's control API, survived by the sync phase.

The client's clock and sleep are injected (``FakeTime``): waits advance a fake clock, nothing
sleeps. Every test ends by counting events per issue stream: no issue lost, none duplicated.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sync_helpers import FakeTime, SyncRig, type_counts

from ghw.fakehub import FakeHub
from ghw.phases.context import Filters, StreamReporter
from ghw.phases.sync import run_sync
from ghw.runtime import open_runtime

REPO = "acme/widgets"
ISSUES = 250  # three pages of 100


def seed(hub: FakeHub, count: int = ISSUES) -> None:
    hub.control.bulk_create_issues(REPO, [{"title": f"Issue {n}"} for n in range(1, count + 1)])


async def assert_each_issue_once(rig: SyncRig, count: int = ISSUES) -> None:
    counts = type_counts(await rig.events(f"{REPO}#"))
    assert len(counts) == count, f"{count - len(counts)} issues lost"
    assert set(counts) == {(f"{REPO}#{n}", "IssueSynced") for n in range(1, count + 1)}
    assert set(counts.values()) == {1}, "an issue was synced twice"


def epoch(iso: str) -> float:
    return datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC).timestamp()


async def test_primary_rate_limit_waits_until_reset_and_records_the_wait(
    rig: SyncRig, hub: FakeHub, fake_time: FakeTime
) -> None:
    seed(hub)
    hub.control.rate_limit(regex=r"page=2", reset_in=30)  # on the second page
    mark = rig.last_seq()
    start = fake_time.now

    run = await rig.sync(REPO)

    assert run.result.ok, run.result
    statuses = [(r["status"], r.get("fault")) for r in rig.api_requests(mark)]
    assert statuses == [(200, None), (403, "primary_rate_limit"), (200, None), (200, None)]
    assert len(fake_time.sleeps) == 1 and 29 <= fake_time.sleeps[0] <= 33  # reset + 1 s margin
    waits = [e for e in await rig.events(REPO) if e.type == "RateLimitWait"]
    assert len(waits) == 1
    assert waits[0].payload["reason"] == "primary"
    assert waits[0].payload["path"] == f"/repos/{REPO}/issues"
    assert epoch(waits[0].payload["until"]) == pytest.approx(start + fake_time.sleeps[0], abs=1)
    assert any("rate limited (primary)" in line for line in run.lines)
    await assert_each_issue_once(rig)


class Killed(BaseException):
    """Stands for the process being killed while it waits."""


async def test_a_restart_honours_the_recorded_wait(
    rig: SyncRig, hub: FakeHub, fake_time: FakeTime
) -> None:
    seed(hub, 5)
    hub.control.rate_limit(f"/repos/{REPO}/issues", reset_in=600)
    fake_time.fail_on_sleep = Killed()
    with pytest.raises(Killed):
        await rig.sync(REPO)  # recorded the wait, then "died" before sleeping
    (wait,) = [e for e in await rig.events(REPO) if e.type == "RateLimitWait"]
    until = epoch(wait.payload["until"])
    assert await rig.issues(REPO) == {}

    # A new process: a fresh ledger open and a fresh client, at the same (fake) moment.
    restarted = FakeTime(fake_time.now)
    mark = rig.last_seq()
    requests_when_sleeping: list[int] = []

    async def sleep(seconds: float) -> None:
        requests_when_sleeping.append(len(rig.api_requests(mark)))
        await restarted.sleep(seconds)

    lines: list[str] = []
    async with open_runtime(
        rig.config(),
        rig.environ,
        StreamReporter(lines.append),
        github_clock=restarted.clock,
        github_sleep=sleep,
    ) as ctx:
        assert ctx.github.not_before == pytest.approx(until, abs=1e-3)  # read from the ledger
        result = await run_sync(ctx, Filters(repos=(REPO,)))

    assert result.ok
    assert requests_when_sleeping == [0]  # it waited before sending anything
    assert restarted.sleeps[0] == pytest.approx(until - fake_time.now, abs=1e-3)
    assert restarted.sleeps[0] > 590
    assert [r["status"] for r in rig.api_requests(mark)] == [200]
    await assert_each_issue_once(rig, 5)


async def test_secondary_rate_limit_honours_retry_after(
    rig: SyncRig, hub: FakeHub, fake_time: FakeTime
) -> None:
    seed(hub)
    hub.control.secondary_rate_limit(f"/repos/{REPO}/issues", retry_after=7, status=429)
    hub.control.secondary_rate_limit(regex=r"page=3", retry_after=11)
    mark = rig.last_seq()

    run = await rig.sync(REPO)

    assert run.result.ok
    assert fake_time.sleeps == [7, 11]
    faults = [r.get("fault") for r in rig.api_requests(mark)]
    assert faults.count("secondary_rate_limit") == 2
    waits = [e.payload["reason"] for e in await rig.events(REPO) if e.type == "RateLimitWait"]
    assert waits == ["secondary", "secondary"]
    await assert_each_issue_once(rig)


async def test_5xx_and_connection_reset_bursts_are_retried(
    rig: SyncRig, hub: FakeHub, fake_time: FakeTime
) -> None:
    seed(hub)
    hub.control.fail(f"/repos/{REPO}/issues", status=503, count=1)
    hub.control.fail("*", regex=r"page=2", status=502, count=2)
    hub.control.reset_connection("*", regex=r"page=3", count=2)
    hub.control.fail("*", regex=r"page=3", status=500, count=1)
    mark = rig.last_seq()

    run = await rig.sync(REPO)

    assert run.result.ok, run.result
    log = rig.api_requests(mark)
    assert [r["status"] for r in log] == [503, 200, 502, 502, 200, None, None, 500, 200]
    assert len(fake_time.sleeps) == 6  # one jittered back-off per retry, none slept for real
    assert not [e for e in await rig.events(REPO) if e.type == "RateLimitWait"]
    await assert_each_issue_once(rig)


async def test_a_burst_longer_than_the_retries_fails_the_repo_and_the_next_sync_recovers(
    rig: SyncRig, hub: FakeHub
) -> None:
    seed(hub)
    await rig.sync(REPO)  # the repository is known...
    hub.control.bulk_create_issues(
        REPO, [{"title": f"Late {n}"} for n in range(1, 151)]
    )  # ...150 more arrive (numbers 251-400, two pages on their own)
    hub.control.fail("*", regex=r"page=2", status=502, count=20)

    failed = await rig.sync(REPO)

    repo = failed.result.repos[0]
    assert not repo.ok and "502" in (repo.error or "")
    # The page read before the failure (the 100 most recently updated) is in the ledger; the
    # cursor did not move (no RepositorySynced), so the next sync reads them all again.
    assert len(await rig.issues(REPO)) == ISSUES + 100
    assert [e.type for e in await rig.events(REPO) if e.stream_id == REPO] == ["RepositorySynced"]
    hub.control.clear_faults()
    recovered = await rig.sync(REPO)
    assert recovered.result.ok
    await assert_each_issue_once(rig, ISSUES + 150)


async def test_a_wait_beyond_max_rate_wait_fails_the_repository_clearly(
    rig: SyncRig, hub: FakeHub, fake_time: FakeTime
) -> None:
    seed(hub, 3)
    hub.control.create_repo("acme/gadgets")
    hub.control.rate_limit(f"/repos/{REPO}/issues", reset_in=7200)
    mark = rig.last_seq()
    run = await rig.sync(REPO, "acme/gadgets", settings={"github.max_rate_wait": "10m"})
    by_repo = {r.repo: r for r in run.result.repos}
    assert not by_repo[REPO].ok and "max_rate_wait" in (by_repo[REPO].error or "")
    assert fake_time.sleeps == []  # it did not sleep for two hours
    # the limit is remembered: the other repository fails fast too, without a request
    assert not by_repo["acme/gadgets"].ok
    assert [r["path"] for r in rig.api_requests(mark)] == [f"/repos/{REPO}/issues"]
    assert await rig.issues(REPO) == {}
