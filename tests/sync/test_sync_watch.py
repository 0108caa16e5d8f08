"""The sync watches ghw's open PRs (§12): feedback becomes events, with exactly the reads needed.

A PR is made the way ghw makes one (the real sync, plan, implement and review phases with the
scripted agent, on fakehub with real git); reviewers, bots, CI and merges then act through
fakehub's control API, and requests are counted from fakehub's own request log.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "phases"))
from phases_kit import Rig, payloads

from ghw.fakehub import FakeHub

REPO = "demo/calc"


@pytest.fixture
def demo_hub(tmp_path: Path) -> Iterator[FakeHub]:
    with FakeHub.start(data_dir=tmp_path / "hub", seed="demo") as running:
        yield running


@pytest.fixture
def prig(tmp_path: Path, demo_hub: FakeHub, clean_env: dict[str, str]) -> Rig:
    return Rig(tmp_path, demo_hub)


async def open_pr(rig: Rig, *, comment: bool = False) -> int:
    """Issue 1 through sync, plan, implement and review: ghw's PR, reviewed; then one sync, whose
    first look at the PR records what it is (ghw's own review comment, when there is one)."""
    rig.configure(**{"review.comment": comment})
    for phase in ("sync", "plan", "implement", "review"):
        result, out = await rig.run(phase, issue_numbers=[1])
        assert result.ok, out
    assert await rig.state(1) == "reviewed"
    await sync(rig)
    view = await rig.view(1)
    assert view.pr_number is not None and view.pr_head_sha
    return int(view.pr_number)


async def sync(rig: Rig) -> str:
    outcome, text = await rig.phase("sync")
    assert outcome.ok, text
    return text


def api_log(rig: Rig, after: int) -> list[dict[str, Any]]:
    return [r for r in rig.hub.control.requests(after) if not r.get("git")]


def last_seq(rig: Rig) -> int:
    log = rig.hub.control.requests()
    return log[-1]["seq"] if log else 0


def paths(requests: list[dict[str, Any]]) -> list[str]:
    return sorted(f"{r['method']} {r['path']}" for r in requests)


async def feedback(rig: Rig) -> list[dict[str, Any]]:
    return payloads(await rig.history(1), "FeedbackReceived")


async def test_trusted_change_request_is_acted_on_once_and_idle_costs_one_304(prig: Rig) -> None:
    pr = await open_pr(prig)
    # CI passed on the head: settled, so the next look does not read it again
    prig.later()
    prig.hub.control.report_status(REPO, (await prig.view(1)).pr_head_sha, "success", context="ci")
    await sync(prig)
    assert (await prig.view(1)).ci == "success"
    prig.later()
    prig.hub.control.add_review(
        REPO,
        pr,
        "CHANGES_REQUESTED",
        "Please also handle negative numbers.",
        author="maintainer",
        author_association="MEMBER",
    )
    before = last_seq(prig)
    text = await sync(prig)

    got = await feedback(prig)
    assert len(got) == 1, got
    item = got[0]
    assert item["source"] == "review" and item["actionable"] and item["reason"] == ""
    assert item["author"] == "maintainer" and item["association"] == "MEMBER"
    assert item["body"] == "Please also handle negative numbers."
    assert len(item["body_sha256"]) == 64
    assert await prig.state(1) == "changes_requested"
    assert f"{REPO}#1: PR #{pr}: 1 review (acted on)" in text
    # the listing, whose answer moved the PR; GET /user once; the PR and its three lists (CI
    # is not read again: the head did not move and CI was settled)
    assert paths(api_log(prig, before)) == sorted(
        [
            f"GET /repos/{REPO}/issues",
            "GET /user",
            f"GET /repos/{REPO}/pulls/{pr}",
            f"GET /repos/{REPO}/pulls/{pr}/reviews",
            f"GET /repos/{REPO}/pulls/{pr}/comments",
            f"GET /repos/{REPO}/issues/{pr}/comments",
        ]
    )

    count = len(await prig.history(1))
    before = last_seq(prig)
    await sync(prig)
    assert len(await prig.history(1)) == count
    idle = api_log(prig, before)
    assert [(r["method"], r["path"], r["status"]) for r in idle] == [
        ("GET", f"/repos/{REPO}/issues", 304)
    ]


async def test_untrusted_bot_and_ghw_itself_are_recorded_as_ignored(prig: Rig) -> None:
    pr = await open_pr(prig, comment=True)
    # the first look already saw ghw's own review comment (posted as the token's account)
    own = await feedback(prig)
    assert [(f["source"], f["actionable"], f["reason"]) for f in own] == [
        ("comment", False, "ghw itself")
    ]
    text = "Please also handle negative numbers."
    control = prig.hub.control
    prig.later()
    control.add_review(REPO, pr, "CHANGES_REQUESTED", text, author="eve")
    prig.later()
    control.add_review(
        REPO,
        pr,
        "CHANGES_REQUESTED",
        text,
        author="helper",
        author_association="MEMBER",
        author_type="Bot",
    )
    prig.later()
    control.add_review(
        REPO, pr, "CHANGES_REQUESTED", text, author="lint[bot]", author_association="MEMBER"
    )
    prig.later()
    control.add_comment(
        REPO,
        pr,
        f"{text}\n\n<!-- ghw:key=0123456789abcdef -->",
        author="maintainer",
        author_association="MEMBER",
    )
    out = await sync(prig)

    got = (await feedback(prig))[1:]
    reasons = sorted((f["source"], f["author"], f["reason"]) for f in got)
    assert reasons == [
        ("comment", "maintainer", "ghw itself"),
        ("review", "eve", "untrusted author (NONE)"),
        ("review", "helper", "bot"),
        ("review", "lint[bot]", "bot"),
    ]
    assert not any(f["actionable"] for f in got)
    assert all(f["body"] == "" and len(f["body_sha256"]) == 64 for f in got)
    assert await prig.state(1) == "reviewed"
    view = await prig.view(1)
    assert view.feedback_waiting == [] and view.feedback_ignored == 5
    assert "ignored (bot)" in out and "ignored (untrusted author (NONE))" in out


async def test_ci_failing_pending_and_action_required(prig: Rig) -> None:
    await open_pr(prig)
    head = (await prig.view(1)).pr_head_sha
    control = prig.hub.control

    prig.later()
    control.report_check_run(REPO, head, "lint", status="in_progress")
    await sync(prig)
    assert await feedback(prig) == []
    assert (await prig.view(1)).ci == "pending"
    # nothing new, CI still pending: the listing's 304 and the two CI reads (their 304s)
    before = last_seq(prig)
    count = len(await prig.history(1))
    await sync(prig)
    reads = api_log(prig, before)
    assert sorted((r["path"], r["status"]) for r in reads) == sorted(
        [
            (f"/repos/{REPO}/issues", 304),
            (f"/repos/{REPO}/commits/{head}/check-runs", 304),
            (f"/repos/{REPO}/commits/{head}/status", 304),
        ]
    )
    assert len(await prig.history(1)) == count  # a look that saw nothing new records nothing

    prig.later()
    control.report_check_run(REPO, head, "lint", conclusion="action_required")
    await sync(prig)
    got = await feedback(prig)
    assert [(f["source"], f["actionable"], f["reason"]) for f in got] == [
        ("ci", False, "action_required: a person must approve the run")
    ]
    assert await prig.state(1) == "reviewed"
    assert (await prig.view(1)).ci == "action_required"

    prig.later()
    run = control.report_check_run(
        REPO,
        head,
        "tests",
        conclusion="failure",
        output={"title": "2 tests failed", "summary": "test_add: 2 != 4", "text": "trace"},
    )
    control.report_status(REPO, head, "error", context="deploy", description="no space left")
    text = await sync(prig)
    got = (await feedback(prig))[1:]
    assert len(got) == 2, got
    check, status = sorted(got, key=lambda f: f["github_id"].startswith("status:"))
    assert check["source"] == "ci" and check["actionable"]
    assert check["github_id"] == str(run["id"])
    assert check["summary"] == "tests: 2 tests failed"
    assert "test_add: 2 != 4" in check["body"] and "trace" in check["body"]
    assert check["head_sha"] == head
    assert status["github_id"] == f"status:deploy:{head}" and status["actionable"]
    assert status["summary"] == "deploy: no space left"
    assert await prig.state(1) == "changes_requested"
    assert (await prig.view(1)).ci == "failure"
    assert "2 CI failures (acted on)" in text


async def test_conflict_with_the_base_is_feedback(prig: Rig) -> None:
    pr = await open_pr(prig)
    control = prig.hub.control
    with prig.api() as api:
        diff = api.get(
            f"/repos/{REPO}/pulls/{pr}", headers={"Accept": "application/vnd.github.diff"}
        ).text
    names = [line.split(" b/", 1)[1] for line in diff.splitlines() if line.startswith("diff --git")]
    changed = {name: "conflicting line from main\n" * 3 for name in names}
    prig.later()
    base = control.push_files(REPO, "main", changed, message="a change to the same lines")
    # GitHub does not move a PR when its base moves: the conflict is seen at the next look,
    # here the one a reviewer's approval calls for
    prig.later()
    control.add_review(REPO, pr, "APPROVED", "", author="maintainer", author_association="OWNER")
    text = await sync(prig)

    got = await feedback(prig)
    by_source = {f["source"]: f for f in got}
    assert by_source["review"]["actionable"] is False
    assert by_source["review"]["reason"] == "approval"
    conflict = by_source["conflict"]
    head = (await prig.view(1)).pr_head_sha
    assert conflict["actionable"] and conflict["github_id"] == f"{head}:{base}"
    watched = payloads(await prig.history(1), "PullRequestWatched")[-1]
    assert watched["mergeable_state"] == "dirty"
    assert await prig.state(1) == "changes_requested"
    assert "1 conflict (acted on)" in text


async def test_merge_then_the_close_it_caused(prig: Rig) -> None:
    pr = await open_pr(prig)
    prig.later()
    prig.hub.control.merge_pull(REPO, pr)
    text = await sync(prig)

    types = await prig.types(1)
    assert types[-3:] == ["PullRequestWatched", "PullRequestMerged", "IssueClosed"], types
    merged = payloads(await prig.history(1), "PullRequestMerged")[0]
    assert merged["number"] == pr and merged["merged_at"] and merged["head_sha"]
    assert "FeedbackReceived" not in types
    assert await prig.state(1) == "closed"
    assert f"PR #{pr} merged" in text


async def test_merge_alone_leaves_the_issue_merged(prig: Rig) -> None:
    pr = await open_pr(prig)
    # the PR no longer says Fixes #1: merging it closes nothing
    prig.hub.control.edit_issue(REPO, pr, body="ghw's work")
    prig.later()
    prig.hub.control.merge_pull(REPO, pr)
    await sync(prig)
    assert await prig.state(1) == "merged"
    prig.later()
    prig.hub.control.close_issue(REPO, 1)
    await sync(prig)
    assert await prig.state(1) == "closed"


async def test_closed_without_merge_is_held(prig: Rig) -> None:
    pr = await open_pr(prig)
    prig.later()
    prig.hub.control.close_pull(REPO, pr)
    text = await sync(prig)
    view = await prig.view(1)
    assert view.state == "held" and view.held_reason == "pr_closed"
    assert "closed without merge" in text
    await sync(prig)
    assert (await prig.types(1)).count("Held") == 1


async def test_restart_and_an_overlapping_sync_never_record_feedback_twice(prig: Rig) -> None:
    pr = await open_pr(prig)
    control = prig.hub.control
    prig.later()
    control.add_review(
        REPO,
        pr,
        "CHANGES_REQUESTED",
        "Rename add.",
        author="maintainer",
        author_association="MEMBER",
    )
    await sync(prig)
    assert len(await feedback(prig)) == 1
    # every sync opens the ledger anew (a restart); the PR moves, its reviews are read again
    # (the earlier one among them) and only the new one is recorded
    prig.later()
    control.add_review(REPO, pr, "COMMENTED", "Looks odd.", author="eve")
    await sync(prig)
    got = await feedback(prig)
    assert [(f["author"], f["actionable"]) for f in got] == [("maintainer", True), ("eve", False)]
    # two syncs at once read the same new comment: one of them records it
    prig.later()
    control.add_comment(
        REPO, pr, "One more thing.", author="maintainer", author_association="OWNER"
    )
    results = await asyncio.gather(prig.phase("sync"), prig.phase("sync"))
    assert all(outcome.ok for outcome, _ in results), results
    got = await feedback(prig)
    assert [f["source"] for f in got] == ["review", "review", "comment"]
    ids = [(f["source"], f["github_id"]) for f in got]
    assert len(set(ids)) == len(ids)


async def test_a_look_that_failed_is_made_again_by_the_next_sync(prig: Rig) -> None:
    pr = await open_pr(prig)
    prig.later()
    prig.hub.control.add_review(
        REPO,
        pr,
        "CHANGES_REQUESTED",
        "Add a test.",
        author="maintainer",
        author_association="OWNER",
    )
    prig.hub.control.fail(f"/repos/{REPO}/pulls/{pr}", status=404, count=1)
    text = await sync(prig)
    assert f"PR #{pr}: FAILED" in text
    assert await feedback(prig) == []
    # nothing was recorded of that look, and the listing is asked for without its ETag, so it
    # returns the PR (not a 304) and the look is made again
    before = last_seq(prig)
    await sync(prig)
    listing = [r for r in api_log(prig, before) if r["path"] == f"/repos/{REPO}/issues"]
    assert [r["status"] for r in listing] == [200]
    assert [f["actionable"] for f in await feedback(prig)] == [True]
    before = last_seq(prig)
    await sync(prig)
    assert [r["status"] for r in api_log(prig, before)] == [304]


def test_dry_run_reads_the_same_and_writes_nothing(prig: Rig) -> None:
    # (not async: the CLI runs its own event loop, and wants the main thread for its signals)
    pr = asyncio.run(open_pr(prig))
    prig.later()
    prig.hub.control.add_review(
        REPO,
        pr,
        "CHANGES_REQUESTED",
        "Add a test.",
        author="maintainer",
        author_association="OWNER",
    )
    count = len(asyncio.run(prig.all_events()))
    before = last_seq(prig)
    code, out, err = prig.cli_sync("sync", "--dry-run")
    assert code == 0, out + err
    assert f"would append PullRequestWatched + FeedbackReceived to {REPO}#1" in out
    assert f"{REPO}#1: PR #{pr}: 1 review (acted on)" in out
    assert len(asyncio.run(prig.all_events())) == count
    assert f"GET /repos/{REPO}/pulls/{pr}/reviews" in paths(api_log(prig, before))
    asyncio.run(sync(prig))
    assert len(asyncio.run(feedback(prig))) == 1


async def test_followup_disabled_reads_no_pr(prig: Rig) -> None:
    pr = await open_pr(prig)
    prig.configure(**{"followup.enabled": False})
    prig.later()
    prig.hub.control.add_review(
        REPO,
        pr,
        "CHANGES_REQUESTED",
        "Add a test.",
        author="maintainer",
        author_association="OWNER",
    )
    before = last_seq(prig)
    await sync(prig)
    assert [r["path"] for r in api_log(prig, before)] == [f"/repos/{REPO}/issues"]
    assert await feedback(prig) == []


def test_bench_followup_quick_counts_requests_per_cycle() -> None:
    import json
    import subprocess

    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run(
        [sys.executable, str(root / "scripts" / "bench.py"), "followup", "--quick"],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    figures = json.loads(proc.stdout)["followup"]
    assert figures["open_prs"] == 10
    assert figures["idle_requests_per_cycle"] == 1 and figures["idle_statuses"] == [304]
    assert figures["one_review_requests_per_cycle"] <= 6
    assert figures["after_review_requests"] == 1
