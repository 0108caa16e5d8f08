"""Acceptance 3: two ghw processes on one ledger never work the same issue, and finish all."""

from __future__ import annotations

import collections

from phases_kit import Rig, make_repo, mark_planned

from ghw.fakehub import FakeHub

STEP_EVENTS = (
    "ImplementStarted",
    "BranchPushed",
    "PullRequestRequested",
    "PullRequestOpened",
    "ImplementCompleted",
)


async def test_two_processes_implement_twenty_issues_exactly_once(tmp_path, hub: FakeHub) -> None:
    numbers = make_repo(hub, "load/many", 20)
    rig = Rig(tmp_path, hub, repo="load/many")
    rig.configure(**{"agents.scripted.script": None})  # the default behaviour: GHW_SCRIPTED.md
    rig.configure(**{"policy.max_new_per_cycle": None})
    result, out = await rig.run("sync")
    assert result.ok, out
    await mark_planned(rig, numbers)

    procs = [rig.spawn("implement", "--parallelism", "4") for _ in range(2)]
    outputs = []
    for proc in procs:
        stdout, stderr = proc.communicate(timeout=120)
        outputs.append(stdout)
        assert proc.returncode == 0, stdout + stderr

    # every issue implemented, one PR each, nothing left claimed
    states = {n: await rig.state(n) for n in numbers}
    assert set(states.values()) == {"implemented"}, states
    pulls = rig.pulls()
    assert len(pulls) == 20
    assert sorted(p["head"]["ref"] for p in pulls) == sorted(f"ghw/issue-{n}" for n in numbers)
    assert not await rig.leases()
    assert not list(rig.issues_path.glob("*/*/*/workspace"))  # each step removed its own
    with rig.api() as api:
        diff = api.get(
            f"/repos/load/many/pulls/{pulls[0]['number']}",
            headers={"Accept": "application/vnd.github.diff"},
        ).text
    assert "GHW_SCRIPTED.md" in diff and "scripted agent made this change" in diff

    # no step event appended twice, no takeover, and both processes did part of the work
    workers = collections.Counter()
    for n in numbers:
        events = await rig.history(n)
        counts = collections.Counter(e.type for e in events)
        assert all(counts[t] == 1 for t in STEP_EVENTS), (n, counts)
        assert counts["LeaseExpired"] == 0 and counts["ImplementFailed"] == 0
        [started] = [e for e in events if e.type == "ImplementStarted"]
        workers[started.actor["pid"]] += 1
    assert set(workers) == {p.pid for p in procs}, workers
    assert sum(workers.values()) == 20
    # each process reported the issues it took, and no issue was reported by both
    taken = [
        {line.split(":")[0].strip() for line in text.splitlines() if "implement started" in line}
        for text in outputs
    ]
    assert not taken[0] & taken[1]
    assert len(taken[0] | taken[1]) == 20

    # the ledger's hash chain and projections hold
    code, out, err = await rig.cli("replay", "--verify")
    assert code == 0, out + err


async def test_a_write_beside_concurrent_reads_waits_for_another_process_writer(tmp_path) -> None:
    """What made one of the two processes above fail now and then: a read of one worker still
    open on the connection when another worker's claim began its write transaction. SQLite then
    answers SQLITE_BUSY at once (no busy wait) while another process holds the write lock."""
    import asyncio
    import sqlite3
    import threading

    from ghw.ledger.store import Ledger
    from ghw.machine import events as ev

    path = tmp_path / "ghw.db"
    async with await Ledger.open(path) as ledger:
        for n in range(1, 6):
            await ledger.append(
                f"o/r#{n}", 0, [ev.IssueSynced(repo="o/r", number=n, title="t", eligible=True)]
            )
        other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        other.execute("BEGIN IMMEDIATE")  # another ghw process is writing ...
        threading.Timer(0.3, lambda: other.execute("COMMIT")).start()  # ... for 0.3 s
        reads = [asyncio.ensure_future(ledger.history(f"o/r#{n}")) for n in range(1, 6)]
        await asyncio.sleep(0)  # the reads are under way
        claimed = await ledger.claim("plan", ["synced"], started=ev.PlanStarted(agent="a"))
        assert claimed is not None
        assert all(len(h) == 1 for h in await asyncio.gather(*reads))
        other.close()
