"""Contract: the implement and review phases' GitHub traffic, as ghw really sends it.

The real phase runners (``ghw.phases.steps.run_implement`` / ``run_review``, through
``ghw.runtime.open_runtime`` as a command runs them) work two demo issues against fakehub: one
gets a new PR, the other adopts a PR opened by hand; both are reviewed with ``review.comment``.
Every exchange goes through ``ExchangeRecorder`` and is validated against GitHub's OpenAPI
description, request and response, as the sync traffic is (tests/sync/test_sync_contract.py).
fakehub's own request log is then the independent list of what reached the server: every API
request in it must be one the recorder validated, and the operations of §4.1 must all be there.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ghw.config import load_config
from ghw.fakehub import FakeHub, demo_dir
from ghw.phases.context import Filters, StreamReporter
from ghw.phases.steps import run_implement, run_plan, run_review
from ghw.phases.sync import run_sync
from ghw.runtime import open_runtime

from .conftest import TOKEN
from .openapi_validator import ExchangeRecorder, ExchangeValidator, api_path
from .test_contract import EXEMPTIONS

REPO = "demo/calc"

# (method, description path template, what ghw asked for) that the two phases must have sent
EXPECTED = {
    ("GET", "/repos/{owner}/{repo}", ""),
    ("GET", "/repos/{owner}/{repo}/pulls", "head"),
    ("POST", "/repos/{owner}/{repo}/pulls", ""),
    ("GET", "/repos/{owner}/{repo}/pulls/{pull_number}", "json"),
    ("GET", "/repos/{owner}/{repo}/issues/{issue_number}/comments", ""),
    ("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments", ""),
}


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[FakeHub]:
    with FakeHub.start(data_dir=tmp_path / "hub", seed="demo") as running:
        yield running


def _config(tmp_path: Path, hub: FakeHub) -> Any:
    return load_config(
        None,
        {"GITHUB_TOKEN": TOKEN},
        {
            "issues_path": str(tmp_path / "issues"),
            "repos": [REPO],
            "github.api_url": hub.base_url,
            "github.write_interval": "0s",
            "agent.default": "scripted",
            "agents.scripted.script": str(demo_dir() / "script.yaml"),
            "agents.scripted.delay": "0s",
            "review.comment": True,
        },
    )


async def _run(config: Any, phase: Any, filters: Filters, transport: Any = None) -> Any:
    async with open_runtime(
        config,
        {"GITHUB_TOKEN": TOKEN, "PATH": "/usr/bin:/bin"},
        StreamReporter(lambda _: None),
        github_transport=transport,
    ) as ctx:
        return await phase(ctx, filters)


def _operation(validator: ExchangeValidator, request: httpx.Request) -> tuple[str, str, str]:
    path = api_path(request.url)
    found = validator.operation(request.method, path)
    assert found is not None, f"{request.method} {path}: not in GitHub's description"
    template = found[0]
    detail = ""
    if template.endswith("/pulls/{pull_number}"):
        detail = "diff" if "diff" in request.headers.get("accept", "") else "json"
    elif template.endswith("/pulls") and request.method == "GET":
        detail = "head" if "head" in request.url.params else "(no head)"
    return request.method, template, detail


async def test_implement_and_review_traffic_is_githubs_shape(
    tmp_path: Path, hub: FakeHub, openapi_validator: ExchangeValidator
) -> None:
    config = _config(tmp_path, hub)
    filters = Filters(numbers=(1, 2))
    await _run(config, run_sync, Filters())
    await _run(config, run_plan, filters)
    # #2's branch already has an open PR, opened by hand: implement adopts it
    hub.control.push_files(REPO, "ghw/issue-2", {"calc/by_hand.py": "# by hand\n"})
    with httpx.Client(base_url=hub.base_url, headers={"Authorization": f"Bearer {TOKEN}"}) as api:
        api.post(
            f"/repos/{REPO}/pulls",
            json={"title": "By hand", "head": "ghw/issue-2", "base": "main", "body": "hand"},
        ).raise_for_status()
    hub.control.clear_requests()

    recorder = ExchangeRecorder(openapi_validator, exemptions=EXEMPTIONS)
    transport = recorder.wrap(httpx.AsyncHTTPTransport())
    implemented = await _run(config, run_implement, filters, transport)
    reviewed = await _run(config, run_review, filters, recorder.wrap(httpx.AsyncHTTPTransport()))
    assert implemented.ok and reviewed.ok, (implemented, reviewed)

    outcomes = recorder.assert_all_valid(minimum=len(EXPECTED))
    # (review reads the diff from git, not with the diff media type: every exchange validates)
    assert Counter(outcomes) == {"validated": len(outcomes)}, outcomes
    sent = {_operation(openapi_validator, ex.request) for ex in recorder.exchanges}
    assert sent == EXPECTED, sent ^ EXPECTED
    statuses = Counter((ex.request.method, ex.response.status_code) for ex in recorder.exchanges)
    assert statuses[("POST", 201)] == 3, statuses  # one PR, two review comments

    # fakehub's log: everything that reached the API is something the recorder validated
    logged = Counter(
        (e["method"], e["path"], e["query"], e["status"])
        for e in hub.control.requests()
        if not e.get("git")
    )
    recorded = Counter(
        (
            ex.request.method,
            ex.request.url.path,
            ex.request.url.query.decode(),
            ex.response.status_code,
        )
        for ex in recorder.exchanges
    )
    assert logged == recorded, (logged - recorded, recorded - logged)
