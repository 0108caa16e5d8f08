"""Faults after the effect: GitHub did what ghw asked and then the answer was lost.

fakehub runs the request to the end (the PR created, the comment posted, the push's refs updated)
and only then drops or fails the answer (``"when": "after"``, docs/fakehub.md). fakehub's own
duplicate-PR 422 is switched off, so nothing but ghw's reconcile (PR looked up by head, comment by
its marker, a pushed branch reused) stands between a lost answer and a duplicate. The real ``ghw``
CLI runs ``ghw cycle`` as a subprocess until everything is reviewed; exactly one PR per issue and
exactly one ghw comment per PR are then read from fakehub's store, not from ghw's ledger.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from rel_helpers import Site, check_ledger, implement_script, verify_replay

from ghw.fakehub import FakeHub

REPO = "rel/after"
ISSUES = 2
MARKER = re.compile(r"<!-- ghw:key=([0-9a-f]+) -->")

# name -> (the fault as control-API JSON, how many requests it fires for, the status of the answer
# it drops or replaces). One request per issue and cycle meets it, so a count of ISSUES hits every
# issue's first attempt; a push only once: git's HTTP layer sends a POST again when a reused
# connection closes without an answer, and that retry would spend the second count.
FAULTS: dict[str, tuple[dict[str, Any], int, int]] = {
    "pr_created_then_reset": (
        {"kind": "reset", "path": f"/repos/{REPO}/pulls", "method": "POST"},
        ISSUES,
        201,
    ),
    "comment_posted_then_502": (
        {"kind": "status", "status": 502, "regex": r"/issues/\d+/comments$", "method": "POST"},
        ISSUES,
        201,
    ),
    "pr_created_then_502": (
        {"kind": "status", "status": 502, "path": f"/repos/{REPO}/pulls", "method": "POST"},
        ISSUES,
        201,
    ),
    "comment_posted_then_reset": (
        {"kind": "reset", "regex": r"/issues/\d+/comments$", "method": "POST"},
        ISSUES,
        201,
    ),
    "push_accepted_then_closed": (
        {"kind": "close", "regex": r"git-receive-pack$", "method": "POST"},
        1,
        200,
    ),
}


def github_state(hub: FakeHub) -> dict[int, dict[str, Any]]:
    """From fakehub's store: for each issue N, the PRs whose head is ``ghw/issue-N`` and, for
    each, the comments made through the API (the token's account, ghw-bot)."""
    repo = hub.store.repo(*REPO.split("/"))
    assert repo is not None
    bot = hub.ctx.api_login
    out: dict[int, dict[str, Any]] = {}
    with hub.store.lock:
        issues = list(repo.issues.values())
        for issue in issues:
            if issue.pull is None:
                continue
            match = re.fullmatch(r"ghw/issue-(\d+)", issue.pull.head_ref)
            assert match, f"PR #{issue.number} from an unexpected head {issue.pull.head_ref}"
            entry = out.setdefault(int(match.group(1)), {"pulls": [], "comments": {}})
            entry["pulls"].append(issue.number)
            entry["comments"][issue.number] = [c.body for c in issue.comments if c.author == bot]
    return out


def assert_exactly_once(hub: FakeHub, numbers: list[int]) -> dict[str, int]:
    state = github_state(hub)
    assert sorted(state) == sorted(numbers), f"PRs for issues {sorted(state)}, want {numbers}"
    for n in numbers:
        pulls = state[n]["pulls"]
        assert len(pulls) == 1, f"{REPO}#{n}: {len(pulls)} PRs for ghw/issue-{n}: {pulls}"
        bodies = state[n]["comments"][pulls[0]]
        assert len(bodies) == 1, f"{REPO}#{n}: {len(bodies)} ghw comments on PR #{pulls[0]}"
        assert MARKER.search(bodies[0]), bodies[0]
    return {"prs": sum(len(s["pulls"]) for s in state.values()), "comments": len(numbers)}


@pytest.mark.parametrize("scenario", sorted(FAULTS))
def test_rel_after_effect_exactly_once(tmp_path: Path, scenario: str) -> None:
    spec, count, dropped_status = FAULTS[scenario]
    started = time.monotonic()
    with FakeHub.start(data_dir=tmp_path / "hub") as hub:
        c = hub.control
        c.create_repo(REPO, files={"README.md": "# after\n"})
        numbers = c.bulk_create_issues(
            REPO, [{"title": f"After {i}", "body": f"Body {i}"} for i in range(ISSUES)]
        )
        script = implement_script(tmp_path / "script.yaml", numbers)
        site = Site(
            tmp_path / "site",
            hub.base_url,
            settings={
                "agents.scripted.script": str(script),
                "review.comment": True,
                "policy.max_new_per_cycle": None,
            },
        )
        assert site.ghw("repo", "add", REPO).returncode == 0
        c.refuse_duplicate_pulls(False)
        c.add_fault(**{**spec, "when": "after", "count": count})

        outs = site.run_until_settled(cycles=6)

        assert c.settings() == {"refuse_duplicate_pulls": False}
        log = c.requests()
        fired = [e for e in log if e.get("fault_when") == "after"]
        assert len(fired) == count, f"the fault fired {len(fired)} times: {fired}"
        assert all(e["handled_status"] == dropped_status for e in fired), fired
        states = site.states()
        bad = {k: v for k, v in states.items() if v != "reviewed"}
        assert not bad, f"not reviewed: {bad}\n" + "\n".join(outs)
        figures: dict[str, Any] = {"scenario": scenario, "cycles": len(outs)}
        figures.update(assert_exactly_once(hub, numbers))
        # how the lost answer was met: a failed step reconciled by a later attempt (PR, comment),
        # or, for the push, within the same attempt (the branch is on GitHub at our commit)
        failed = Counter(e["type"] for e in site.events() if e["type"].endswith("Failed"))
        figures.update(check_ledger(site.ledger_path))
        verify_replay(site)
        figures.update(failed=dict(failed), seconds=round(time.monotonic() - started, 1))
        print(f"\nafter-effect fault: {figures}")
