"""`ghw cycle|loop|sync|plan` through the CLI against fakehub: exit codes, --dry-run, --phases,
--issue ranges, owner/* patterns, JSON log fields, severities, repository and issue counts."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from orch_helpers import demo_config, json_lines, write_config

from ghw.cli.context import AppContext
from ghw.cli.main import main

MUTATING = {"POST", "PATCH", "PUT", "DELETE"}


class Run:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    @property
    def logs(self) -> list[dict[str, Any]]:
        return json_lines(self.err)


def run(config: Path, env: dict[str, str], *args: str) -> Run:
    out, err = io.StringIO(), io.StringIO()
    ctx = AppContext(environ=env, stdout=out, stderr=err)
    code = main(["--config", str(config), "--log-format", "json", *args], context=ctx)
    return Run(code, out.getvalue(), err.getvalue())


@pytest.fixture
def config(tmp_path: Path, demo_hub) -> Path:
    return write_config(tmp_path / "config.yaml", demo_config(tmp_path, demo_hub.base_url))


def _states(config: Path, env: dict[str, str]) -> dict[str, str]:
    r = run(config, env, "status", "--json")
    assert r.code == 0, r.err
    import asyncio

    from ghw.config import load_config
    from ghw.ledger.store import Ledger

    async def go() -> dict[str, str]:
        cfg = load_config(config, env)
        led = await Ledger.open(cfg.ledger_path, readonly=True)
        try:
            return {v.stream_id: v.state for v in await led.issues()}
        finally:
            await led.close()

    return asyncio.run(go())


# --- exit 2 before any work -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--every", "10"], "1h30m"),
        (["--every", "0s"], "greater than 0"),
        (["--every", "1x"], "2d12h"),
        (["--cron", "61 * * * *"], "five fields"),
        (["--cron", "nonsense"], "five fields"),
        ([], "exactly one of --every"),
        (["--every", "1m", "--cron", "* * * * *"], "exactly one of --every"),
    ],
)
def test_orch_cli_loop_invalid_schedule_exits_2(tmp_path, env, args, needle):
    config = write_config(tmp_path / "c.yaml", {"issues_path": str(tmp_path / "i")})
    r = run(config, env, "loop", *args)
    assert r.code == 2
    assert needle in r.err
    assert "=== Syncing issues ===" not in r.out  # nothing ran


def test_orch_cli_invalid_frequency_names_accepted_forms(tmp_path, env):
    config = write_config(tmp_path / "c.yaml", {"issues_path": str(tmp_path / "i")})
    r = run(config, env, "loop", "--every", "10")
    for form in ("45s", "10m", "1h", "1d", "1h30m", "2d12h"):
        assert form in r.err


def test_orch_cli_config_error_before_first_cycle_exits_2(tmp_path, env):
    config = write_config(tmp_path / "c.yaml", {"repos": ["demo/calc"]})  # no issues_path
    r = run(config, env, "loop", "--every", "1s", "--max-cycles", "2")
    assert r.code == 2
    assert "ghw config set issues_path" in r.err
    assert "=== Syncing issues ===" not in r.out
    r = run(config, env, "cycle")
    assert r.code == 2 and "ghw init --issues-path" in r.err


def test_orch_cli_malformed_repo_exits_2(config, env):
    r = run(config, env, "cycle", "--repo", "not-a-repo")
    assert r.code == 2 and "owner/name" in r.err


# --- dry run ----------------------------------------------------------------------------------


def test_orch_cli_dry_run_changes_nothing(config, env, demo_hub, tmp_path):
    assert run(config, env, "sync").code == 0
    ledger = tmp_path / "issues" / "ghw.db"
    before = ledger.read_bytes()
    demo_hub.control.clear_requests()
    r = run(config, env, "cycle", "--dry-run")
    assert r.code == 0, r.err
    assert ledger.read_bytes() == before
    requests = demo_hub.control.requests()
    assert requests  # it did look
    assert not [q for q in requests if q["method"] in MUTATING]
    assert not [q for q in requests if "git-receive-pack" in (q["path"] + (q["query"] or ""))]
    assert "would plan demo/calc#1 (synced) with scripted" in r.out
    assert "would plan demo/calc#4" not in r.out  # skipped, untrusted
    banners = [line for line in r.out.splitlines() if line.startswith("===")]
    assert len(banners) == 6  # five phases and the cycle's end
    # and the loop's dry run too
    r = run(config, env, "loop", "--every", "1s", "--max-cycles", "1", "--dry-run")
    assert r.code == 0 and ledger.read_bytes() == before
    assert not [q for q in demo_hub.control.requests() if q["method"] in MUTATING]


# --- --phases, --issue N-M, owner/* -----------------------------------------------------------


def test_orch_cli_phases_subset_runs_in_workflow_order(config, env):
    r = run(config, env, "cycle", "--phases", "plan,sync", "--issue", "1")
    assert r.code == 0, r.err
    banners = [line for line in r.out.splitlines() if line.startswith("===")]
    assert banners == [
        "=== Syncing issues ===",
        "=== Generating plans ===",
        "=== Work cycle completed ===",
    ]
    states = _states(config, env)
    assert states["demo/calc#1"] == "planned"
    assert "demo/calc#2" not in states  # --issue 1 applies to every phase, sync included


def test_orch_cli_unknown_phase_exits_2(config, env):
    r = run(config, env, "cycle", "--phases", "sync,deploy")
    assert r.code == 2 and "deploy" in r.err and "sync, plan, implement, review" in r.err


def test_orch_cli_issue_ranges(config, env):
    assert run(config, env, "sync").code == 0
    r = run(config, env, "plan", "--dry-run", "--issue", "2-3")
    assert r.code == 0, r.err
    assert "would plan demo/calc#2" in r.out and "would plan demo/calc#3" in r.out
    assert "demo/calc#1" not in r.out
    r = run(config, env, "plan", "--dry-run", "--issue", "1", "--issue", "3-3")
    assert "demo/calc#1" in r.out and "demo/calc#3" in r.out and "demo/calc#2" not in r.out
    r = run(config, env, "plan", "--dry-run", "--issue", "3-1")
    assert r.code == 2


def test_orch_cli_owner_pattern_expands_repositories(tmp_path, env, demo_hub):
    data = demo_config(tmp_path, demo_hub.base_url)
    data["repos"] = []
    config = write_config(tmp_path / "config.yaml", data)
    demo_hub.control.create_repo("demo/other", files={"README.md": "# other\n"})
    demo_hub.control.create_issue("demo/other", "Other bug", author="demo")
    demo_hub.control.clear_requests()
    r = run(config, env, "sync", "--repo", "demo/*")
    assert r.code == 0, r.err
    listing = [q for q in demo_hub.control.requests() if q["path"].endswith("/demo/repos")]
    assert len([q for q in listing if q["status"] == 200]) == 1  # one listing per owner
    states = _states(config, env)
    assert "demo/calc#1" in states and "demo/other#1" in states


# --- logs: fields, severities, counts ---------------------------------------------------------


def test_orch_cli_json_logs_carry_required_fields(config, env):
    r = run(config, env, "cycle", "--phases", "sync,plan", "--issue", "1")
    assert r.code == 0, r.err
    records = r.logs
    assert records and all("timestamp" in x and "level" in x for x in records)
    for x in records:
        assert x["timestamp"].endswith("Z") or x["timestamp"].endswith("+00:00")
    assert {x["phase"] for x in records if "phase" in x} == {"sync", "plan"}
    in_cycle = [x for x in records if x.get("phase")]
    assert all(x.get("cycle") == 1 for x in in_cycle)
    assert any(x.get("repo") == "demo/calc" for x in records)
    step = [x for x in records if x.get("event") == "step finished"]
    assert step and step[0]["repo"] == "demo/calc" and step[0]["issue"] == 1
    r = run(config, env, "loop", "--every", "1s", "--max-cycles", "1", "--phases", "sync")
    (start,) = [x for x in r.logs if x.get("event") == "loop starting"]
    assert start["frequency"] == "1s" and start["interval_seconds"] == 1.0


def test_orch_cli_repo_and_issue_counts_logged_per_phase(config, env):
    r = run(config, env, "sync")
    assert r.code == 0, r.err
    (sync,) = [x for x in r.logs if x.get("event") == "sync finished"]
    assert sync["repos"] == 1 and sync["issues"] == 4
    r = run(config, env, "cycle", "--phases", "plan", "--dry-run")
    (plan,) = [x for x in r.logs if x.get("event") == "dry run" and x.get("phase") == "plan"]
    assert plan["repos"] == 1 and plan["issues"] == 3


def test_orch_cli_missing_repository_is_a_warning_and_cycle_goes_on(tmp_path, env, demo_hub):
    data = demo_config(tmp_path, demo_hub.base_url)
    data["repos"] = ["demo/missing", "demo/calc"]
    config = write_config(tmp_path / "config.yaml", data)
    r = run(config, env, "cycle", "--phases", "sync,plan", "--issue", "1")
    assert r.code == 1  # something failed, the rest still ran
    (warn,) = [x for x in r.logs if x.get("event") == "repository sync failed"]
    assert warn["level"] == "warning" and warn["repo"] == "demo/missing"
    assert _states(config, env)["demo/calc#1"] == "planned"
    (done,) = [x for x in r.logs if x.get("event") == "cycle completed"]
    assert done["level"] == "warning"
    assert "demo/missing: FAILED" in r.out


def test_orch_cli_failed_issue_logged_with_repo_and_issue(tmp_path, env, demo_hub):
    data = demo_config(tmp_path, demo_hub.base_url)
    data["agent"] = {"default": "command"}
    data["agents"] = {"command": {"command": "false"}}
    config = write_config(tmp_path / "config.yaml", data)
    r = run(config, env, "cycle", "--phases", "sync,plan", "--issue", "1")
    assert r.code == 1
    (step,) = [x for x in r.logs if x.get("event") == "step finished"]
    assert step["level"] == "warning"
    assert (step["repo"], step["issue"], step["phase"], step["cycle"]) == (
        "demo/calc",
        1,
        "plan",
        1,
    )
    assert "demo/calc#1: plan failed" in r.out
    # actionable: the failure says when it is retried
    assert "retry at" in r.out or "ghw retry" in r.out


def test_orch_cli_single_phase_commands(config, env):
    assert run(config, env, "sync").code == 0
    r = run(config, env, "plan", "--issue", "1")
    assert r.code == 0 and r.out.splitlines()[0] == "=== Generating plans ==="
    assert _states(config, env)["demo/calc#1"] == "planned"


def test_orch_cli_since_reaches_the_sync_request(config, env, demo_hub):
    demo_hub.control.clear_requests()
    r = run(config, env, "cycle", "--phases", "sync", "--since", "2024-01-01")
    assert r.code == 0, r.err
    listing = [q for q in demo_hub.control.requests() if q["path"] == "/repos/demo/calc/issues"]
    assert listing and "since=2024-01-01T00%3A00%3A00Z" in listing[0]["query"]
