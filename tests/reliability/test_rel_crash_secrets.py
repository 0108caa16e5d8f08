"""Issue 13 items 1 and 4: runs that crash on purpose never print a secret, and hooks never get
the token.

Every output (stdout, stderr, in both log formats) of a set of deliberately failing or crashing
runs is scanned for the GitHub token and for agent keys: a closed stdout pipe, a missing prompt
file, a file where an issue directory should be, an out-of-range issue number, and real
exceptions raised inside a step and inside a phase (``GHW_CRASH_AT=…:raise``), whose tracebacks
used to show every local variable — the phase context with the token, the agents' environment.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest
from rel_helpers import Site, ghw_argv, implement_script

from ghw.fakehub import FakeHub

REPO = "crash/app"
ANTHROPIC_KEY = "sk-ant-api03-RELTESTanthropic0123456789abcdef"
OPENAI_KEY = "sk-proj-RELTESTopenai0123456789abcdef"


def _scan(texts: list[str], secrets: list[str]) -> list[str]:
    return [
        f"{secret[:12]}… in output #{i}"
        for i, t in enumerate(texts)
        for secret in secrets
        if secret in t
    ]


@pytest.fixture
def site(tmp_path: Path):  # type: ignore[no-untyped-def]
    with FakeHub.start(data_dir=tmp_path / "hub") as hub:
        hub.control.create_repo(REPO, files={"README.md": "# app\n"})
        hub.control.bulk_create_issues(
            REPO, [{"title": f"Issue {n}", "body": "fix it"} for n in (1, 2, 3)]
        )
        script = implement_script(tmp_path / "script.yaml", [1, 2, 3])
        s = Site(
            tmp_path / "site",
            hub.base_url,
            settings={
                "repos": [REPO],
                "agents.scripted": {
                    "script": str(script),
                    # the agent is given the model keys by reference, as a real setup would
                    "env": {"ANTHROPIC_API_KEY": "${ANTHROPIC_API_KEY}"},
                },
            },
        )
        yield s


def _env(site: Site, **extra: str) -> dict[str, str]:
    return site.env(ANTHROPIC_API_KEY=ANTHROPIC_KEY, OPENAI_API_KEY=OPENAI_KEY, **extra)


def _run(site: Site, *args: str, fmt: str = "human", **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*ghw_argv(), "--log-format", fmt, "-vv", *args],
        env=_env(site, **extra),
        cwd=site.root,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_rel_crash_secrets_never_printed_by_crashing_runs(site: Site) -> None:
    secrets = [site.token, ANTHROPIC_KEY, OPENAI_KEY]
    outputs: list[str] = []
    seen: dict[str, int] = {}

    def record(name: str, res: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
        outputs.extend([res.stdout, res.stderr])
        seen[name] = res.returncode
        return res

    assert record("sync", _run(site, "sync")).returncode == 0

    # a closed stdout pipe, as `ghw sync | head -1` gives it
    piped = subprocess.run(
        [
            "/bin/sh",
            "-c",
            f'{" ".join(ghw_argv())} -vv plan --issue 1 | head -1; echo "rc=${{PIPESTATUS:-}}" >&2',
        ],
        env=_env(site),
        cwd=site.root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    outputs.extend([piped.stdout, piped.stderr])
    assert piped.stdout.count("\n") <= 1
    assert "Traceback" not in piped.stderr and "BrokenPipeError" not in piped.stderr, piped.stderr

    # real exceptions in a step and in a phase, in both log formats
    for fmt in ("human", "json"):
        if fmt == "json":
            # the failed step is retried after retry.backoff (1s in this site): wait it out, or
            # a quick second run finds nothing ready to claim
            time.sleep(2.1)
        step = record(
            f"step-{fmt}", _run(site, "implement", fmt=fmt, GHW_CRASH_AT="after_push:raise")
        )
        assert step.returncode == 1, step.stderr
        assert "CrashPointError" in step.stderr  # the crash is reported…
        assert (
            "PhaseContext(" not in step.stderr and "secrets=" not in step.stderr
        )  # …without locals
        phase = record(
            f"phase-{fmt}", _run(site, "review", fmt=fmt, GHW_CRASH_AT="phase_start:raise")
        )
        assert phase.returncode == 1, phase.stderr
        assert "CrashPointError" in phase.stderr
        if fmt == "json":
            for line in step.stderr.splitlines() + phase.stderr.splitlines():
                json.loads(line)  # every log line stays one JSON object

    # a file where an issue's directory should be
    issue_dir = site.issues_path / "crash" / "app" / "3"
    if issue_dir.exists():
        import shutil

        shutil.rmtree(issue_dir)
    issue_dir.parent.mkdir(parents=True, exist_ok=True)
    issue_dir.write_text("not a directory")
    blocked = record("file-for-dir", _run(site, "plan", "--issue", "3"))
    assert blocked.returncode == 1 and "Traceback" not in blocked.stderr, blocked.stderr

    # an issue number beyond any integer GitHub or SQLite has
    huge = record("huge-issue", _run(site, "plan", "--issue", "99999999999999999999999"))
    assert huge.returncode == 2 and "Traceback" not in huge.stderr, huge.stderr

    # a missing prompt file
    site.write_config(**{"repos": [REPO], "prompts.plan": str(site.root / "missing-plan.md")})
    missing = record("missing-prompt", _run(site, "plan"))
    assert missing.returncode == 2 and "missing-plan.md" in missing.stderr, missing.stderr
    assert "Traceback" not in missing.stderr

    assert _scan(outputs, secrets) == [], seen
    # nothing was stored with a secret either
    ledger_bytes = site.ledger_path.read_bytes() + (
        site.ledger_path.with_name("ghw.db-wal").read_bytes()
        if site.ledger_path.with_name("ghw.db-wal").exists()
        else b""
    )
    for secret in secrets:
        assert secret.encode() not in ledger_bytes


def test_rel_crash_secrets_hooks_get_a_clean_environment(site: Site) -> None:
    dump = site.root / "hook-env.txt"
    site.write_config(
        **{
            "repos": [REPO],
            "hooks.post_cycle": f"env > {dump}",
            "hooks.env": {"CHAT_URL": "${CHAT_URL}", "COPY": "${GITHUB_TOKEN}"},
        }
    )
    res = _run(
        site, "cycle", "--phases", "sync", CHAT_URL="https://chat.example/hook", GH_TOKEN=site.token
    )
    assert res.returncode == 0, res.stderr
    seen = dict(line.split("=", 1) for line in dump.read_text().splitlines() if "=" in line)
    assert seen.get("CHAT_URL") == "https://chat.example/hook"  # configured, resolved
    assert "PATH" in seen and "HOME" in seen  # the clean base
    for name in (
        "GITHUB_TOKEN",
        "GH_TOKEN",
        "COPY",
        "ANTHROPIC_API_KEY",
        "OPENAI_API_KEY",
        "GHW_CONFIG",
    ):
        assert name not in seen, name
    assert site.token not in dump.read_text()
