"""§12 end to end, as a user runs it: whole cycles (sync → … → revise) with the scripted agent
against fakehub over HTTP and real git; reviewers, bots and CI act through fakehub's control API,
and every effect is counted from fakehub's own state and request log, never from ghw's ledger."""

from __future__ import annotations

from typing import Any

import yaml
from phases_kit import DEMO_SCRIPT, Rig, payloads


def _pr(rig: Rig, number: int = 1) -> dict[str, Any]:
    [pr] = [p for p in rig.pulls() if p["head"]["ref"] == f"ghw/issue-{number}"]
    return pr


def _transcripts(rig: Rig) -> int:
    return len(list(rig.issues_path.rglob("transcripts/*.jsonl")))


def _api_requests(rig: Rig) -> list[dict[str, Any]]:
    return [r for r in rig.hub.control.requests() if not r.get("git")]


async def _all_reviewed(rig: Rig) -> None:
    result, out = await rig.cycle()
    assert result.ok, out
    assert [await rig.state(n) for n in (1, 2, 3)] == ["reviewed"] * 3, out


async def test_a_trusted_change_request_makes_one_round_then_nothing_more(rig: Rig) -> None:
    await _all_reviewed(rig)
    pr = _pr(rig)
    rig.hub.control.add_review(
        rig.repo,
        pr["number"],
        "CHANGES_REQUESTED",
        "Please also add a test that adds negative numbers.",
        author="alice",
        author_association="MEMBER",
        author_type="User",
    )
    result, out = await rig.cycle()
    assert result.ok, out
    assert await rig.state(1) == "implemented", out  # revised; review runs again next
    after = _pr(rig)
    assert after["number"] == pr["number"] and len(rig.pulls()) == 3  # no new PR
    assert len([p for p in rig.pulls() if p["head"]["ref"].startswith("ghw/issue-1")]) == 1
    assert rig.commits_between(pr["head"]["sha"], after["head"]["sha"]) == 1
    assert len(rig.revision_replies(pr["number"])) == 1
    result, out = await rig.cycle()
    assert result.ok and await rig.state(1) == "reviewed", out

    # nothing new: no agent runs, and GitHub sees the listing's 304 and nothing else
    before = _transcripts(rig)
    rig.hub.control.clear_requests()
    result, out = await rig.cycle()
    assert result.ok, out
    assert _transcripts(rig) == before
    requests = _api_requests(rig)
    assert [(r["method"], r["status"]) for r in requests] == [("GET", 304)], requests


async def test_bots_untrusted_authors_and_ghw_itself_never_start_a_round(rig: Rig) -> None:
    await _all_reviewed(rig)
    number = _pr(rig)["number"]
    before = _transcripts(rig)
    control = rig.hub.control
    control.add_review(
        rig.repo, number, "CHANGES_REQUESTED", "Rewrite it in Rust.", author="mallory"
    )
    for cycle in range(3):
        # a bot that answers every comment on the PR, ghw's included
        control.add_comment(
            rig.repo,
            number,
            f"Thanks for the update! ({cycle})",
            author="helper[bot]",
            author_type="Bot",
        )
        result, out = await rig.cycle()
        assert result.ok, out
    assert await rig.state(1) == "reviewed"
    assert _transcripts(rig) == before  # no agent ran
    reasons = [p["reason"] for p in payloads(await rig.history(1), "FeedbackReceived")]
    assert any("untrusted" in r for r in reasons) and any("bot" in r for r in reasons), reasons
    assert rig.revision_replies(number) == []


async def test_failing_ci_is_revised_once_and_pending_or_green_ci_is_not(rig: Rig) -> None:
    await _all_reviewed(rig)
    pr = _pr(rig)
    control = rig.hub.control
    control.report_check_run(
        rig.repo,
        pr["head"]["sha"],
        "unit-tests",
        conclusion="failure",
        output={"title": "1 test failed", "summary": "test_add: 5 != -1"},
    )
    result, out = await rig.cycle()
    assert result.ok, out
    assert await rig.state(1) == "implemented", out
    prompt = rig.prompt(rig.transcripts(1, "revise")[-1])
    assert "unit-tests" in prompt and "1 test failed" in prompt
    result, out = await rig.cycle()  # the review of the new head
    assert result.ok and await rig.state(1) == "reviewed", out

    head = _pr(rig)["head"]["sha"]
    control.report_check_run(rig.repo, head, "unit-tests", status="in_progress")
    control.report_check_run(rig.repo, head, "deploy", conclusion="action_required")
    result, out = await rig.cycle()
    assert result.ok and await rig.state(1) == "reviewed", out
    control.report_check_run(rig.repo, head, "unit-tests", conclusion="success")
    result, out = await rig.cycle()
    assert result.ok and await rig.state(1) == "reviewed", out
    assert len(rig.transcripts(1, "revise")) == 1  # one round in all
    assert len(rig.revision_replies(pr["number"])) == 1


async def test_max_rounds_two_with_a_reviewer_who_always_asks_for_more(rig: Rig) -> None:
    script = yaml.safe_load(DEMO_SCRIPT.read_text())
    del script["issues"][1]["revise"]  # the default revision changes something every round
    rig.script(script)
    rig.configure(**{"followup.max_rounds": 2})
    await _all_reviewed(rig)
    number = _pr(rig)["number"]
    for round_number in range(1, 4):
        rig.later()
        rig.hub.control.add_review(
            rig.repo,
            number,
            "CHANGES_REQUESTED",
            f"One more thing ({round_number}).",
            author="alice",
            author_association="MEMBER",
        )
        result, out = await rig.cycle()  # records it, revises (or holds)
        result, out = await rig.cycle()  # reviews the new head
    view = await rig.view(1)
    assert view.state == "held" and view.held_reason.startswith("max_rounds"), view.held_reason
    assert len(rig.revision_replies(number)) == 2 and view.rounds == 2
    code, out, err = await rig.cli("release", rig.stream(1))
    assert code == 0, out + err
    result, out = await rig.cycle()
    assert result.ok, out
    assert len(rig.revision_replies(number)) == 3  # a person lifted the cap: one more round


async def test_a_round_that_changes_nothing_is_held_until_a_person_releases_it(rig: Rig) -> None:
    script = yaml.safe_load(DEMO_SCRIPT.read_text())
    script["issues"][1]["revise"] = {"text": "I see nothing to change."}
    rig.script(script)
    await _all_reviewed(rig)
    number = _pr(rig)["number"]
    rig.hub.control.add_review(
        rig.repo, number, "CHANGES_REQUESTED", "Hmm.", author="alice", author_association="MEMBER"
    )
    result, out = await rig.cycle()
    assert result.ok, out  # held is an outcome, not a failure
    view = await rig.view(1)
    assert view.state == "held" and view.held_reason.startswith("no_progress"), out
    _result, out = await rig.cycle()
    assert (await rig.view(1)).state == "held", out  # only a person lifts it
    assert rig.revision_replies(number) == []


async def test_a_merge_that_makes_another_pr_conflict_is_revised_by_merging_the_base(
    rig: Rig,
) -> None:
    # #1's PR and a person's PR change the same line; the person's is merged first
    await _all_reviewed(rig)
    pr = _pr(rig)
    ops = "calc/ops.py"
    base = rig.hub.control.push_files(
        rig.repo, "hotfix", {ops: _seed_ops().replace("return x - y", "return sum((x, y))")}
    )
    assert base
    with rig.api() as api:
        other = api.post(
            f"/repos/{rig.repo}/pulls",
            json={"title": "Hotfix add", "head": "hotfix", "base": "main", "body": "by hand"},
        )
        other.raise_for_status()
    rig.hub.control.merge_pull(rig.repo, other.json()["number"])
    # the scripted agent resolves the conflict: the file as both sides meant it
    resolved = _seed_ops().replace("return x - y", "return x + y")
    script = yaml.safe_load(DEMO_SCRIPT.read_text())
    script["issues"][1]["revise"] = {
        "text": "Resolved the conflict in calc/ops.py.",
        "edits": [{"path": ops, "write": resolved}],
    }
    rig.script(script)
    result, out = await rig.cycle()
    assert result.ok, out
    sources = [p["source"] for p in payloads(await rig.history(1), "FeedbackReceived")]
    assert "conflict" in sources, out
    assert await rig.state(1) == "implemented", out
    with rig.api() as api:
        after = api.get(f"/repos/{rig.repo}/pulls/{pr['number']}").json()
    assert after["mergeable"] is True and after["mergeable_state"] != "dirty", after
    assert len(rig.revision_replies(pr["number"])) == 1


def _seed_ops() -> str:
    return (DEMO_SCRIPT.parent / "repo" / "calc" / "ops.py").read_text()
