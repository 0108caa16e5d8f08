"""`ghw status` tells what happened, in words (issue 13, items 9 and 16), and the operator
controls say what they did.

A real ledger, written through the Ledger API the way ghw writes it: a cycle that completed, one
interrupted by Ctrl+C, one whose process was killed before it could end it, leases held by a
live and by a dead process, a repository removed after its issues were synced.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from ghw.ledger.records import Holder
from ghw.ledger.store import Ledger
from ghw.machine import events as ev
from ghw.procinfo import process_start_time

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ledger"))
from ledger_helpers import run_cli, synced


@pytest.fixture
def env(tmp_path: Path, clean_env: dict[str, str]) -> dict[str, str]:
    env = {**clean_env, "GHW_CONFIG": str(tmp_path / "config.yaml")}
    code, _out, err = run_cli(["init", "--issues-path", str(tmp_path / "issues")], env)
    assert code == 0, err
    return env


def dead_process() -> Holder:
    """A holder whose process existed on this host and has exited."""
    proc = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE
    )
    start = process_start_time(proc.pid)
    assert start is not None
    proc.communicate(b"")
    return Holder(socket.gethostname(), proc.pid, start, "cycle:gone")


def seed(db: Path) -> None:
    gone = dead_process()

    async def go() -> None:
        ledger = await Ledger.open(db)
        try:
            for n in (1, 2):
                await ledger.append(
                    f"o/r#{n}", 0, [synced("o/r", n, author="a", association="OWNER")]
                )
            await ledger.append("gone/repo", 0, [ev.RepositoryAdded(by="me")])
            await ledger.append(
                "gone/repo#1", 0, [synced("gone/repo", 1, author="a", association="OWNER")]
            )
            await ledger.append("gone/repo", 1, [ev.RepositoryRemoved(by="me")])
            await ledger.append("empty/repo", 0, [ev.RepositoryAdded(by="me")])
            await ledger.append("empty/repo", 1, [ev.RepositoryRemoved(by="me")])
            me = Holder.current("cycle")
            here = {"host": me.host, "pid": me.pid, "start": me.start}
            dead = {"host": gone.host, "pid": gone.pid, "start": gone.start}
            cycles = [
                (
                    "cycle:c1-ok",
                    here,
                    ev.CycleCompleted(ok=True, counts={"plan.completed": 3, "sync.seen": 4}),
                ),
                ("cycle:c2-int", here, ev.CycleCompleted(ok=False, interrupted=True)),
                ("cycle:c3-failed", here, ev.CycleCompleted(ok=False, errors=["plan: boom"])),
                ("cycle:c4-aborted", dead, None),
                ("cycle:c5-running", here, None),
            ]
            for stream, holder, end in cycles:
                await ledger.append(stream, 0, [ev.CycleStarted(number=1, holder=holder)])
                if end is not None:
                    await ledger.append(stream, 1, [end])
            # the live one first: a claim takes over dead holders' leases before it picks
            for holder in (Holder.current("plan"), gone):
                claimed = await ledger.claim(
                    "plan",
                    ["synced"],
                    holder=holder,
                    started=ev.PlanStarted(agent="scripted"),
                )
                assert claimed is not None
        finally:
            await ledger.close()

    asyncio.run(go())


def test_status_says_how_each_cycle_ended_and_which_holders_are_dead(
    tmp_path: Path, env: dict[str, str]
) -> None:
    seed(tmp_path / "issues" / "ghw.db")
    code, out, err = run_cli(["status", "--json"], env)
    assert code == 0, err
    data = json.loads(out)
    by_id = {c["id"]: c for c in data["cycles"]}
    assert {k: c["status"] for k, c in by_id.items()} == {
        "c1-ok": "ok",
        "c2-int": "interrupted",
        "c3-failed": "failed",
        "c4-aborted": "aborted",
        "c5-running": "running",
    }
    # the §6 keys stay as they were
    assert by_id["c1-ok"]["ok"] is True and by_id["c5-running"]["ok"] is None
    assert set(by_id["c1-ok"]) >= {"id", "started", "ended", "ok", "counts", "cost_usd"}
    alive = {lease["holder"]["worker"]: lease["holder_alive"] for lease in data["leases"]}
    assert alive == {"cycle:gone": False, "plan": True}
    repos = {r["repo"]: r for r in data["repos"]}
    assert repos["o/r"]["registered"] is False  # synced by name only, never registered
    assert repos["gone/repo"]["registered"] is False
    assert "empty/repo" not in repos  # removed, nothing of it left to show

    code, text, _ = run_cli(["status"], env)
    assert code == 0
    lines = {line.split()[0]: line for line in text.splitlines() if line.startswith("  c")}
    assert "  interrupted  " in lines["c2-int"] and "FAILED" not in text
    assert "  aborted  " in lines["c4-aborted"]
    assert "  failed  " in lines["c3-failed"]
    assert "plan.completed 3, sync.seen 4" in lines["c1-ok"]
    assert "{" not in text and "None" not in text  # no Python reprs
    dead = [line for line in text.splitlines() if "(holder dead)" in line]
    assert len(dead) == 1 and f"pid {dead_pid(data)}@" in dead[0]
    gone = [line for line in text.splitlines() if line.startswith("  gone/repo ")]
    assert gone and "not registered" in gone[0]


def dead_pid(data: dict) -> int:
    return next(lease["holder"]["pid"] for lease in data["leases"] if not lease["holder_alive"])


def test_status_of_a_registered_repository_never_synced(env: dict[str, str]) -> None:
    assert run_cli(["repo", "add", "octo/new"], env)[0] == 0
    data = json.loads(run_cli(["status", "--json"], env)[1])
    assert data["repos"] == [
        {"repo": "octo/new", "last_sync": None, "states": {}, "registered": True}
    ]


def test_release_all_when_the_loop_is_not_held(env: dict[str, str]) -> None:
    code, out, _ = run_cli(["release", "--all"], env)
    assert code == 0
    assert "not held" in out and "running" not in out
    assert run_cli(["hold", "--all"], env)[0] == 0
    code, out, _ = run_cli(["hold", "--all"], env)
    assert "already held" in out
    code, out, _ = run_cli(["release", "--all"], env)
    assert out.strip() == "loop released"
