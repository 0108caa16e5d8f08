"""Acceptance 5 (pull requests): an open ``ghw/issue-N`` PR is adopted, a closed or merged one
holds the issue, and ``ghw retry`` then works on a new branch ``ghw/issue-N-1``."""

from __future__ import annotations

from phases_kit import Rig, payloads


async def test_an_open_pr_for_the_branch_is_adopted_without_running_the_agent(rig: Rig) -> None:
    result, out = await rig.run("sync", "plan", issue_numbers=[1])
    assert result.ok, out
    by_hand = rig.open_pull("ghw/issue-1", title="Fix add by hand")

    result, out = await rig.run("implement", issue_numbers=[1])
    assert result.ok, out
    events = await rig.history(1)
    types = [e.type for e in events]
    assert types[-3:] == ["ImplementStarted", "PullRequestAdopted", "ImplementCompleted"]
    [adopted] = payloads(events, "PullRequestAdopted")
    assert adopted["number"] == by_hand["number"]
    assert (await rig.view(1)).pr_number == by_hand["number"]
    assert await rig.state(1) == "implemented"
    # nothing of ours ran or was pushed: the person's PR and branch are as they were
    assert rig.transcripts(1, "implement") == []
    assert "BranchPushed" not in types and "PullRequestRequested" not in types
    [pr] = rig.pulls()
    assert pr["number"] == by_hand["number"]
    assert pr["head"]["sha"] == by_hand["head"]["sha"]

    # the review then works on the adopted PR
    result, out = await rig.run("review", issue_numbers=[1])
    assert result.ok, out
    assert await rig.state(1) == "reviewed"


async def test_closed_or_merged_pr_holds_the_issue_and_retry_uses_a_new_branch(rig: Rig) -> None:
    result, out = await rig.run("sync", "plan", issue_numbers=[1, 2])
    assert result.ok, out
    closed = rig.open_pull("ghw/issue-1")
    rig.hub.control.close_pull("demo/calc", closed["number"])
    merged = rig.open_pull("ghw/issue-2")
    rig.hub.control.merge_pull("demo/calc", merged["number"])

    result, out = await rig.run("implement", issue_numbers=[1, 2])
    assert result.ok, out
    for n, reason in ((1, "pr_closed"), (2, "pr_merged")):
        view = await rig.view(n)
        assert (view.state, view.held_reason, view.held_from) == ("held", reason, "planned")
        assert rig.transcripts(n, "implement") == []
    assert len(rig.pulls()) == 2
    assert not await rig.leases()  # Held deleted the step's lease with it

    # held: later runs leave them alone
    result, out = await rig.run("implement", issue_numbers=[1, 2])
    assert result.phases[0].counts == {}

    for n in (1, 2):
        code, text, err = await rig.cli("retry", f"demo/calc#{n}")
        assert code == 0, text + err
        assert await rig.state(n) == "planned"
    result, out = await rig.run("implement", issue_numbers=[1, 2])
    assert result.ok, out
    pulls = {p["head"]["ref"]: p for p in rig.pulls()}
    assert set(pulls) == {"ghw/issue-1", "ghw/issue-2", "ghw/issue-1-1", "ghw/issue-2-1"}
    for n, old in ((1, closed), (2, merged)):
        events = await rig.history(n)
        started = payloads(events, "ImplementStarted")
        assert started[-1]["branch"] == f"ghw/issue-{n}-1"
        [opened] = payloads(events, "PullRequestOpened")
        new = pulls[f"ghw/issue-{n}-1"]
        assert opened["number"] == new["number"] != old["number"]
        assert new["state"] == "open" and f"Fixes #{n}" in new["body"]
        view = await rig.view(n)
        assert (view.state, view.pr_number) == ("implemented", new["number"])
    assert pulls["ghw/issue-1"]["state"] == "closed"
