"""`ghw config show / validate / set` run as a user runs them: exit codes, messages, the file."""

from __future__ import annotations

import io
import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from ghw.cli.context import AppContext
from ghw.cli.main import main

ROOT = Path(__file__).resolve().parents[2]


def ghw(args: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(args, context=AppContext(environ=env, stdout=out, stderr=err))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def env(clean_env: dict[str, str]) -> dict[str, str]:
    return dict(clean_env)


@pytest.fixture
def cfg(tmp_path: Path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(f"# mine\nissues_path: {tmp_path / 'issues'}\nrepos: [demo/calc]\n")
    return path


def _one_error(err: str) -> str:
    assert "Traceback" not in err
    # the critical log record a configuration error also gets (§6) is not the message
    text = "\n".join(
        line for line in err.splitlines() if not re.match(r"^\d{4}-\d\d-\d\dT\S+ \[", line)
    )
    assert text.startswith("error: "), err
    assert "configuration error" not in text, err  # callers add that prefix, once
    return err


# --- config set -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value", "expect"),
    [
        ("repos", "a/b/c", "exactly one '/'"),
        ("agent.default", "nosuch", "`agent.default`"),
        ("agent.plan", "nosuch", "`agent.plan`"),
        ("lease.ttl", "0s", "`lease.ttl`"),
        ("policy.trusted_associations", "OWNER,ADMIN", "ADMIN"),
        ("agents.mybot.command", "mybot", "agents.mybot.type"),
        ("agents.claude-code.type", "claude", "`agents.claude-code.type`"),
    ],
)
def test_config_set_refuses_an_invalid_result_and_leaves_the_file_unchanged(
    cfg: Path, env: dict[str, str], key: str, value: str, expect: str
) -> None:
    before = cfg.read_bytes()
    code, out, err = ghw(["--config", str(cfg), "config", "set", key, value], env)
    assert code == 2, (out, err)
    _one_error(err)
    assert expect in err and str(cfg) in err and "unchanged" in err
    assert cfg.read_bytes() == before
    # and the next `config set` works: nothing broken was left behind
    code, _out, err = ghw(["--config", str(cfg), "config", "set", "plan.parallelism", "3"], env)
    assert code == 0, err
    assert "plan:\n  parallelism: 3\n" in cfg.read_text() and "# mine" in cfg.read_text()


def test_config_set_repairs_a_broken_key(cfg: Path, env: dict[str, str]) -> None:
    cfg.write_text(cfg.read_text() + "lease:\n  ttl: 0s\n")
    assert ghw(["--config", str(cfg), "config", "show"], env)[0] == 2
    code, _out, err = ghw(["--config", str(cfg), "config", "set", "lease.ttl", "10m"], env)
    assert code == 0, err
    assert ghw(["--config", str(cfg), "config", "validate"], env)[0] == 0


def test_config_set_on_a_file_that_is_not_yaml_is_a_clear_error(
    cfg: Path, env: dict[str, str]
) -> None:
    cfg.write_text("issues_path: [unclosed\n")
    code, _out, err = ghw(["--config", str(cfg), "config", "set", "plan.parallelism", "3"], env)
    assert code == 2
    _one_error(err)
    assert "line" in err and "not valid YAML" in err
    assert cfg.read_text() == "issues_path: [unclosed\n"


def test_config_set_writes_through_a_symlink_to_its_target(
    tmp_path: Path, cfg: Path, env: dict[str, str]
) -> None:
    cfg.chmod(0o640)
    link = tmp_path / "link.yaml"
    link.symlink_to(cfg)
    code, _out, err = ghw(["--config", str(link), "config", "set", "review.comment", "true"], env)
    assert code == 0, err
    assert link.is_symlink() and os.readlink(link) == str(cfg)
    assert "comment: true" in cfg.read_text()
    assert stat.S_IMODE(cfg.stat().st_mode) == 0o640  # the file keeps its permissions
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.yaml", "home", "link.yaml"]


def test_config_set_through_ghw_config_creates_the_file(
    tmp_path: Path, env: dict[str, str]
) -> None:
    path = tmp_path / "new" / "config.yaml"
    env["GHW_CONFIG"] = str(path)
    code, _out, err = ghw(["config", "set", "issues_path", str(tmp_path / "issues")], env)
    assert code == 0, err
    assert path.read_text() == f"issues_path: {tmp_path / 'issues'}\n"


def test_config_set_warns_of_a_missing_file_and_an_overriding_variable(
    cfg: Path, env: dict[str, str]
) -> None:
    code, out, err = ghw(["--config", str(cfg), "config", "set", "prompts.plan", "plan.md"], env)
    assert code == 0 and out == f"set prompts.plan in {cfg}\n"
    assert err.startswith("warning: ") and "`prompts.plan`" in err and "does not exist" in err
    env["GHW_PLAN_PARALLELISM"] = "5"
    code, _out, err = ghw(["--config", str(cfg), "config", "set", "plan.parallelism", "3"], env)
    assert code == 0 and "GHW_PLAN_PARALLELISM overrides `plan.parallelism`" in err
    assert "parallelism: 3" in cfg.read_text()


# --- config validate ----------------------------------------------------------------------------

STRUCTURAL = [
    ("lease:\n  ttl: 0s\n", ["`lease.ttl`", "longer than 0s", "line 5"]),
    ("github:\n  timeout: 0s\n", ["`github.timeout`", "longer than 0s"]),
    ("agents:\n  codex:\n    timeout: 0s\n", ["`agents.codex.timeout`", "longer than 0s"]),
    ("agents:\n  fast:\n    type: claude\n", ["`agents.fast.type`", "claude-code", "line 6"]),
    ("agents:\n  fast:\n    model: haiku\n", ["agents.fast.type", "line 5"]),
    (
        "policy:\n  trusted_associations: [OWNER, CONTRIBUTER]\n",
        ["`policy.trusted_associations`", "CONTRIBUTER", "CONTRIBUTOR", "FIRST_TIMER"],
    ),
    ("plan:\n  parallelism: 3\nplan:\n  parallelism: 4\n", ["`plan`", "lines 4 and 6"]),
    ("review:\n  comment: true\n  comment: false\n", ["`review.comment`", "lines 5 and 6"]),
]


@pytest.mark.parametrize(("extra", "expect"), STRUCTURAL)
def test_structural_errors_fail_every_command_at_load(
    cfg: Path, env: dict[str, str], extra: str, expect: list[str]
) -> None:
    cfg.write_text(cfg.read_text() + extra)
    for command in (["config", "validate"], ["config", "show"], ["status"]):
        code, _out, err = ghw(["--config", str(cfg), *command], env)
        assert code == 2, (command, err)
        _one_error(err)
        assert str(cfg) in err
        for text in expect:
            assert text in err, (command, text, err)


RUNTIME = [
    ("prompts:\n  plan: plan.md\n", "`prompts.plan`", 5),
    ("prompts:\n  review: /nonexistent/review.md\n", "`prompts.review`", 5),
    ("agents:\n  scripted:\n    script: play.yaml\n", "`agents.scripted.script`", 6),
    # an agent no phase uses today still gets its script checked: `--agent bot` would use it
    ("agents:\n  bot:\n    type: scripted\n    script: gone.yaml\n", "`agents.bot.script`", 7),
]


@pytest.mark.parametrize(("extra", "expect", "line"), RUNTIME)
def test_validate_catches_missing_prompt_and_script_files(
    cfg: Path, env: dict[str, str], extra: str, expect: str, line: int
) -> None:
    cfg.write_text(cfg.read_text() + extra)
    code, _out, err = ghw(["--config", str(cfg), "config", "validate"], env)
    assert code == 2
    _one_error(err)
    assert expect in err and "does not exist" in err and f"{cfg}, line {line}:" in err
    # a file check, not a structural one: commands that need no such file still run
    assert ghw(["--config", str(cfg), "config", "show"], env)[0] == 0


def test_validate_catches_a_prompt_template_that_cannot_render(
    tmp_path: Path, cfg: Path, env: dict[str, str]
) -> None:
    (tmp_path / "plan.md").write_text("Plan {issue_title} and {oops\n")
    cfg.write_text(cfg.read_text() + "prompts:\n  plan: plan.md\n")
    code, _out, err = ghw(["--config", str(cfg), "config", "validate"], env)
    assert code == 2 and "`prompts.plan`" in err and "{" in err
    (tmp_path / "plan.md").write_text("Plan {issue_title} and {{braces}}\n")
    code, out, err = ghw(["--config", str(cfg), "config", "validate"], env)
    assert code == 0 and out.startswith("ok: "), err


def test_validate_accepts_a_good_config_and_creates_nothing(
    tmp_path: Path, cfg: Path, env: dict[str, str]
) -> None:
    code, out, err = ghw(["--config", str(cfg), "config", "validate"], env)
    assert code == 0, err
    assert out == f"ok: {cfg}\n"
    assert not (tmp_path / "issues").exists()  # a reading command creates no directory


# --- issues_path ---------------------------------------------------------------------------------


def test_issues_path_that_is_a_file_is_a_clear_error(tmp_path: Path, env: dict[str, str]) -> None:
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    cfg = tmp_path / "config.yaml"
    for issues in (blocker, blocker / "sub"):
        cfg.write_text(f"repos: []\nissues_path: {issues}\n")
        for command in (["config", "validate"], ["status"], ["sync"]):
            code, _out, err = ghw(["--config", str(cfg), *command], env)
            assert code == 2, (command, err)
            _one_error(err)
            assert f"{cfg}, line 2" in err and "`issues_path`" in err and str(blocker) in err
            assert "ghw config set issues_path" in err
    env["GHW_ISSUES_PATH"] = str(blocker)
    code, _out, err = ghw(["--config", str(cfg), "config", "validate"], env)
    assert code == 2 and "GHW_ISSUES_PATH" in err and "Traceback" not in err


# --- config show ---------------------------------------------------------------------------------


def test_show_prints_plain_values_with_sources(
    tmp_path: Path, cfg: Path, env: dict[str, str]
) -> None:
    cfg.write_text(
        cfg.read_text()
        + "agents:\n  claude-code:\n    env:\n      ANTHROPIC_API_KEY: sk-secret-1\n"
        + "      OTHER: ${MY_KEY}\n"
    )
    code, out, err = ghw(["--config", str(cfg), "config", "show"], env)
    assert code == 0, err
    assert "None" not in out and "{'" not in out and "['" not in out and "('" not in out
    assert "sk-secret-1" not in out
    lines = {line.split(" = ")[0]: line for line in out.splitlines()[1:]}
    assert lines["repos"] == f"repos = [demo/calc]  ({cfg}, line 3)"
    assert lines["policy.trusted_associations"].startswith(
        "policy.trusted_associations = [OWNER, MEMBER, COLLABORATOR]  (default"
    )
    assert lines["agents.claude-code.env"].startswith(
        "agents.claude-code.env = {ANTHROPIC_API_KEY: ***, OTHER: ${MY_KEY}}"
    )
    assert lines["policy.trusted_label"] == "policy.trusted_label = (not set)  (default)"
    assert lines["implement.draft"] == "implement.draft = false  (default)"
    assert lines["retry.backoff"] == "retry.backoff = 1m  (default)"
    # derived defaults show what ghw will use
    assert lines["ledger"].startswith(f"ledger = {tmp_path / 'issues' / 'ghw.db'}  (default")
    assert lines["agent.plan"].startswith("agent.plan = claude-code  (default")
    # the JSON keeps its shape and its redaction
    code, out, _err = ghw(["--config", str(cfg), "config", "show", "--json"], env)
    data = json.loads(out)
    assert set(data) == {"path", "values"} and data["path"] == str(cfg)
    assert data["values"]["repos"] == {"value": ["demo/calc"], "source": f"file:{cfg}:3"}
    assert data["values"]["agents.claude-code.env"]["value"]["ANTHROPIC_API_KEY"] == "***"
    assert "sk-secret-1" not in out


# --- where the config comes from -----------------------------------------------------------------


def test_ghw_config_naming_a_missing_file_says_so(tmp_path: Path, env: dict[str, str]) -> None:
    env["GHW_CONFIG"] = str(tmp_path / "nope.yaml")
    for command in (["status"], ["config", "show"], ["config", "validate"]):
        code, _out, err = ghw(command, env)
        assert code == 2, command
        _one_error(err)
        assert "GHW_CONFIG" in err and str(tmp_path / "nope.yaml") in err
        assert "does not exist" in err and "issues_path is not set" not in err


def test_no_traceback_and_one_prefix_from_the_real_program(tmp_path: Path) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"issues_path: {tmp_path}\n")
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path)}
    program = [sys.executable, "-c", "import sys; from ghw.cli.main import main; sys.exit(main())"]
    res = subprocess.run(
        [*program, "--config", str(cfg), "config", "set", "repos", "a/b/c"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
    )
    assert res.returncode == 2
    assert "Traceback" not in res.stderr
    assert res.stderr.startswith(f"error: {cfg}, line 2: `repos`: "), res.stderr
    assert cfg.read_text() == f"issues_path: {tmp_path}\n"
