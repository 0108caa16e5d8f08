"""Acceptance 2: real ghw processes killed with SIGKILL at the worst moments, then restarted.

Each effect on GitHub (the PR, the review comment) exists exactly once afterwards, and the issue
completes. A ghw killed while its agent runs is taken over at once by the next run
(``LeaseExpired{holder_dead}``, no attempt counted), its agent's process group is gone, and no
second PR is opened.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest
from phases_kit import Rig, await_for, payloads

KILLED = -signal.SIGKILL


async def _planned(rig: Rig, number: int = 1) -> None:
    result, out = await rig.run("sync", "plan", issue_numbers=[number])
    assert result.ok, out
    assert await rig.state(number) == "planned"


def _pgid_alive(pgid: int) -> bool:
    """Whether any live (not zombie) process is in the group: an orphaned zombie may wait a while
    for init to reap it, but it runs nothing."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            return True
    return False


# after_pr_call on its own is the last leg of the next test
@pytest.mark.parametrize("point", ["after_push"])
async def test_implement_killed_after_an_effect_opens_exactly_one_pr(rig: Rig, point: str) -> None:
    await _planned(rig)
    crashed = rig.ghw("implement", "--issue", "1", GHW_CRASH_AT=point)
    assert crashed.returncode == KILLED, crashed.stderr
    # what the crash left: a running step whose holder is dead
    assert await rig.state(1) == "implementing"
    [lease] = await rig.leases()
    types = await rig.types(1)
    assert types[-1] == "BranchPushed" if point == "after_push" else "PullRequestRequested"
    pulls = rig.pulls()
    assert len(pulls) == (0 if point == "after_push" else 1)

    # the restart: `ghw implement` again (in this process: only the kill needs a real one)
    result, out = await rig.run("implement", issue_numbers=[1])
    assert result.ok, out
    assert "took over a holder dead lease" in out

    assert await rig.state(1) == "implemented"
    pulls = rig.pulls()
    assert len(pulls) == 1, pulls
    assert pulls[0]["head"]["ref"] == "ghw/issue-1"
    assert "Fixes #1" in pulls[0]["body"]
    events = await rig.history(1)
    [expired] = payloads(events, "LeaseExpired")
    assert expired["reason"] == "holder_dead"
    assert expired["holder"]["pid"] == lease.holder.pid
    # no attempt counted: the restarted step is attempt 1 again
    assert [p["attempt"] for p in payloads(events, "ImplementStarted")] == [1, 1]
    # the agent ran once: after the push, ghw opens the PR without running it again
    assert len(rig.transcripts(1, "implement")) == 1
    assert len(payloads(events, "BranchPushed")) == 1
    opened = payloads(events, "PullRequestOpened")
    assert [p["number"] for p in opened] == [pulls[0]["number"]]
    assert payloads(events, "PullRequestAdopted") == []
    assert not await rig.leases()


async def test_implement_killed_after_the_push_then_after_the_pr_call_opens_one_pr(
    rig: Rig,
) -> None:
    """The two windows one after the other: the restart after the push crashes again right
    after GitHub made the PR; the next plain run finds it by its head branch and key."""
    await _planned(rig)
    first = rig.ghw("implement", "--issue", "1", GHW_CRASH_AT="after_push")
    assert first.returncode == KILLED, first.stderr
    second = rig.ghw("implement", "--issue", "1", GHW_CRASH_AT="after_pr_call")
    assert second.returncode == KILLED, second.stderr
    assert len(rig.pulls()) == 1
    result, out = await rig.run("implement", issue_numbers=[1])
    assert result.ok, out

    assert await rig.state(1) == "implemented"
    [pr] = rig.pulls()
    events = await rig.history(1)
    assert [e.type for e in events][3:] == [
        "ImplementStarted",
        "BranchPushed",
        "LeaseExpired",
        "ImplementStarted",
        "PullRequestRequested",
        "LeaseExpired",
        "ImplementStarted",
        "PullRequestOpened",
        "ImplementCompleted",
    ]
    assert [p["reason"] for p in payloads(events, "LeaseExpired")] == ["holder_dead"] * 2
    assert [p["attempt"] for p in payloads(events, "ImplementStarted")] == [1, 1, 1]
    assert payloads(events, "PullRequestOpened")[0]["number"] == pr["number"]
    assert len(rig.transcripts(1, "implement")) == 1  # the agent ran once in all
    assert not await rig.leases()


async def test_review_comment_killed_after_the_call_is_posted_once(rig: Rig) -> None:
    rig.configure(**{"review.comment": True})
    result, out = await rig.run("sync", "plan", "implement", issue_numbers=[1])
    assert result.ok, out
    [pr] = rig.pulls()

    crashed = rig.ghw("review", "--issue", "1", GHW_CRASH_AT="after_comment_call")
    assert crashed.returncode == KILLED, crashed.stderr
    assert await rig.state(1) == "reviewing"
    assert (await rig.types(1))[-1] == "CommentRequested"
    assert len(rig.comments(pr["number"])) == 1

    result, out = await rig.run("review", issue_numbers=[1])
    assert result.ok, out
    assert "took over a holder dead lease" in out
    assert await rig.state(1) == "reviewed"
    comments = rig.comments(pr["number"])
    events = await rig.history(1)
    [requested, *_] = payloads(events, "CommentRequested")
    marker = f"<!-- ghw:key={requested['key']} -->"
    ours = [c for c in comments if marker in c["body"]]
    assert len(ours) == 1 and len(comments) == 1, comments
    assert "VERDICT: approve" in ours[0]["body"]
    [posted] = payloads(events, "CommentPosted")
    assert posted["comment_id"] == ours[0]["id"]
    [completed] = payloads(events, "ReviewCompleted")
    assert completed["comment_url"] == ours[0]["html_url"]
    assert [p["reason"] for p in payloads(events, "LeaseExpired")] == ["holder_dead"]


async def test_ghw_killed_while_its_agent_runs_is_taken_over_at_once(rig: Rig) -> None:
    await _planned(rig)
    rig.configure(**{"agents.scripted.delay": "30s", "lease.ttl": "5m"})
    proc = rig.spawn("implement", "--issue", "1")
    try:

        async def agent_recorded() -> object:
            rows = await rig.leases()
            return rows[0] if rows and rows[0].pgid else None

        lease = await await_for(agent_recorded, timeout=30)
        assert _pgid_alive(lease.pgid), "the agent should be running"
        assert lease.holder.pid == proc.pid
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()  # type: ignore[union-attr]
        proc.stderr.close()  # type: ignore[union-attr]
    assert proc.returncode == KILLED

    rig.configure(**{"agents.scripted.delay": "0s"})
    started = time.monotonic()
    result, out = await rig.run("implement", issue_numbers=[1])
    elapsed = time.monotonic() - started
    assert result.ok, out
    # at once: not after the 5 minute lease, and well before the killed agent's 30 s delay
    assert elapsed < 20
    assert "took over a holder dead lease" in out
    assert not _pgid_alive(lease.pgid)

    events = await rig.history(1)
    [expired] = payloads(events, "LeaseExpired")
    assert expired["reason"] == "holder_dead"
    assert expired["pgid"] == lease.pgid
    assert [p["attempt"] for p in payloads(events, "ImplementStarted")] == [1, 1]
    assert await rig.state(1) == "implemented"
    view = await rig.view(1)
    assert view.attempts == 0
    assert len(rig.pulls()) == 1
    assert len(payloads(events, "PullRequestOpened")) == 1
    assert not await rig.leases()


async def test_takeover_kills_an_old_agent_group_that_outlived_its_ghw(rig: Rig) -> None:
    """pdeathsig aside (an agent's own children do not get it), the takeover itself kills what
    is left of the recorded group, and only after checking the leader's start time."""
    import socket
    import subprocess

    from ghw.agents import process_start_time
    from ghw.ledger.records import ClaimFilters, Holder
    from ghw.ledger.store import Ledger
    from ghw.machine import events as ev

    result, out = await rig.run("sync", "plan", issue_numbers=[1, 2])
    assert result.ok, out
    gone = subprocess.Popen(["true"])
    gone.wait()  # a holder pid that no longer exists
    survivor = subprocess.Popen(["sleep", "60"], start_new_session=True)
    # a group whose leader's start time does not match the recorded one: a reused id
    bystander = subprocess.Popen(["sleep", "60"], start_new_session=True)
    try:
        # (set up as the dead ghw would have: it saw itself alive, so no claim reaps the other)
        async with await Ledger.open(rig.ledger_path, is_alive=lambda h: True) as ledger:
            for n, proc, skew in ((1, survivor, 0.0), (2, bystander, -100.0)):
                got = await ledger.claim(
                    "implement",
                    ["planned"],
                    ClaimFilters(repos=("demo/calc",), numbers=(n,)),
                    Holder(socket.gethostname(), gone.pid, 1.0, "implement"),
                    ttl=3600,
                    started=ev.ImplementStarted(agent="scripted"),
                )
                assert got is not None
                start = process_start_time(proc.pid)
                assert start is not None
                await ledger.record_agent(got[0], proc.pid, start + skew)

        result, out = await rig.run("implement", issue_numbers=[1, 2])
        assert result.ok, out
        assert survivor.wait(timeout=10) == -signal.SIGKILL
        assert bystander.poll() is None
        for n, proc in ((1, survivor), (2, bystander)):
            [expired] = payloads(await rig.history(n), "LeaseExpired")
            assert (expired["reason"], expired["pgid"]) == ("holder_dead", proc.pid)
            assert await rig.state(n) == "implemented"
        assert len(rig.pulls()) == 2
    finally:
        for proc in (survivor, bystander):
            if proc.poll() is None:
                proc.kill()
                proc.wait()
