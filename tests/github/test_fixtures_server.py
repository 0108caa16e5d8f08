"""Recorded real api.github.com traffic (@octokit/fixtures-server) through the client.

Each test loads one scenario; its base URL (``http://127.0.0.1:P/api.github.com/<id>``) has a path
prefix like a GHES ``/api/v3`` base, and the recordings' ``Link`` headers point at
``/repositories/{id}/…``, so these also prove prefix joining and verbatim ``next`` URLs. Every
exchange is validated against GitHub's OpenAPI description as well.
"""

from __future__ import annotations

import httpx
import pytest

from ghw.github import GitHubClient, NotFoundError, ValidationFailedError

from .conftest import TOKEN, FixturesServer
from .openapi_validator import ExchangeRecorder

ORG = "octokit-fixture-org"
# Required fields the 2022 recordings predate (the description is from 2025). Only a response whose
# sole schema errors are these missing fields is tolerated; the outcome names the drift.
RECORDING_DRIFT = {"has_discussions": "get-repository was recorded before GitHub added it"}


def client_for(base_url: str, recorder: ExchangeRecorder) -> GitHubClient:
    return GitHubClient(
        base_url,
        TOKEN,
        transport=recorder.wrap(httpx.AsyncHTTPTransport()),
        write_interval=0,  # loopback
        max_retries=0,  # a retried request would be "the next fixture" and mismatch
    )


async def test_paginate_issues_follows_every_link_page(
    fixtures_server: FixturesServer, contract: ExchangeRecorder
) -> None:
    base = fixtures_server.load("paginate-issues")
    async with client_for(base, contract) as gh:
        # state/per_page as recorded: the server matches the query string exactly.
        listing = await gh.iter_issues(ORG, "paginate-issues", state=None, per_page=3)
    # Every recorded issue has the same node_id (normalised), so key on number.
    numbers = [issue.number for issue in listing.items]
    assert numbers == list(range(13, 0, -1))
    assert len(listing.items) == 13
    assert listing.requests == 5
    assert listing.etag == '"00000000000000000000000000000000"'
    assert not listing.not_modified
    assert not any(issue.is_pull_request for issue in listing.items)
    # Pages 2..5 came from the Link URLs verbatim (/repositories/1000/…), under the base prefix.
    paths = [ex.request.url.path for ex in contract.exchanges]
    assert paths[0].endswith(f"/repos/{ORG}/paginate-issues/issues")
    assert all(p.endswith("/repositories/1000/issues") for p in paths[1:])
    assert all(p.startswith(httpx.URL(base).path + "/") for p in paths)
    assert contract.assert_all_valid(minimum=5) == ["validated"] * 5


async def test_recorded_422_becomes_validation_failed(
    fixtures_server: FixturesServer, contract: ExchangeRecorder
) -> None:
    base = fixtures_server.load("errors")
    async with client_for(base, contract) as gh:
        with pytest.raises(ValidationFailedError) as caught:
            await gh.request(
                "POST", f"/repos/{ORG}/errors/labels", json={"name": "foo", "color": "invalid"}
            )
    err = caught.value
    assert err.status == 422
    assert err.github_message == "Validation Failed"
    assert err.errors == [{"resource": "Label", "code": "invalid", "field": "color"}]
    assert err.documentation_url and "create-a-label" in err.documentation_url
    assert "Validation Failed" in str(err) and "POST" in str(err)
    assert not err.transient
    assert contract.assert_all_valid() == ["validated"]


async def test_recorded_404_becomes_not_found(
    fixtures_server: FixturesServer, contract: ExchangeRecorder
) -> None:
    base = fixtures_server.load("branch-protection")
    async with client_for(base, contract) as gh:
        with pytest.raises(NotFoundError) as caught:
            await gh.request("GET", f"/repos/{ORG}/branch-protection/branches/main/protection")
    assert caught.value.status == 404
    assert caught.value.github_message == "Branch not protected"
    assert "Branch not protected" in str(caught.value)
    assert not caught.value.transient
    assert contract.assert_all_valid() == ["validated"]


async def test_get_repository_typed(
    fixtures_server: FixturesServer, contract: ExchangeRecorder
) -> None:
    base = fixtures_server.load("get-repository")
    contract.tolerated_missing = RECORDING_DRIFT
    async with client_for(base, contract) as gh:
        repo = await gh.get_repo(ORG, "hello-world")
    assert repo.full_name == f"{ORG}/hello-world"
    assert repo.owner_login == ORG
    assert repo.default_branch == "master"
    assert repo.raw["name"] == "hello-world"
    assert contract.assert_all_valid() == [
        "tolerated drift: has_discussions: get-repository was recorded before GitHub added it"
    ]
