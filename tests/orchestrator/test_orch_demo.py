"""`ghw demo`: offline, self-contained in --dir, idempotent; README's first command runs it."""

from __future__ import annotations

import io
import re
import socket
from pathlib import Path

import yaml
from orch_helpers import ROOT

from ghw.cli.context import AppContext
from ghw.cli.demo import DEMO_TOKEN, demo_environ
from ghw.cli.main import main


def _demo(directory: Path, environ: dict[str, str]) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(
        ["demo", "--dir", str(directory)],
        context=AppContext(environ=environ, stdout=out, stderr=err),
    )
    return code, out.getvalue() + err.getvalue()


def test_orch_demo_environment_drops_ghw_variables_and_real_tokens():
    env = demo_environ(
        {
            "PATH": "/bin",
            "GHW_CONFIG": "/x",
            "GHW_ISSUES_PATH": "/y",
            "GITHUB_TOKEN": "ghp_real",
            "GH_TOKEN": "gho_real",
            "HOME": "/h",
        }
    )
    assert env == {"PATH": "/bin", "HOME": "/h", "GITHUB_TOKEN": DEMO_TOKEN}


def test_orch_demo_full_cycle_then_idempotent_rerun(tmp_path, env):
    directory = tmp_path / "d"
    # hostile environment: the demo must ignore all of it
    env = dict(env)
    env.update(
        {
            "GHW_CONFIG": str(tmp_path / "nope.yaml"),
            "GHW_ISSUES_PATH": str(tmp_path / "elsewhere"),
            "GHW_GITHUB_API_URL": "http://127.0.0.1:9",
            "GITHUB_TOKEN": "ghp_real_token_must_not_be_used",
        }
    )
    code, out = _demo(directory, env)
    assert code == 0, out
    pr_lines = re.findall(r"demo/calc#(\d)  (http://127\.0\.0\.1:\d+/demo/calc/pull/\d+)", out)
    assert [n for n, _ in pr_lines] == ["1", "2", "3"]
    assert "opened now" in out
    assert "demo/calc#4  'Docs: clarify README' by mallory (NONE)" in out
    assert "reason: untrusted author" in out
    assert "History of demo/calc#1" in out and "ReviewCompleted" in out
    assert "=== Work cycle completed ===" in out
    assert "ghp_real_token_must_not_be_used" not in out
    # everything in D
    config = yaml.safe_load((directory / "config.yaml").read_text())
    assert config["issues_path"] == str(directory / "issues")
    assert (directory / "issues" / "ghw.db").exists() and (directory / "fakehub").is_dir()
    assert not (tmp_path / "elsewhere").exists()
    port = int((directory / "fakehub.port").read_text())
    assert config["github"]["api_url"] == f"http://127.0.0.1:{port}"
    # again: the same port (free again), no second PR
    code, again = _demo(directory, env)
    assert code == 0, again
    assert int((directory / "fakehub.port").read_text()) == port
    assert "opened now" not in again and "PR opened" not in again
    assert re.findall(r"demo/calc#(\d)  (http://\S+)", again) == pr_lines
    assert again.count("already open") == 3


def test_orch_demo_port_taken_picks_another(tmp_path, env):
    directory = tmp_path / "d"
    directory.mkdir()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        (directory / "fakehub.port").write_text(f"{taken}\n")
        from ghw.cli.demo import _saved_port

        assert _saved_port(directory) == 0  # not free: a new one is picked


def test_orch_readme_first_command_runs_the_demo():
    readme = (ROOT / "README.md").read_text()
    first = re.search(r"```(?:sh|bash|console)?\n(.*?)```", readme, re.S)
    assert first is not None
    command = first.group(1).strip().splitlines()[0]
    assert command == "python3 -m venv .venv && .venv/bin/pip install -q -e . && .venv/bin/ghw demo"
