"""The foundation CLI over a real ledger file: init, repo, status, history, replay, controls."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from ghw.ledger import migrations
from ghw.ledger.store import Ledger
from ghw.machine import events as ev

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ledger"))
from ledger_helpers import file_digest, run_cli, synced

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def env(tmp_path: Path, clean_env: dict[str, str]) -> dict[str, str]:
    return {**clean_env, "GHW_CONFIG": str(tmp_path / "config.yaml")}


@pytest.fixture
def inited(tmp_path: Path, env: dict[str, str]) -> Path:
    code, _out, err = run_cli(["init", "--issues-path", str(tmp_path / "issues")], env)
    assert code == 0, err
    return tmp_path / "issues" / "ghw.db"


def seed_issues(db: Path, count: int = 3) -> None:
    async def go() -> None:
        ledger = await Ledger.open(db)
        try:
            for n in range(1, count + 1):
                await ledger.append(
                    f"o/r#{n}", 0, [synced("o/r", n, author="alice", association="OWNER")]
                )
            r = await ledger.claim(
                "plan", ["synced"], started=ev.PlanStarted(agent="scripted", model="m1")
            )
            assert r is not None
            claim = r[0]
            await ledger.append(
                claim.stream_id,
                claim.version,
                [
                    ev.PlanCompleted(
                        text="the plan",
                        agent="scripted",
                        session_id="sess-1",
                        cost_usd=0.12,
                        duration_s=3.5,
                    )
                ],
                fence=claim,
            )
        finally:
            await ledger.close()

    asyncio.run(go())


def test_init_refuses_to_overwrite_without_force(
    tmp_path: Path, env: dict[str, str], inited: Path
) -> None:
    assert inited.exists()
    code, _, err = run_cli(["init", "--issues-path", str(tmp_path / "other")], env)
    assert code == 2 and "--force" in err
    code, _, _ = run_cli(["init", "--issues-path", str(tmp_path / "other"), "--force"], env)
    assert code == 0


def test_init_needs_issues_path(env: dict[str, str]) -> None:
    code, _, err = run_cli(["init"], env)
    assert code == 2 and "--issues-path" in err


def test_repo_add_list_remove(env: dict[str, str], inited: Path) -> None:
    assert run_cli(["repo", "add", "octo/hello"], env)[0] == 0
    code, out, _ = run_cli(["repo", "add", "octo/hello"], env)
    assert code == 0 and "already" in out
    code, out, _ = run_cli(["repo", "list", "--json"], env)
    assert json.loads(out) == [{"repo": "octo/hello", "source": "ledger", "last_sync": None}]
    assert run_cli(["repo", "remove", "octo/hello"], env)[0] == 0
    assert json.loads(run_cli(["repo", "list", "--json"], env)[1]) == []
    code, _, err = run_cli(["repo", "add", "../etc"], env)
    assert code == 2 and "malformed repository name" in err
    code, _, err = run_cli(["repo", "add", "octo/..git"], env)
    assert code == 2


def test_status_counts_per_state_per_repo(env: dict[str, str], inited: Path) -> None:
    seed_issues(inited)
    code, out, _ = run_cli(["status", "--json"], env)
    data = json.loads(out)
    assert code == 0
    assert set(data) >= {"ledger", "repos", "failures", "leases", "cost_usd", "cycles"}
    assert data["repos"] == [
        {
            "repo": "o/r",
            "last_sync": None,
            "states": {"planned": 1, "synced": 2},
            "registered": False,  # synced by name, never `ghw repo add`ed
        }
    ]
    assert data["cost_usd"] == pytest.approx(0.12)
    code, out, _ = run_cli(["status"], env)
    assert "o/r" in out and "synced 2" in out and "planned 1" in out


def test_history_timeline_and_json(env: dict[str, str], inited: Path) -> None:
    seed_issues(inited)
    code, out, _ = run_cli(["history", "o/r#1"], env)
    assert code == 0
    lines = out.splitlines()
    assert "state planned" in out
    assert any(
        "PlanCompleted" in line
        and "session sess-1" in line
        and "$0.1200" in line
        and "3.5s" in line
        for line in lines
    )
    assert any("PlanStarted" in line and "agent scripted (m1)" in line for line in lines)
    code, out, _ = run_cli(["history", "1", "--repo", "o/r", "--json"], env)
    data = json.loads(out)
    assert data["issue"] == "o/r#1" and data["state"] == "planned"
    assert [e["type"] for e in data["events"]] == ["IssueSynced", "PlanStarted", "PlanCompleted"]
    assert set(data["events"][0]) == {"seq", "version", "type", "ts", "actor", "payload", "hash"}
    code, out, _ = run_cli(["history", "https://github.com/o/r/issues/1", "--json"], env)
    assert json.loads(out)["issue"] == "o/r#1"
    code, _, err = run_cli(["history", "42"], env)
    assert code == 2 and "--repo" in err


def test_global_options_work_after_the_subcommand(
    tmp_path: Path, env: dict[str, str], inited: Path
) -> None:
    other = tmp_path / "other.yaml"
    other.write_text(f"issues_path: {tmp_path / 'elsewhere'}\n")
    code, out, _ = run_cli(["config", "show", "--config", str(other), "--json"], env)
    assert code == 0 and json.loads(out)["values"]["issues_path"]["value"] == str(
        tmp_path / "elsewhere"
    )
    code, out, _ = run_cli(["--config", str(other), "config", "show", "--json", "-v"], env)
    assert code == 0 and json.loads(out)["path"] == str(other)


def test_bad_flag_and_bad_config_exit_2(tmp_path: Path, env: dict[str, str]) -> None:
    assert run_cli(["status", "--no-such-flag"], env)[0] == 2
    bad = tmp_path / "bad.yaml"
    bad.write_text("issues_path: /x\nplan: {parallelism: x}\n")
    code, _, err = run_cli(["--config", str(bad), "status"], env)
    assert code == 2 and "plan.parallelism" in err and "Traceback" not in err
    code, _, err = run_cli(["--config", str(tmp_path / "missing.yaml"), "status"], env)
    assert code == 2 and "does not exist" in err
    empty = tmp_path / "empty.yaml"
    empty.write_text("repos: []\n")
    code, _, err = run_cli(["--config", str(empty), "status"], env)
    assert code == 2 and "issues_path" in err


def test_operator_controls(env: dict[str, str], inited: Path) -> None:
    seed_issues(inited)
    code, out, _ = run_cli(["hold", "o/r#2", "--reason", "design"], env)
    assert code == 0 and "synced -> held" in out
    code, out, _ = run_cli(["release", "o/r#2"], env)
    assert code == 0 and "held -> synced" in out
    code, _, err = run_cli(["retry", "o/r#2"], env)
    assert code == 2 and "only failed or held" in err
    assert "loop held" in run_cli(["hold", "--all"], env)[1]
    assert json.loads(run_cli(["status", "--json"], env)[1])["loop_held"] is True
    assert "loop released" in run_cli(["release", "--all"], env)[1]


def run_seed_script(db: Path, issues: int, seed: int) -> dict:  # type: ignore[type-arg]
    out = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "seed_ledger.py"),
            "--ledger",
            str(db),
            "--issues",
            str(issues),
            "--seed",
            str(seed),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out)


def test_seed_script_is_deterministic(tmp_path: Path) -> None:
    a = run_seed_script(tmp_path / "a.db", 50, 7)
    b = run_seed_script(tmp_path / "b.db", 50, 7)
    assert a["events"] == b["events"] and a["issues"] == 50

    def states(db: Path) -> list:  # type: ignore[type-arg]
        conn = sqlite3.connect(db)
        try:
            return conn.execute(
                "SELECT stream_id, state, version FROM issues ORDER BY 1"
            ).fetchall()
        finally:
            conn.close()

    assert states(tmp_path / "a.db") == states(tmp_path / "b.db")


def test_replay_verify_on_seeded_ledger_and_tampering(tmp_path: Path, env: dict[str, str]) -> None:
    db = tmp_path / "seeded.db"
    run_seed_script(db, 300, 1)
    Path(env["GHW_CONFIG"]).write_text("# settings come from the environment\n")
    env = {**env, "GHW_LEDGER": str(db), "GHW_ISSUES_PATH": str(tmp_path)}
    code, out, _ = run_cli(["replay", "--verify", "--json"], env)
    report = json.loads(out)
    assert code == 0 and report["verified"] is True and report["first_bad_seq"] is None
    assert report["streams"] == 300 and report["events"] > 300
    # rebuild swaps the projections and they still verify
    assert run_cli(["replay"], env)[0] == 0
    assert run_cli(["replay", "--verify"], env)[0] == 0
    # change a payload behind the ledger's back
    conn = sqlite3.connect(db)
    conn.execute("DROP TRIGGER events_no_update")
    conn.execute(
        'UPDATE events SET payload = replace(payload, \'"title":"Issue 1"\', \'"title":"pwned"\') WHERE seq = 1'
    )
    conn.commit()
    conn.close()
    code, out, _ = run_cli(["replay", "--verify", "--json"], env)
    report = json.loads(out)
    assert code == 1 and report["verified"] is False and report["first_bad_seq"] == 1
    code, out, _ = run_cli(["replay", "--verify"], env)
    assert code == 1 and "first bad seq 1" in out


def test_projection_drift_is_found(tmp_path: Path, env: dict[str, str], inited: Path) -> None:
    seed_issues(inited)
    conn = sqlite3.connect(inited)
    conn.execute("UPDATE issues SET state = 'reviewed' WHERE stream_id = 'o/r#3'")
    conn.commit()
    conn.close()
    code, out, _ = run_cli(["replay", "--verify", "--json"], env)
    report = json.loads(out)
    assert code == 1 and "o/r#3" in report["problem"] and "state" in report["problem"]
    assert report["first_bad_seq"] == 3


def test_reading_commands_leave_the_file_unchanged(env: dict[str, str], inited: Path) -> None:
    seed_issues(inited)
    before = file_digest(inited)
    for args in (
        ["status"],
        ["status", "--json"],
        ["history", "o/r#1"],
        ["replay", "--verify"],
        ["replay", "--until", "2", "--json"],
        ["repo", "list"],
    ):
        code, out, err = run_cli(args, env)
        assert code == 0, (args, err)
        assert file_digest(inited) == before, args
    code, out, _ = run_cli(["replay", "--until", "2", "--json"], env)
    report = json.loads(out)
    assert report["until"] == 2 and {i["issue"]: i["state"] for i in report["issues"]} == {
        "o/r#1": "synced",
        "o/r#2": "synced",
    }


def test_ledger_from_a_newer_ghw_is_refused(env: dict[str, str], inited: Path) -> None:
    conn = sqlite3.connect(inited)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    before = file_digest(inited)
    for args in (["status"], ["repo", "add", "a/b"], ["replay", "--verify"]):
        code, _, err = run_cli(args, env)
        assert code == 2 and "newer ghw" in err, args
    assert file_digest(inited) == before


def test_older_ledger_is_migrated_by_writers_only(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], inited: Path
) -> None:
    seed_issues(inited)
    current = migrations.SCHEMA_VERSION
    monkeypatch.setattr(migrations, "SCHEMA_VERSION", current + 1)
    monkeypatch.setattr(
        migrations, "MIGRATIONS", {current: "CREATE INDEX issues_agent ON issues (agent);"}
    )
    before = file_digest(inited)
    assert run_cli(["status"], env)[0] == 0
    assert run_cli(["replay", "--verify"], env)[0] == 0
    assert file_digest(inited) == before
    assert run_cli(["repo", "add", "a/b"], env)[0] == 0  # a writer: backs up, then migrates
    conn = sqlite3.connect(inited)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == current + 1
        assert conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'issues_agent'").fetchone()
    finally:
        conn.close()
    backups = list(inited.parent.glob(f"ghw.db.v{current}-*.bak"))
    assert len(backups) == 1


def test_version_option_prints_the_version_and_needs_no_config(tmp_path: Path) -> None:
    import ghw

    code, out, err = run_cli(["--version"], {"HOME": str(tmp_path)})
    assert (code, out.strip(), err) == (0, f"ghw {ghw.__version__}", "")
