"""Two overlapping syncs on one ledger file (issue 13, item 9): the one that appends second finds
the facts already there, appends only what is still new, and succeeds.

The interleaving is made deterministic with fakehub: the first listing request is held back, so
sync B reads the ledger's views, asks GitHub and waits; sync A runs from start to end meanwhile;
then B gets its answer and plans against views that A has made stale.
"""

from __future__ import annotations

import asyncio

from sync_helpers import SyncRig, type_counts

from ghw.fakehub import FakeHub

REPO = "acme/widgets"


async def _b_is_waiting(hub: FakeHub) -> None:
    """Until B's request met the delay (a spent fault leaves fakehub's list)."""
    while hub.control.faults():
        await asyncio.sleep(0.02)


async def _overlapping(rig: SyncRig, hub: FakeHub) -> tuple[object, object]:
    hub.control.delay(f"/repos/{REPO}/issues", 1500, method="GET", count=1)
    b = asyncio.create_task(rig.sync(REPO))
    await asyncio.wait_for(_b_is_waiting(hub), 20)
    a = await rig.sync(REPO)
    assert not b.done(), "B must still be waiting for its answer"
    return a, await b


async def test_overlapping_syncs_append_each_fact_once_and_both_succeed(
    rig: SyncRig, hub: FakeHub
) -> None:
    c = hub.control
    c.create_issue(REPO, "One", author_association="MEMBER")
    c.create_issue(REPO, "Two", author_association="NONE")
    c.create_issue(REPO, "Three", state="closed", state_reason="completed")

    a, b = await _overlapping(rig, hub)

    assert a.result.ok, a.lines  # type: ignore[attr-defined]
    assert b.result.ok, b.lines  # type: ignore[attr-defined]
    assert a.result.repos[0].counts == {"new": 3, "skipped": 1, "closed": 1}  # type: ignore[attr-defined]
    assert b.result.repos[0].counts == {}  # type: ignore[attr-defined]  # A wrote them all
    issue_events = type_counts(await rig.events(f"{REPO}#"))
    assert issue_events == {
        (f"{REPO}#1", "IssueSynced"): 1,
        (f"{REPO}#2", "IssueSynced"): 1,
        (f"{REPO}#3", "IssueSynced"): 1,
        (f"{REPO}#3", "IssueClosed"): 1,
    }

    # Again with changes on top of a synced ledger: an edit, a reopen, a new issue.
    c.edit_issue(REPO, 1, title="One, retitled")
    c.reopen_issue(REPO, 3)
    c.create_issue(REPO, "Four")
    a, b = await _overlapping(rig, hub)
    assert a.result.ok and b.result.ok  # type: ignore[attr-defined]
    assert a.result.repos[0].counts == {"new": 1, "changed": 1, "reopened": 1}  # type: ignore[attr-defined]
    assert b.result.repos[0].counts == {}  # type: ignore[attr-defined]
    issue_events = type_counts(await rig.events(f"{REPO}#"))
    assert issue_events[(f"{REPO}#1", "IssueChanged")] == 1
    assert issue_events[(f"{REPO}#3", "IssueReopened")] == 1
    assert issue_events[(f"{REPO}#4", "IssueSynced")] == 1
    views = await rig.issues(REPO)
    assert views[1].title == "One, retitled" and views[3].state == "synced"


async def test_a_sync_behind_another_appends_what_is_still_new(rig: SyncRig, hub: FakeHub) -> None:
    """B's answer holds an edit A did not see: B appends it on top of A's facts."""
    hub.control.create_issue(REPO, "One")
    hub.control.create_issue(REPO, "Two")
    # B's request is answered after the delay, from the state fakehub has then; A's at once
    hub.control.delay(f"/repos/{REPO}/issues", 3000, method="GET", count=1)
    b = asyncio.create_task(rig.sync(REPO))
    await asyncio.wait_for(_b_is_waiting(hub), 20)
    a = await rig.sync(REPO)
    hub.control.edit_issue(REPO, 2, body="Edited while B waited.")
    b_run = await b
    assert a.result.ok and b_run.result.ok, b_run.lines
    assert a.result.repos[0].counts == {"new": 2}
    assert b_run.result.repos[0].counts == {"changed": 1}
    counts = type_counts(await rig.events(f"{REPO}#"))
    assert counts[(f"{REPO}#2", "IssueSynced")] == 1 and counts[(f"{REPO}#2", "IssueChanged")] == 1
