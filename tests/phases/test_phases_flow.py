"""Acceptance 1: synced → planned → implemented → reviewed on fakehub, real git, scripted agent."""

from __future__ import annotations

import json
import subprocess

import yaml
from phases_kit import DEMO_SCRIPT, Rig, payloads


async def test_issue_goes_through_every_phase_with_one_pr(rig: Rig) -> None:
    rig.configure(**{"review.comment": False})
    result, out = await rig.run("sync", issue_numbers=[1])
    assert result.ok, out
    assert await rig.state(1) == "synced"
    assert (rig.issue_dir(1) / "issue.md").is_file()

    result, out = await rig.run("plan", issue_numbers=[1])
    assert result.ok, out
    assert await rig.state(1) == "planned"
    plan_md = (rig.issue_dir(1) / "plan.md").read_text()
    assert "return x + y" in plan_md

    result, out = await rig.run("implement", issue_numbers=[1])
    assert result.ok, out
    assert await rig.state(1) == "implemented"

    result, out = await rig.run("review", issue_numbers=[1])
    assert result.ok, out
    assert await rig.state(1) == "reviewed"
    review_md = (rig.issue_dir(1) / "review.md").read_text()
    assert "Verdict: approve" in review_md

    # exactly one PR, for this issue's branch, which is pushed and holds the fix
    pulls = rig.pulls()
    assert len(pulls) == 1, pulls
    pr = pulls[0]
    assert pr["head"]["ref"] == "ghw/issue-1"
    assert pr["title"] == "add() returns the difference instead of the sum (#1)"
    assert "Fixes #1" in pr["body"]
    assert "<!-- ghw:issue=1 key=" in pr["body"]
    assert "## Plan" in pr["body"]
    events = await rig.history(1)
    pushed = payloads(events, "BranchPushed")
    assert len(pushed) == 1
    branch_sha = subprocess.run(
        [
            "git",
            "--git-dir",
            str(rig.hub.store.git_root / "demo" / "calc.git"),
            "rev-parse",
            "refs/heads/ghw/issue-1",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert pr["head"]["sha"] == branch_sha == pushed[0]["sha"]
    with rig.api() as api:
        diff = api.get(
            f"/repos/demo/calc/pulls/{pr['number']}",
            headers={"Accept": "application/vnd.github.diff"},
        ).text
    assert "+    return x + y" in diff

    types = [e.type for e in events]
    assert types == [
        "IssueSynced",
        "PlanStarted",
        "PlanCompleted",
        "ImplementStarted",
        "BranchPushed",
        "PullRequestRequested",
        "PullRequestOpened",
        "ImplementCompleted",
        "ReviewStarted",
        "ReviewCompleted",
    ]
    # every step records agent, session id, cost and duration
    for etype in ("PlanCompleted", "ImplementCompleted", "ReviewCompleted"):
        [p] = payloads(events, etype)
        assert p["agent"] == "scripted"
        assert p["session_id"]
        assert p["cost_usd"] == 0.0
        assert p["duration_s"] > 0
        assert p["transcript"] and p["transcript_sha256"]

    # `ghw history` shows each step with agent, session id, cost and duration
    code, text, err = await rig.cli("history", "demo/calc#1")
    assert code == 0, err
    lines = {line.split()[3]: line for line in text.splitlines()[2:] if line.strip()}
    for etype in ("PlanCompleted", "ImplementCompleted", "ReviewCompleted"):
        [p] = payloads(events, etype)
        line = lines[etype]
        assert "agent scripted" in line
        assert f"session {p['session_id']}" in line
        assert "cost $0.0000" in line
        assert f"{p['duration_s']:.1f}s" in line
    code, text, err = await rig.cli("history", "demo/calc#1", "--json")
    assert code == 0, err
    data = json.loads(text)
    assert data["state"] == "reviewed"
    assert [e["type"] for e in data["events"]] == types

    # the workspace is gone after the step (implement.keep_workspace is false)
    assert not (rig.issue_dir(1) / "workspace").exists()
    assert not await rig.leases()


async def test_plan_and_review_files_show_control_characters_the_events_keep(rig: Rig) -> None:
    """An agent may echo an issue's terminal escapes: plan.md and review.md show them as \\xNN
    (a `cat` cannot drive the terminal); the events keep the text as the agent gave it."""
    script = yaml.safe_load(DEMO_SCRIPT.read_text())
    script["issues"][1]["plan"]["text"] = "Plan \x1b]0;owned\x07: fix add\r\nthen test\n"
    script["issues"][1]["review"]["text"] = "Looks fine \x1b[2J\nVERDICT: approve\n"
    rig.script(script)
    rig.configure(**{"review.comment": False})
    for phase in ("sync", "plan", "implement", "review"):
        result, out = await rig.run(phase, issue_numbers=[1])
        assert result.ok, out
    plan_md = (rig.issue_dir(1) / "plan.md").read_text()
    review_md = (rig.issue_dir(1) / "review.md").read_text()
    assert "Plan \\x1b]0;owned\\x07: fix add\nthen test" in plan_md
    assert "Looks fine \\x1b[2J" in review_md
    assert "\x1b" not in plan_md + review_md and "\r" not in plan_md
    texts = {e.type: e.payload.get("text") for e in await rig.history(1)}
    assert texts["PlanCompleted"].startswith("Plan \x1b]0;owned\x07: fix add\r\n")
    assert "\x1b[2J" in texts["ReviewCompleted"]
