"""`ghw sync`, the real command (``ghw.cli.main.main``), against recorded api.github.com traffic
(@octokit/fixtures-server) and against fakehub: exit codes, filters, --dry-run."""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path

import pytest
from github.conftest import FIXTURES_SERVER_PACKAGE, FixturesServer
from sync_helpers import TOKEN, run_cli

from ghw.fakehub import FakeHub
from ghw.ledger.store import Ledger

ORG = "octokit-fixture-org"
RECORDED = FIXTURES_SERVER_PACKAGE.parent / "fixtures" / "scenarios" / "api.github.com"


@pytest.fixture
def environ(tmp_path: Path, clean_env: dict[str, str]) -> dict[str, str]:
    env = {**clean_env, "GHW_CONFIG": str(tmp_path / "config.yaml"), "GITHUB_TOKEN": TOKEN}
    code, _, err = run_cli(["init", "--issues-path", str(tmp_path / "issues")], env)
    assert code == 0, err
    return env


def ledger_events(db: Path) -> list[tuple[str, str, dict[str, object]]]:
    async def read() -> list[tuple[str, str, dict[str, object]]]:
        led = await Ledger.open(db, readonly=True)
        try:
            return [(e.stream_id, e.type, e.payload) async for e in led.read()]
        finally:
            await led.close()

    return asyncio.run(read())


def test_ghw_sync_stores_every_issue_of_recorded_paginated_traffic(
    tmp_path: Path, environ: dict[str, str], fixtures_server: FixturesServer
) -> None:
    """paginate-issues: 13 issues over 5 Link pages recorded from api.github.com (the next URLs
    are /repositories/1000/issues?per_page=3&page=N, followed verbatim under the base prefix)."""
    base = fixtures_server.load("ghw-sync-paginate-issues")
    env = {**environ, "GHW_GITHUB_API_URL": base}

    code, out, err = run_cli(["sync", "--repo", f"{ORG}/paginate-issues"], env)

    assert code == 0, out + err
    assert "=== Syncing issues ===" in out
    events = ledger_events(tmp_path / "issues" / "ghw.db")
    repo = f"{ORG}/paginate-issues"
    # Every recorded issue has the same node_id (normalised): the ledger keys on number.
    synced = sorted(int(s.rsplit("#", 1)[1]) for s, t, _ in events if t == "IssueSynced")
    assert synced == list(range(1, 14))
    recorded = json.loads((RECORDED / "paginate-issues" / "normalized-fixture.json").read_text())
    answers = {i["number"]: i for page in recorded for i in page["response"]}
    for stream, kind, payload in events:
        if kind == "IssueSynced":
            issue = answers[int(stream.rsplit("#", 1)[1])]
            assert payload["title"] == issue["title"]
            assert payload["association"] == issue["author_association"]
    (synced_repo,) = [p for s, t, p in events if s == repo and t == "RepositorySynced"]
    assert synced_repo["requests"] == 5 and synced_repo["issues"] == 13
    assert synced_repo["cursor"] == max(i["updated_at"] for i in answers.values())
    assert [t for _, t, _ in events].count("IssueClosed") == sum(
        i["state"] == "closed" for i in answers.values()
    )
    assert (tmp_path / "issues" / ORG / "paginate-issues" / "13" / "issue.md").exists()


@pytest.fixture
def hub(tmp_path: Path) -> FakeHub:  # type: ignore[misc]
    with FakeHub.start(data_dir=tmp_path / "hub") as running:
        running.control.create_owner("acme", "org")
        running.control.create_repo("acme/widgets")
        running.control.create_repo("acme/gadgets")
        for n in range(1, 7):
            running.control.create_issue(
                "acme/widgets", f"W{n}", labels=["bug"] if n % 2 else [], author_association="OWNER"
            )
        running.control.create_issue("acme/gadgets", "G1")
        yield running


def test_one_unknown_repository_exits_1_and_the_others_sync(
    tmp_path: Path, environ: dict[str, str], hub: FakeHub
) -> None:
    env = {**environ, "GHW_GITHUB_API_URL": hub.base_url}
    code, out, err = run_cli(
        ["sync", "--repo", "acme/widgets", "--repo", "acme/nope", "--repo", "acme/gadgets"], env
    )
    assert code == 1, out + err
    assert "acme/nope: FAILED" in out
    assert "acme/widgets: 6 issues seen" in out and "acme/gadgets: 1 issues seen" in out


def test_filters_on_the_command_line(tmp_path: Path, environ: dict[str, str], hub: FakeHub) -> None:
    env = {**environ, "GHW_GITHUB_API_URL": hub.base_url}
    args = ["sync", "--repo", "acme/widgets", "--issue", "1", "--issue", "3-5", "--label", "bug"]
    code, out, err = run_cli(args, env)
    assert code == 0, out + err
    code, out, err = run_cli(["sync", "--repo", "acme/*", "--since", "2000-01-01"], env)
    assert code == 0, out + err
    log = hub.control.requests()
    assert [r["path"] for r in log].count("/orgs/acme/repos") == 1
    assert (
        "since=2000-01-01T00%3A00%3A00Z" in log[-1]["query"]
        or "since=2000-01-01T00:00:00Z" in (log[-1]["query"])
    )
    code, out, err = run_cli(["sync", "--since", "yesterday", "--repo", "acme/widgets"], env)
    assert code == 2 and "--since" in err


def test_dry_run_writes_nothing_and_makes_no_mutating_request(
    tmp_path: Path, environ: dict[str, str], hub: FakeHub
) -> None:
    env = {**environ, "GHW_GITHUB_API_URL": hub.base_url}
    db = tmp_path / "issues" / "ghw.db"
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    mark = hub.control.requests()[-1]["seq"] if hub.control.requests() else 0

    code, out, err = run_cli(["sync", "--repo", "acme/widgets", "--dry-run"], env)

    assert code == 0, out + err
    assert "would append IssueSynced to acme/widgets#1" in out
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before
    assert not (tmp_path / "issues" / "acme").exists()  # no issue.md either
    assert {r["method"] for r in hub.control.requests(mark)} == {"GET"}


def test_an_unknown_owner_pattern_fails_alone_and_exits_1(
    tmp_path: Path, environ: dict[str, str], hub: FakeHub
) -> None:
    env = {**environ, "GHW_GITHUB_API_URL": hub.base_url}
    code, out, err = run_cli(["sync", "--repo", "nosuch/*", "--repo", "acme/widgets"], env)
    assert code == 1, out + err
    assert "nosuch/*: FAILED: cannot expand nosuch/*" in out
    assert "acme/widgets: 6 issues seen" in out  # the repository named explicitly still ran
    assert "Traceback" not in out + err
    streams = {s for s, _, _ in ledger_events(tmp_path / "issues" / "ghw.db")}
    assert "acme/widgets#1" in streams and not any(s.startswith("nosuch") for s in streams)
