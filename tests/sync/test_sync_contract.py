"""Contract: what fakehub answers during a real sync and an implement-like flow is GitHub's shape.

Every exchange goes through ``ExchangeRecorder`` (tests/github/openapi_validator.py) and is
validated against GitHub's OpenAPI description: the request our client sends and the response
fakehub returns, whenever the description declares that status and media type for the operation.
Undeclared cases must be covered by one of the exemptions in ``tests/github/test_contract.py``
(``EXEMPTIONS``), each with its reason; anything else undeclared fails.
"""

from __future__ import annotations

import random
from collections import Counter

import httpx
from github.openapi_validator import ExchangeRecorder, ExchangeValidator
from github.test_contract import EXEMPTIONS
from sync_helpers import TOKEN, FakeTime, SyncRig

from ghw.fakehub import FakeHub
from ghw.github import GitHubClient
from ghw.phases.context import Filters, StreamReporter
from ghw.phases.sync import run_sync
from ghw.runtime import open_runtime

REPO = "acme/widgets"


def reasons(outcomes: list[str]) -> Counter[str]:
    by_reason = {f"exempt: {e.reason}": name for e, name in zip(EXEMPTIONS, NAMES, strict=True)}
    return Counter(by_reason.get(o, o) for o in outcomes)


NAMES = ["304", "rate limit", "5xx", "diff", "orgs 404"]  # EXEMPTIONS, in their order


async def test_fakehub_answers_a_sync_with_githubs_shapes(
    rig: SyncRig, hub: FakeHub, openapi_validator: ExchangeValidator
) -> None:
    c = hub.control
    c.bulk_create_issues(
        REPO,
        [
            {"title": f"Issue {n}", "body": f"Body {n}", "labels": ["bug"] if n % 3 else []}
            for n in range(1, 101)
        ],
    )
    c.create_issue(REPO, "Closed", state="closed", state_reason="not_planned", author="eve")
    c.push_files(REPO, "feature", {"f.txt": "f\n"})
    httpx.post(
        f"{hub.base_url}/repos/{REPO}/pulls",
        json={"title": "PR", "head": "feature", "base": "main"},
        headers={"Authorization": f"Bearer {TOKEN}"},
    ).raise_for_status()
    c.create_owner("solo", "user")
    c.create_repo("solo/tool")
    c.create_issue("solo/tool", "Solo issue")
    c.rate_limit(f"/repos/{REPO}/issues", reset_in=3)
    c.fail("*", regex="page=2", status=502)
    recorder = ExchangeRecorder(openapi_validator, exemptions=EXEMPTIONS)

    async def sync(*repos: str, **filters: object) -> None:
        async with open_runtime(
            rig.config(),
            rig.environ,
            StreamReporter(lambda _: None),
            github_clock=rig.time.clock,
            github_sleep=rig.time.sleep,
            github_transport=recorder.wrap(httpx.AsyncHTTPTransport()),
        ) as ctx:
            result = await run_sync(ctx, Filters(repos=repos, **filters))  # type: ignore[arg-type]
        assert result.ok, result

    await sync("acme/*", "solo/*")  # pages, a PR in the list, a rate limit, a 502, orgs + users
    await sync(REPO)  # after a multi-page sync, the tail since the cursor (ADR 0031)...
    await sync(REPO)  # ...then unchanged: 304
    c.edit_issue(REPO, 5, title="Edited")
    await sync(REPO, since="2020-01-01T00:00:00Z", labels=("bug",))

    outcomes = recorder.assert_all_valid(minimum=10)
    # The second sync reads one page or two, depending on whether the issues made above fell in
    # one second (ADR 0031); either way everything else is validated, and exactly these are exempt.
    assert reasons(outcomes) == {
        "validated": len(outcomes) - 4,
        "rate limit": 1,
        "5xx": 1,
        "304": 1,
        "orgs 404": 1,
    }, outcomes
    assert len(outcomes) >= 12


async def test_fakehub_answers_an_implement_like_flow_with_githubs_shapes(
    hub: FakeHub, openapi_validator: ExchangeValidator
) -> None:
    c = hub.control
    c.create_issue(REPO, "Crash", "It crashes", author="alice", author_association="MEMBER")
    c.add_comment(REPO, 1, "Confirmed", author="bob", author_association="COLLABORATOR")
    c.push_files(REPO, "ghw/issue-1", {"fix.txt": "fixed\n"})
    recorder = ExchangeRecorder(openapi_validator, exemptions=EXEMPTIONS)
    ft = FakeTime(0)
    async with GitHubClient(
        hub.base_url,
        TOKEN,
        transport=recorder.wrap(httpx.AsyncHTTPTransport()),
        clock=ft.clock,
        sleep=ft.sleep,
        rng=random.Random(1),
        write_interval=0,
    ) as gh:
        repo = await gh.get_repo("acme", "widgets")
        issue = await gh.get_issue("acme", "widgets", 1)
        comments = await gh.list_issue_comments("acme", "widgets", 1)
        marker = "<!-- ghw:key=plan-1 -->"
        posted, new = await gh.create_comment_once("acme", "widgets", 1, "Plan", marker)
        again, new_again = await gh.create_comment_once("acme", "widgets", 1, "Plan", marker)
        before = await gh.list_pulls_by_head("acme", "widgets", "acme", "ghw/issue-1")
        kw = {"title": "Crash (#1)", "head": "ghw/issue-1", "base": "main", "body": "Fixes #1"}
        pr = await gh.create_pull("acme", "widgets", **kw)
        dup = await gh.create_pull("acme", "widgets", **kw)  # 422 -> the open PR
        after = await gh.list_pulls_by_head("acme", "widgets", "acme", "ghw/issue-1")
        full = await gh.get_pull("acme", "widgets", pr.number)
        diff = await gh.get_pull_diff("acme", "widgets", pr.number)
        review, _ = await gh.create_comment_once("acme", "widgets", pr.number, "LGTM", "<!-- r -->")
        cached = await gh.request("GET", f"/repos/{REPO}/pulls/{pr.number}")
        not_modified = await gh.request("GET", f"/repos/{REPO}/pulls/{pr.number}", etag=cached.etag)
    assert repo.clone_url == f"{hub.base_url}/{REPO}.git" and issue.title == "Crash"
    assert [x.body for x in comments] == ["Confirmed"]
    assert new and not new_again and again.id == posted.id
    assert before == [] and not pr.existing and dup.existing and dup.number == pr.number
    assert [p.number for p in after] == [pr.number] and full.head_ref == "ghw/issue-1"
    assert "fix.txt" in diff and review.body.startswith("LGTM")
    assert not_modified.not_modified

    outcomes = recorder.assert_all_valid(minimum=15)
    statuses = Counter(ex.response.status_code for ex in recorder.exchanges)
    assert statuses[201] == 3 and statuses[422] == 1  # 2 comments + 1 PR; the duplicate
    # pulls/get declares 304, so that one is validated too; only the diff is exempt
    assert reasons(outcomes) == {"validated": len(outcomes) - 1, "diff": 1}, outcomes
