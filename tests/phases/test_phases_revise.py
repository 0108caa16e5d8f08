"""The revise phase (§12) against real git and fakehub: one round per batch of feedback waiting —
one commit on the PR's branch, one reply, no new PR — and its guards. Feedback is appended here
as the sync's watch records it (tests/sync/test_sync_watch.py covers the watching itself)."""

from __future__ import annotations

import json
import signal

import pytest
import yaml
from phases_kit import DEMO_SCRIPT, Rig, await_for, payloads

from ghw.ledger.store import Ledger
from ghw.machine import events as ev


def _head(rig: Rig, branch: str = "ghw/issue-1") -> str:
    [pr] = [p for p in rig.pulls() if p["head"]["ref"] == branch]
    return str(pr["head"]["sha"])


def _pr_number(rig: Rig, branch: str = "ghw/issue-1") -> int:
    [pr] = [p for p in rig.pulls() if p["head"]["ref"] == branch]
    return int(pr["number"])


async def _reviewed(rig: Rig) -> None:
    result, out = await rig.run("sync", "plan", "implement", "review", issue_numbers=[1])
    assert result.ok, out
    assert await rig.state(1) == "reviewed"


async def _feedback(rig: Rig, gid: str, *, source: str = "review", body: str = "") -> None:
    async with await Ledger.open(rig.ledger_path) as ledger:
        await ledger.append(
            rig.stream(1),
            None,
            [
                ev.FeedbackReceived(
                    source=source,
                    github_id=gid,
                    author="alice",
                    association="MEMBER",
                    summary="please also handle negative numbers",
                    body=body or "Please also handle negative numbers in add().",
                    actionable=True,
                )
            ],
        )


async def test_one_round_one_commit_one_reply_no_new_pr(rig: Rig) -> None:
    await _reviewed(rig)
    number, head = _pr_number(rig), _head(rig)
    await _feedback(rig, "501")
    assert await rig.state(1) == "changes_requested"

    result, out = await rig.run("revise", issue_numbers=[1])
    assert result.ok, out
    assert await rig.state(1) == "implemented"  # review runs again on the new head
    new_head = _head(rig)
    assert new_head != head
    assert len([p for p in rig.pulls() if p["head"]["ref"].startswith("ghw/issue-1")]) == 1
    replies = rig.revision_replies(number)
    assert len(replies) == 1 and "revision 1" in replies[0]["body"]
    [done] = payloads(await rig.history(1), "RevisionCompleted")
    assert done["addressed"] == ["review:501"] and done["round"] == 1
    assert done["head_sha"] == new_head
    # the prompt quoted the feedback as data
    prompt = rig.prompt(rig.transcripts(1, "revise")[-1])
    assert "<<<FEEDBACK PR #" in prompt and "negative numbers" in prompt

    # nothing waits: another revise run does nothing; review runs again on the new head
    result, out = await rig.run("revise", issue_numbers=[1])
    assert result.ok and len(rig.revision_replies(number)) == 1 and _head(rig) == new_head
    result, out = await rig.run("review", issue_numbers=[1])
    assert result.ok, out
    assert await rig.state(1) == "reviewed"

    # status and history show the round, the feedback handled and the PR's cost over all rounds
    code, out, err = await rig.cli("status", "--json")
    assert code == 0, out + err
    [pr] = json.loads(out)["pull_requests"]
    assert (pr["issue"], pr["pr"], pr["rounds"]) == (rig.stream(1), number, 1)
    assert (pr["feedback_handled"], pr["feedback_waiting"], pr["merged"]) == (1, 0, False)
    code, out, err = await rig.cli("status")
    assert f"PR #{number}  reviewed  rounds 1  feedback 1 handled, 0 ignored" in out, out
    code, out, err = await rig.cli("history", rig.stream(1))
    assert "RevisionCompleted" in out and "addressed 1: review:501" in out, out
    assert "FeedbackReceived" in out and "acted on" in out, out


async def test_ghws_own_request_changes_starts_a_round(rig: Rig) -> None:
    script = yaml.safe_load(DEMO_SCRIPT.read_text())
    script["issues"][1]["review"]["text"] = "Missing a test for add().\nVERDICT: request_changes"
    rig.script(script)
    await _reviewed_with_request(rig)
    view = await rig.view(1)
    assert view.state == "changes_requested"
    [item] = payloads(await rig.history(1), "FeedbackReceived")
    assert item["source"] == "self_review" and item["actionable"] is True


async def _reviewed_with_request(rig: Rig) -> None:
    result, out = await rig.run("sync", "plan", "implement", "review", issue_numbers=[1])
    assert result.ok, out


async def test_a_round_that_changes_nothing_is_held_no_progress(rig: Rig) -> None:
    script = yaml.safe_load(DEMO_SCRIPT.read_text())
    script["issues"][1]["revise"] = {"text": "Nothing to change."}
    rig.script(script)
    await _reviewed(rig)
    head = _head(rig)
    await _feedback(rig, "502")
    result, out = await rig.run("revise", issue_numbers=[1])
    assert result.ok, out  # held is an outcome, not a failure
    view = await rig.view(1)
    assert view.state == "held" and view.held_reason.startswith("no_progress"), out
    assert _head(rig) == head and rig.revision_replies(_pr_number(rig)) == []


async def test_conflict_markers_fail_the_round_and_nothing_is_pushed(rig: Rig) -> None:
    script = yaml.safe_load(DEMO_SCRIPT.read_text())
    script["issues"][1]["revise"] = {
        "text": "Done.",
        "edits": [
            {"path": "calc/ops.py", "append": "<<<<<<< HEAD\nx = 1\n=======\nx = 2\n>>>>>>> main\n"}
        ],
    }
    rig.script(script)
    await _reviewed(rig)
    head = _head(rig)
    await _feedback(rig, "503")
    result, out = await rig.run("revise", issue_numbers=[1])
    assert not result.ok, out
    view = await rig.view(1)
    assert view.state == "revise_failed" and "conflict markers" in (view.last_error or "")
    assert _head(rig) == head and rig.revision_replies(_pr_number(rig)) == []


async def test_max_rounds_holds_before_the_next_round_and_release_resumes(rig: Rig) -> None:
    script = yaml.safe_load(DEMO_SCRIPT.read_text())
    del script["issues"][1]["revise"]  # the default revision changes something every round
    rig.script(script)
    rig.configure(**{"followup.max_rounds": 1})
    await _reviewed(rig)
    await _feedback(rig, "504")
    result, out = await rig.run("revise", "review", issue_numbers=[1])
    assert result.ok, out
    await _feedback(rig, "505")
    result, out = await rig.run("revise", issue_numbers=[1])
    view = await rig.view(1)
    assert view.state == "held" and view.held_reason.startswith("max_rounds"), out
    assert len(rig.revision_replies(_pr_number(rig))) == 1
    code, out, err = await rig.cli("release", rig.stream(1))
    assert code == 0, out + err
    result, out = await rig.run("revise", issue_numbers=[1])
    assert result.ok, out
    assert await rig.state(1) == "implemented"
    assert len(rig.revision_replies(_pr_number(rig))) == 2


@pytest.mark.parametrize("point", ["after_revision_push", "after_reply_call"])
async def test_a_round_killed_after_an_effect_makes_one_commit_and_one_reply(
    rig: Rig, point: str
) -> None:
    await _reviewed(rig)
    number, head = _pr_number(rig), _head(rig)
    await _feedback(rig, "601")
    crashed = rig.ghw("revise", "--issue", "1", GHW_CRASH_AT=point)
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    assert await rig.state(1) == "revising"
    assert len(rig.revision_replies(number)) == (1 if point == "after_reply_call" else 0)

    result, out = await rig.run("revise", issue_numbers=[1])
    assert result.ok, out
    assert await rig.state(1) == "implemented"
    new_head = _head(rig)
    assert rig.commits_between(head, new_head) == 1  # one revision commit, from fakehub's git
    assert len(rig.revision_replies(number)) == 1
    assert len(rig.transcripts(1, "revise")) == 1  # the agent ran once: the push was recorded
    assert len([p for p in rig.pulls() if p["head"]["ref"].startswith("ghw/issue-1")]) == 1
    # a restart never re-triggers on feedback already handled
    result, out = await rig.run("revise", issue_numbers=[1])
    assert result.ok and len(rig.revision_replies(number)) == 1, out


async def test_a_round_killed_mid_agent_is_taken_over_and_done_once(rig: Rig) -> None:
    await _reviewed(rig)
    number, head = _pr_number(rig), _head(rig)
    await _feedback(rig, "602")
    rig.configure(**{"agents.scripted.delay": "30s", "lease.ttl": "5m"})
    proc = rig.spawn("revise", "--issue", "1")
    try:

        async def agent_recorded() -> object:
            rows = await rig.leases()
            return rows[0] if rows and rows[0].pgid else None

        await await_for(agent_recorded, timeout=30)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()  # type: ignore[union-attr]
        proc.stderr.close()  # type: ignore[union-attr]
    assert proc.returncode == -signal.SIGKILL
    assert _head(rig) == head and rig.revision_replies(number) == []  # nothing pushed yet

    rig.configure(**{"agents.scripted.delay": "0s"})
    result, out = await rig.run("revise", issue_numbers=[1])
    assert result.ok, out
    assert "took over a holder dead lease" in out
    assert await rig.state(1) == "implemented"
    assert rig.commits_between(head, _head(rig)) == 1
    assert len(rig.revision_replies(number)) == 1
    [expired] = payloads(await rig.history(1), "LeaseExpired")
    assert expired["reason"] == "holder_dead"
