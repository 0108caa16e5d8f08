"""Sync filters (--since, --issue N and N-M, --label, --repo), filtered runs storing no cursor,
and --dry-run writing nothing."""

from __future__ import annotations

import hashlib
from pathlib import Path
from urllib.parse import parse_qs

from sync_helpers import SyncRig, type_counts

from ghw.fakehub import FakeHub

REPO = "acme/widgets"


def seed(hub: FakeHub, count: int = 6) -> None:
    hub.control.bulk_create_issues(
        REPO,
        [
            {
                "title": f"Issue {n}",
                "labels": ["bug"] if n % 2 else ["docs"],
                "updated_at": f"2024-01-{n:02d}T00:00:00Z",
            }
            for n in range(1, count + 1)
        ],
    )


async def synced_numbers(rig: SyncRig, repo: str = REPO) -> list[int]:
    return sorted(await rig.issues(repo))


async def repo_events(rig: SyncRig, repo: str = REPO) -> list[str]:
    return [e.type for e in await rig.events(repo) if e.stream_id == repo]


async def test_since_asks_github_and_stores_no_cursor(rig: SyncRig, hub: FakeHub) -> None:
    seed(hub)
    mark = rig.last_seq()
    run = await rig.sync(REPO, since="2024-01-04T00:00:00Z")

    assert run.result.ok
    assert await synced_numbers(rig) == [4, 5, 6]  # updated_at >= since
    (request,) = rig.api_requests(mark)
    query = parse_qs(request["query"])
    assert query["since"] == ["2024-01-04T00:00:00Z"] and query["state"] == ["all"]
    sent = {k.lower() for k in request["headers"]}
    assert "if-none-match" not in sent
    assert await repo_events(rig) == []  # no RepositorySynced: a filtered run stores no cursor

    await rig.sync(REPO)  # the unfiltered sync then takes the rest, once each
    assert await synced_numbers(rig) == [1, 2, 3, 4, 5, 6]
    assert set(type_counts(await rig.events(f"{REPO}#")).values()) == {1}
    assert await repo_events(rig) == ["RepositorySynced"]


async def test_issue_numbers_and_ranges(rig: SyncRig, hub: FakeHub) -> None:
    seed(hub)
    run = await rig.sync(REPO, numbers=[2, (4, 5)])
    assert run.result.ok and run.result.repos[0].seen == 3
    assert await synced_numbers(rig) == [2, 4, 5]
    assert await repo_events(rig) == []
    assert sorted(p.name for p in (rig.issues_path / "acme" / "widgets").iterdir()) == [
        "2",
        "4",
        "5",
    ]


async def test_label(rig: SyncRig, hub: FakeHub) -> None:
    seed(hub)
    await rig.sync(REPO, labels=["docs"])
    assert await synced_numbers(rig) == [2, 4, 6]
    assert await repo_events(rig) == []


async def test_repo_names_only_that_repository(rig: SyncRig, hub: FakeHub) -> None:
    hub.control.create_repo("acme/gadgets")
    hub.control.create_issue("acme/gadgets", "Gadget bug")
    seed(hub, 2)
    mark = rig.last_seq()
    await rig.sync("acme/gadgets")
    assert [r["path"] for r in rig.api_requests(mark)] == ["/repos/acme/gadgets/issues"]
    assert await synced_numbers(rig, "acme/gadgets") == [1]
    assert await rig.issues(REPO) == {}


async def test_a_filtered_run_never_hides_an_update(rig: SyncRig, hub: FakeHub) -> None:
    seed(hub, 3)
    await rig.sync(REPO)
    hub.control.edit_issue(REPO, 1, title="Issue 1 edited")
    hub.control.edit_issue(REPO, 2, title="Issue 2 edited")

    await rig.sync(REPO, numbers=[1])
    changed = {e.stream_id for e in await rig.events(f"{REPO}#") if e.type == "IssueChanged"}
    assert changed == {f"{REPO}#1"}
    await rig.sync(REPO)
    counts = type_counts(await rig.events(f"{REPO}#"))
    assert counts[(f"{REPO}#1", "IssueChanged")] == 1
    assert counts[(f"{REPO}#2", "IssueChanged")] == 1
    assert (await rig.issues(REPO))[2].title == "Issue 2 edited"


def tree_digest(root: Path) -> dict[str, str]:
    """Every file's digest, except SQLite's -wal/-shm side files: a read-only connection to a WAL
    database creates them (an empty WAL), which changes no byte of the ledger."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.endswith(("-wal", "-shm"))
    }


async def test_dry_run_writes_nothing_and_sends_only_reads(rig: SyncRig, hub: FakeHub) -> None:
    seed(hub, 3)
    await rig.sync(REPO)
    hub.control.create_issue(REPO, "Brand new")
    hub.control.edit_issue(REPO, 1, title="Edited")
    hub.control.rate_limit(f"/repos/{REPO}/issues", reset_in=5)  # a wait, not recorded either
    before = tree_digest(rig.issues_path)
    assert "ghw.db" in before
    mark = rig.last_seq()

    run = await rig.sync(REPO, dry_run=True)

    assert run.result.ok
    assert tree_digest(rig.issues_path) == before  # ledger bytes and issue.md files unchanged
    wal = rig.issues_path / "ghw.db-wal"
    assert not wal.exists() or wal.stat().st_size == 0  # nothing was written through the WAL
    assert {r["method"] for r in rig.api_requests(mark)} == {"GET"}
    assert any(f"would append IssueSynced to {REPO}#4" in line for line in run.lines)
    assert any(f"would append IssueChanged to {REPO}#1" in line for line in run.lines)
    assert run.result.repos[0].counts == {"new": 1, "changed": 1}
    assert sorted(await rig.issues(REPO)) == [1, 2, 3]
