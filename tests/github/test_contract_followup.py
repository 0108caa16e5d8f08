"""Contract: the follow-up reads (§12) checked against GitHub's OpenAPI description, both ways.

* fakehub's answers: every exchange of the client's follow-up methods (and of ``POST …/reviews``,
  with GitHub's own-PR 422) against a real fakehub goes through ``ExchangeRecorder`` and is
  validated, request and response; only the undeclared 304s are exempt, by the shared exemption.
* the client's parsing: the same methods against GitHub's own example bodies
  (``components/examples``, served through ``httpx.MockTransport``) give the typed values.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from openapi_core.validation.response.exceptions import InvalidData

from ghw.fakehub import FakeHub
from ghw.github import GitHubClient, ValidationFailedError

from .conftest import TOKEN, FakeTime
from .openapi_validator import ExchangeRecorder, ExchangeValidator, api_path
from .test_contract import EXEMPTIONS

REPO = "demo/calc"
OPS = "calc/ops.py"
NOT_MODIFIED = "exempt: " + EXEMPTIONS[0].reason

# (method, path template) the follow-up traffic must cover
FOLLOWUP_OPERATIONS = {
    ("GET", "/user"),
    ("GET", "/repos/{owner}/{repo}/pulls/{pull_number}"),
    ("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews"),
    ("POST", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews"),
    ("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/comments"),
    ("GET", "/repos/{owner}/{repo}/issues/{issue_number}/comments"),
    ("GET", "/repos/{owner}/{repo}/commits/{ref}/check-runs"),
    ("GET", "/repos/{owner}/{repo}/commits/{ref}/status"),
}


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[FakeHub]:
    with FakeHub.start(data_dir=tmp_path / "hub", seed="demo") as running:
        yield running


def _client(base: str, transport: httpx.AsyncBaseTransport) -> GitHubClient:
    ft = FakeTime()
    return GitHubClient(
        base,
        TOKEN,
        transport=transport,
        clock=ft.clock,
        sleep=ft.sleep,
        rng=random.Random(1),
        write_interval=0,
        max_retries=0,
    )


def _arrange(hub: FakeHub) -> tuple[int, str]:
    """A PR with every kind of feedback: a review with a line comment, a bot's comment, a
    failing check run, statuses; then a conflicting commit on main."""
    fixed = '"""Ops."""\n\n\ndef add(x, y):\n    """Sum."""\n    return x + y\n'
    head = hub.control.push_files(REPO, "ghw/issue-1", {OPS: fixed}, message="Fix add")
    with httpx.Client(base_url=hub.base_url, headers={"Authorization": f"Bearer {TOKEN}"}) as api:
        created = api.post(
            f"/repos/{REPO}/pulls",
            json={"title": "Fix add", "head": "ghw/issue-1", "base": "main", "body": "Fixes #1"},
        )
    number = int(created.json()["number"])
    hub.control.add_review(
        REPO,
        number,
        "CHANGES_REQUESTED",
        "Add a test",
        author="alice",
        author_association="MEMBER",
        comments=[{"path": OPS, "line": 6, "body": "here"}],
    )
    hub.control.add_comment(REPO, number, "Preview ready", author="netlify[bot]")
    hub.control.report_check_run(
        REPO, head, "tests", conclusion="failure", output={"title": "1 failed", "summary": "s"}
    )
    hub.control.report_check_run(REPO, head, "lint", status="in_progress")
    hub.control.report_status(REPO, head, "failure", context="ci/lint", description="2 errors")
    hub.control.push_files(REPO, "main", {OPS: fixed.replace("x + y", "y + x")}, message="m")
    return number, head


def _operation(validator: ExchangeValidator, request: httpx.Request) -> tuple[str, str]:
    found = validator.operation(request.method, api_path(request.url))
    assert found is not None, request.url
    return request.method, found[0]


async def test_fakehub_answers_the_followup_reads_with_githubs_shapes(
    hub: FakeHub, openapi_validator: ExchangeValidator
) -> None:
    number, head = _arrange(hub)
    recorder = ExchangeRecorder(openapi_validator, exemptions=EXEMPTIONS)
    async with _client(hub.base_url, recorder.wrap(httpx.AsyncHTTPTransport())) as gh:
        me = await gh.get_authenticated_user()
        pull = await gh.fetch_pull("demo", "calc", number)
        reviews = await gh.list_reviews("demo", "calc", number)
        lines = await gh.list_review_comments("demo", "calc", number)
        comments = await gh.fetch_issue_comments("demo", "calc", number)
        runs = await gh.list_check_runs("demo", "calc", head)
        status = await gh.get_combined_status("demo", "calc", head)
        paged_runs = await gh.list_check_runs("demo", "calc", head, per_page=1)
        own = gh.request("POST", f"/repos/{REPO}/pulls/{number}/reviews", json={"event": "APPROVE"})
        with pytest.raises(ValidationFailedError, match="your own pull request"):
            await own
        posted = await gh.request(
            "POST",
            f"/repos/{REPO}/pulls/{number}/reviews",
            json={
                "event": "COMMENT",
                "body": "Self-review",
                "comments": [{"path": OPS, "line": 6, "body": "note"}],
            },
        )
        again = [
            await gh.get_authenticated_user(etag=me.etag),
            await gh.fetch_pull("demo", "calc", number, etag=pull.etag),
            await gh.list_review_comments("demo", "calc", number, etag=None),
            await gh.list_check_runs("demo", "calc", head, etag=runs.etag),
            await gh.get_combined_status("demo", "calc", head, etag=status.etag),
            await gh.fetch_issue_comments("demo", "calc", number, etag=comments.etag),
        ]
    assert me.value is not None and me.value.login == "ghw-bot"
    assert pull.value is not None and pull.value.mergeable_state == "dirty"
    assert [r.state for r in reviews.items] == ["CHANGES_REQUESTED"]
    assert [c.path for c in lines.items] == [OPS] and comments.items[0].is_bot
    assert runs.total_count == 2 and paged_runs.requests == 2
    assert status.value is not None and status.value.state == "failure"
    assert posted.status == 200 and posted.json["state"] == "COMMENTED"
    # the review posted in between changed the PR (updated_at, review_comments): not a 304
    assert [a.not_modified for a in again] == [True, False, False, True, True, True]

    outcomes = recorder.assert_all_valid(minimum=16)
    sent = {_operation(openapi_validator, ex.request) for ex in recorder.exchanges}
    assert sent == FOLLOWUP_OPERATIONS, sent ^ FOLLOWUP_OPERATIONS
    # /user and pulls/get declare 304, so theirs are validated; the other three are exempt
    assert Counter(outcomes) == {"validated": len(outcomes) - 3, NOT_MODIFIED: 3}, outcomes
    statuses = Counter((ex.request.method, ex.response.status_code) for ex in recorder.exchanges)
    assert statuses[("POST", 422)] == 1 and statuses[("POST", 200)] == 1


# -- the client parses GitHub's own examples -----------------------------------------------------

BASE = "https://api.github.com"
OWNER, NAME = "octocat", "Hello-World"
TEMPLATES = {
    "/user": "/user",
    f"/repos/{OWNER}/{NAME}/pulls/1347": "/repos/{owner}/{repo}/pulls/{pull_number}",
    f"/repos/{OWNER}/{NAME}/pulls/1347/reviews": "/repos/{owner}/{repo}/pulls/{pull_number}/reviews",
    f"/repos/{OWNER}/{NAME}/pulls/1347/comments": "/repos/{owner}/{repo}/pulls/{pull_number}/comments",
    f"/repos/{OWNER}/{NAME}/commits/main/check-runs": "/repos/{owner}/{repo}/commits/{ref}/check-runs",
    f"/repos/{OWNER}/{NAME}/commits/main/status": "/repos/{owner}/{repo}/commits/{ref}/status",
}


class Examples:
    """Answers each follow-up read with the description's example body for it."""

    def __init__(self, spec: ExchangeValidator) -> None:
        self.spec = spec

    def __call__(self, request: httpx.Request) -> httpx.Response:
        template = TEMPLATES.get(request.url.path)
        if template is None:
            return httpx.Response(404, json={"message": "Not Found", "documentation_url": "x"})
        body: Any = self.spec.example("get", template, 200)
        if template.endswith("{pull_number}"):
            # GitHub's PR example misses requested_teams[0].type (see test_contract.py)
            body["requested_teams"] = []
        if template == "/user":
            # The example lacks the discriminator its own schema requires (oneOf private-user /
            # public-user by user_view_type); it has every private-user field, so: private.
            body.setdefault("user_view_type", "private")
        return httpx.Response(200, json=body, headers={"etag": '"example"'})


async def test_the_followup_models_parse_githubs_examples(
    openapi_validator: ExchangeValidator,
) -> None:
    recorder = ExchangeRecorder(openapi_validator, exemptions=EXEMPTIONS)
    transport = recorder.wrap(httpx.MockTransport(Examples(openapi_validator)))
    async with _client(BASE, transport) as gh:
        me = await gh.get_authenticated_user()
        pull = await gh.fetch_pull(OWNER, NAME, 1347)
        reviews = await gh.list_reviews(OWNER, NAME, 1347)
        lines = await gh.list_review_comments(OWNER, NAME, 1347)
        runs = await gh.list_check_runs(OWNER, NAME, "main")
        status = await gh.get_combined_status(OWNER, NAME, "main")
    assert me.value is not None and me.value.login == "octocat" and me.value.type == "User"
    assert pull.value is not None and pull.value.mergeable is True
    assert pull.value.mergeable_state == "clean" and pull.value.head_ref == "new-topic"
    [review] = reviews.items
    assert (review.state, review.user_login, review.author_association) == (
        "APPROVED",
        "octocat",
        "COLLABORATOR",
    )
    assert review.commit_id == "ecdd80bb57125d7ba9641ffaa4d7d2c19d3f3091"
    [line] = lines.items
    assert (line.path, line.review_id, line.line) == ("file1.txt", 42, 2)
    assert line.body == "Great stuff!"
    assert runs.total_count == 1
    [run] = runs.items
    assert (run.name, run.status, run.conclusion) == ("mighty_readme", "completed", "neutral")
    assert run.title == "Mighty Readme report" and run.app_slug == "octoapp"
    assert status.value is not None and status.value.state == "success"
    assert [s.context for s in status.value.statuses] == [
        "continuous-integration/jenkins",
        "security/brakeman",
    ]
    assert recorder.assert_all_valid(minimum=6) == ["validated"] * 6


async def test_an_outdated_review_comment_differs_from_the_description_only_in_its_null_line(
    hub: FakeHub, openapi_validator: ExchangeValidator
) -> None:
    """GitHub nulls ``line`` once later commits rewrite it (keeping ``original_line``), while its
    description types ``line`` as a non-null integer: that one known drift, and nothing else."""
    number, head = _arrange(hub)
    hub.control.push_files(REPO, "ghw/issue-1", {OPS: "# rewritten\n"}, message="Rewrite")
    path = f"/repos/{REPO}/pulls/{number}/comments"
    with httpx.Client(base_url=hub.base_url, headers={"Authorization": f"Bearer {TOKEN}"}) as api:
        answer = api.get(path)
    [outdated] = answer.json()
    assert (outdated["line"], outdated["original_line"], outdated["commit_id"]) == (None, 6, head)
    request = httpx.Request("GET", f"https://api.github.com{path}")
    as_sent = httpx.Response(200, json=[outdated], request=request)
    with pytest.raises(InvalidData):
        openapi_validator.validate_exchange(request, as_sent)
    del outdated["line"]  # absent is what the description allows (line is not required)
    response = httpx.Response(200, json=[outdated], request=request)
    assert openapi_validator.validate_exchange(request, response) == "validated"
