"""A closed stdout pipe (``ghw status | head -1``) ends ghw quietly (issue 13, item 1).

Real subprocesses whose stdout pipe is closed before they write: the first write meets EPIPE.
ghw must exit 0 or 141 with no traceback and no "Exception ignored … BrokenPipeError" from the
interpreter's final flush.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ghw.fakehub import FakeHub

GHW = Path(sys.executable).with_name("ghw")


@pytest.fixture(scope="module")
def hub():  # type: ignore[no-untyped-def]
    with FakeHub.start(seed="demo") as running:
        yield running


@pytest.fixture
def env(tmp_path: Path, clean_env: dict[str, str], hub) -> dict[str, str]:  # type: ignore[no-untyped-def]
    from ghw.fakehub import demo_dir

    config = tmp_path / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "issues_path": str(tmp_path / "issues"),
                "repos": ["demo/calc"],
                "github": {"api_url": hub.base_url},
                "agent": {"default": "scripted"},
                "agents": {"scripted": {"script": str(demo_dir() / "script.yaml")}},
            }
        )
    )
    env = {**clean_env, "GHW_CONFIG": str(config), "GITHUB_TOKEN": "t0k3n-pipe"}
    # a ledger with issues in it, so every command below has lines to print
    done = subprocess.run([str(GHW), "sync"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return env


def run_closed(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    proc = subprocess.Popen(
        [str(GHW), *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before ghw writes its first line
    err = proc.stderr.read().decode()
    return proc.wait(timeout=120), err


@pytest.mark.parametrize(
    "args",
    [
        ["status"],
        ["status", "--json"],
        ["history", "demo/calc#1"],
        ["history", "demo/calc#1", "--json"],
        ["repo", "list"],
        ["sync"],
        ["--help"],
    ],
    ids=lambda a: " ".join(a),
)
def test_closed_stdout_exits_quietly(args: list[str], env: dict[str, str]) -> None:
    code, err = run_closed(args, env)
    assert code in (0, 141), err
    assert "Traceback" not in err
    assert "Exception ignored" not in err
    assert "BrokenPipeError" not in err


def test_output_is_whole_when_the_reader_stays(env: dict[str, str]) -> None:
    done = subprocess.run(
        [str(GHW), "status"], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0 and "demo/calc" in done.stdout
