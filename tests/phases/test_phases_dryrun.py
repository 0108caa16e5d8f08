"""``ghw plan|implement|review --dry-run``: shows what it would take, and takes and writes nothing
(the ledger's bytes stay as they are; no mutating request and no push reach GitHub)."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import yaml
from phases_kit import DEMO_SCRIPT, Rig, mutating


def _digest(rig: Rig) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(rig.issues_path.glob("ghw.db*"))
    }


def _files(rig: Rig) -> list[str]:
    return sorted(str(p.relative_to(rig.tmp)) for p in rig.tmp.rglob("*") if "hub" not in p.parts)


async def _setup(rig: Rig) -> list[str]:
    # one issue in each phase's input state: 3 synced, 2 planned, 1 implemented
    result, out = await rig.run("sync")
    assert result.ok, out
    result, out = await rig.run("plan", "implement", issue_numbers=[1])
    assert result.ok, out
    result, out = await rig.run("plan", issue_numbers=[2])
    assert result.ok, out
    return [await rig.state(n) for n in (1, 2, 3, 4)]


async def _states(rig: Rig) -> list[str]:
    return [await rig.state(n) for n in (1, 2, 3, 4)]


def test_dry_runs_take_nothing_and_write_nothing(rig: Rig) -> None:
    # (a sync test: the CLI runs in this process's main thread, as it does from a shell)
    states = asyncio.run(_setup(rig))
    assert states == ["implemented", "planned", "synced", "skipped"]

    rig.hub.control.clear_requests()
    ledger_before = _digest(rig)
    files_before = _files(rig)
    expected = {
        "plan": "would plan demo/calc#3 (synced) with scripted",
        "implement": "would implement demo/calc#2 (planned) with scripted",
        "review": "would review demo/calc#1 (implemented) with scripted",
    }
    for phase, line in expected.items():
        code, out, err = rig.cli_sync(phase, "--dry-run")
        assert code == 0, out + err
        assert line in out
        assert out.count("would ") == 1, out
    code, out, err = rig.cli_sync("cycle", "--dry-run")
    assert code == 0, out + err
    for line in expected.values():
        assert line in out

    assert _digest(rig) == ledger_before
    assert _files(rig) == files_before
    requests = rig.hub.control.requests()
    assert mutating(requests) == []
    assert not [r for r in requests if r.get("git")]
    assert asyncio.run(_states(rig)) == states
    assert not asyncio.run(rig.leases())


def test_dry_run_on_a_fresh_install_creates_no_ledger(rig: Rig) -> None:
    code, out, err = rig.cli_sync("plan", "--dry-run")
    assert code == 0, out + err
    assert not rig.ledger_path.exists()
    assert not list(rig.tmp.rglob("*memory*")) and not Path(":memory:").exists()
    assert not rig.issues_path.exists() or list(rig.issues_path.iterdir()) == []
    assert mutating(rig.hub.control.requests()) == []


async def _over_budget(rig: Rig) -> None:
    script = yaml.safe_load(DEMO_SCRIPT.read_text())
    script["issues"][1]["plan"]["cost_usd"] = 0.75
    script["issues"][2]["plan"]["cost_usd"] = 0.25
    rig.script(script)
    result, out = await rig.run("sync", "plan", issue_numbers=[1, 2])
    assert result.ok, out


def test_dry_run_shows_the_budget_holds_it_would_make(rig: Rig) -> None:
    # the plan of a phase is what it would append and claim: a hold for the issue over its
    # budget, then the claims, without that issue
    asyncio.run(_over_budget(rig))
    rig.configure(**{"budget.per_issue_usd": 0.5})
    before = [asyncio.run(rig.types(n)) for n in (1, 2)]
    code, out, err = rig.cli_sync("implement", "--dry-run", "--issue", "1-2")
    assert code == 0, out + err
    assert "would hold demo/calc#1: held (per-issue budget $0.50 reached)" in out, out
    assert "would implement demo/calc#2 (planned) with scripted" in out, out
    assert "would implement demo/calc#1" not in out, out
    assert [asyncio.run(rig.types(n)) for n in (1, 2)] == before  # nothing appended
    assert asyncio.run(rig.state(1)) == "planned"
