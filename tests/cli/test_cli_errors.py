"""Bad input and bad surroundings end in a clear error, never a traceback (issue 13, items 14-15).

Every case runs the real ``ghw`` command line (``ghw.cli.main.main``) and checks the exit code
of §6 (2 for usage and configuration errors, before any work), that the message says what was
wrong, where and how to fix it, and that nothing was written.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import structlog
import yaml

from ghw.cli.context import AppContext
from ghw.cli.main import main
from ghw.durations import parse_duration, parse_interval

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ledger"))
from ledger_helpers import file_digest

TOO_BIG = str(2**63)  # one past SQLite's largest integer


@pytest.fixture(autouse=True)
def _reset_structlog() -> Iterator[None]:
    yield
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()


@pytest.fixture
def config(tmp_path: Path) -> Path:
    from ghw.fakehub import demo_dir

    path = tmp_path / "config.yaml"
    data = {
        "issues_path": str(tmp_path / "issues"),
        "repos": ["demo/calc"],
        # nothing listens there: every case must stop before talking to GitHub
        "github": {"api_url": "http://127.0.0.1:9"},
        "agent": {"default": "scripted"},
        "agents": {"scripted": {"script": str(demo_dir() / "script.yaml")}},
    }
    path.write_text(yaml.safe_dump(data))
    return path


def run(env: dict[str, str], config: Path | None, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    argv = ["--config", str(config), *args] if config else list(args)
    code = main(argv, context=AppContext(environ=env, stdout=out, stderr=err))
    return code, out.getvalue(), err.getvalue()


def assert_clear(err: str, *needles: str) -> None:
    assert "Traceback" not in err
    for needle in needles:
        assert needle in err, (needle, err)


# --- item 15: values that used to raise from deep inside --------------------------------------


def test_cron_that_never_matches_exits_2(clean_env: dict[str, str], config: Path) -> None:
    code, out, err = run(clean_env, config, "loop", "--cron", "0 0 31 2 *", "--max-cycles", "1")
    assert code == 2
    assert_clear(err, "'0 0 31 2 *'", "never matches", "*/15 * * * *")
    assert "===" not in out  # no cycle started
    assert not (config.parent / "issues" / "ghw.db").exists()


@pytest.mark.parametrize("every", ["2999999d", "99999999999d", "9" * 5000 + "s"])
def test_every_too_long_exits_2(clean_env: dict[str, str], config: Path, every: str) -> None:
    code, out, err = run(clean_env, config, "loop", "--every", every, "--max-cycles", "1")
    assert code == 2
    assert_clear(err, "--every", "too long")
    assert "===" not in out
    assert not (config.parent / "issues" / "ghw.db").exists()


def test_parse_duration_overflow_is_a_value_error_naming_the_forms() -> None:
    for text in ("99999999999d", "9" * 5000 + "s", "1000000000d"):
        with pytest.raises(ValueError, match="1h30m") as info:
            parse_duration(text)
        assert not isinstance(info.value, OverflowError)
    assert parse_duration("999999999d") == timedelta(days=999999999)
    with pytest.raises(ValueError, match="too long"):
        parse_interval("2999999d")
    assert parse_interval("3650d") == timedelta(days=3650)


def test_demo_dir_that_is_a_file_exits_2(clean_env: dict[str, str], tmp_path: Path) -> None:
    target = tmp_path / "a-file"
    target.write_text("not a directory\n")
    code, _out, err = run(clean_env, None, "demo", "--dir", str(target))
    assert code == 2
    assert_clear(err, str(target), "is a file, not a directory", "--dir")
    assert target.read_text() == "not a directory\n"
    code, _, err = run(clean_env, None, "demo", "--dir", str(target / "below"))
    assert code == 2
    assert_clear(err, "--dir", "cannot create")


def test_replay_until_beyond_sqlite_exits_2(clean_env: dict[str, str], config: Path) -> None:
    assert (
        run(clean_env, config, "init", "--issues-path", str(config.parent / "issues"), "--force")[0]
        == 0
    )
    db = config.parent / "issues" / "ghw.db"
    before = file_digest(db)
    code, _, err = run(clean_env, config, "replay", "--until", TOO_BIG)
    assert code == 2
    assert_clear(err, "--until", str(2**63 - 1))
    assert file_digest(db) == before
    code, out, _ = run(clean_env, config, "replay", "--until", str(2**63 - 1), "--json")
    assert code == 0 and '"until"' in out


@pytest.mark.parametrize(
    "args",
    [
        ["plan", "--issue", "99999999999999999999999"],
        ["sync", "--issue", f"1-{TOO_BIG}"],
        ["cycle", "--issue", TOO_BIG, "--dry-run"],
        ["history", f"demo/calc#{TOO_BIG}"],
        ["retry", TOO_BIG, "--repo", "demo/calc"],
        ["hold", f"https://github.com/demo/calc/issues/{TOO_BIG}"],
    ],
)
def test_issue_number_beyond_sqlite_exits_2(
    clean_env: dict[str, str], config: Path, args: list[str]
) -> None:
    env = {**clean_env, "GITHUB_TOKEN": "t0k3n"}
    code, out, err = run(env, config, *args)
    assert code == 2, err
    assert_clear(err, "larger than any issue number", str(2**63 - 1))
    assert "===" not in out


def test_fakehub_port_out_of_range_exits_2(clean_env: dict[str, str]) -> None:
    for port in ("99999", "-1"):
        code, out, err = run(clean_env, None, "fakehub", "serve", "--port", port)
        assert code == 2
        assert_clear(err, "--port", "0<=x<=65535")
        assert out == ""  # no URL: nothing serves


# --- item 14: configuration errors before any work ----------------------------------------------

GITHUB_COMMANDS = [
    ["sync"],
    ["plan"],
    ["implement"],
    ["review"],
    ["cycle"],
    ["cycle", "--dry-run"],
    ["loop", "--every", "1s", "--max-cycles", "1"],
]


@pytest.mark.parametrize("args", GITHUB_COMMANDS, ids=lambda a: " ".join(a))
def test_missing_token_exits_2_before_any_work(
    clean_env: dict[str, str], config: Path, args: list[str]
) -> None:
    db = config.parent / "issues" / "ghw.db"
    code, out, err = run(clean_env, config, "--log-format", "json", *args)
    assert code == 2, (out, err)
    assert_clear(err, "no GitHub token", "GITHUB_TOKEN", "ghw config set github.token_env")
    assert '"level": "critical"' in err
    assert "=== Work cycle completed ===" not in out and "===" not in out
    assert not db.exists()  # no ledger write: not even a created file
    # with a ledger already there, it stays byte for byte as it was
    assert run(clean_env, config, "init", "--issues-path", str(db.parent), "--force")[0] == 0
    before = file_digest(db)
    code, out, err = run(clean_env, config, *args)
    assert code == 2 and "no GitHub token" in err and "===" not in out
    assert file_digest(db) == before


def test_token_from_a_named_variable_is_enough(clean_env: dict[str, str], config: Path) -> None:
    data = yaml.safe_load(config.read_text())
    data["github"]["token_env"] = ["MY_GH"]
    config.write_text(yaml.safe_dump(data))
    code, _out, err = run(clean_env, config, "sync")
    assert code == 2 and "MY_GH" in err
    # the token is found: the command goes on and syncs (a real fakehub this time)
    from ghw.fakehub import FakeHub

    with FakeHub.start(seed="demo") as hub:
        data["github"]["api_url"] = hub.base_url
        config.write_text(yaml.safe_dump(data))
        code, _out, err = run({**clean_env, "MY_GH": "t0k3n"}, config, "sync")
    assert code == 0, err
    assert "no GitHub token" not in err


@pytest.mark.parametrize(
    "args",
    [
        ["status"],
        ["status", "--json"],
        ["history", "demo/calc#1"],
        ["repo", "add", "a/b"],
        ["sync"],
    ],
    ids=lambda a: " ".join(a),
)
def test_ledger_path_that_is_a_directory_exits_2(
    clean_env: dict[str, str], config: Path, args: list[str]
) -> None:
    (config.parent / "issues" / "ghw.db").mkdir(parents=True)
    env = {**clean_env, "GITHUB_TOKEN": "t0k3n"}
    code, out, err = run(env, config, *args)
    assert code == 2, (out, err)
    assert_clear(err, "ghw.db is a directory", "ghw config set ledger")
    assert "===" not in out


# --- an existing file that is no ledger: refused, except by an explicit `ghw init --force` ------


@pytest.mark.parametrize("content", [b"", b"garbage, not SQLite\n"], ids=["empty", "garbage"])
@pytest.mark.parametrize(
    "args",
    [["status"], ["status", "--json"], ["history", "demo/calc#1"], ["repo", "add", "a/b"]],
    ids=lambda a: " ".join(a),
)
def test_unusable_ledger_file_exits_2_and_stays_as_it_was(
    clean_env: dict[str, str], config: Path, args: list[str], content: bytes
) -> None:
    db = config.parent / "issues" / "ghw.db"
    db.parent.mkdir(parents=True)
    db.write_bytes(content)
    code, out, err = run(clean_env, config, *args)
    assert code == 2, (out, err)
    assert_clear(err, str(db))
    assert db.read_bytes() == content


def test_init_force_initialises_an_empty_ledger_file(
    clean_env: dict[str, str], tmp_path: Path
) -> None:
    env = {**clean_env, "GHW_CONFIG": str(tmp_path / "config.yaml")}
    db = tmp_path / "issues" / "ghw.db"
    db.parent.mkdir()
    db.write_bytes(b"")
    code, _out, err = run(env, None, "init", "--issues-path", str(db.parent))
    assert code == 2 and "--force" in err
    assert db.read_bytes() == b""
    assert not (tmp_path / "config.yaml").exists()  # no half-done init: the same command reruns
    code, out, err = run(env, None, "init", "--issues-path", str(db.parent), "--force")
    assert code == 0, err
    assert f"ledger {db}" in out
    code, out, err = run(env, None, "status", "--json")
    assert code == 0, err


def test_init_issues_path_that_is_a_file_exits_2(clean_env: dict[str, str], tmp_path: Path) -> None:
    env = {**clean_env, "GHW_CONFIG": str(tmp_path / "config.yaml")}
    target = tmp_path / "a-file"
    target.write_text("x")
    for where, needle in ((target, "is a file"), (target / "below", "cannot create")):
        code, _out, err = run(env, None, "init", "--issues-path", str(where))
        assert code == 2
        assert_clear(err, "--issues-path", needle)
    assert not (tmp_path / "config.yaml").exists()


def test_missing_prompt_file_exits_2_before_any_work(
    clean_env: dict[str, str], config: Path
) -> None:
    data = yaml.safe_load(config.read_text())
    data["prompts"] = {"plan": str(config.parent / "no-such-prompt.md")}
    config.write_text(yaml.safe_dump(data))
    env = {**clean_env, "GITHUB_TOKEN": "t0k3n"}
    for args in (["plan"], ["cycle"], ["loop", "--every", "1m", "--max-cycles", "1"]):
        code, out, err = run(env, config, "--log-format", "json", *args)
        assert code == 2, (args, err)
        assert_clear(err, "prompts.plan", "no-such-prompt.md")
        assert '"level": "critical"' in err
        assert "===" not in out
    assert not (config.parent / "issues" / "ghw.db").exists()


def test_init_config_file_that_cannot_be_written_exits_2(
    clean_env: dict[str, str], tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    config = blocker / "config.yaml"  # its directory is a file
    code, _out, err = run(clean_env, config, "init", "--issues-path", str(tmp_path / "issues"))
    assert code == 2
    assert_clear(err, str(config), "cannot write the config file", "--config")


@pytest.mark.parametrize("value", ["65", "99999999999999999999"])
def test_parallelism_beyond_reason_exits_2(
    clean_env: dict[str, str], config: Path, value: str
) -> None:
    """A huge --parallelism used to start that many workers (memory ran out, SIGKILL)."""
    env = {**clean_env, "GITHUB_TOKEN": "t0k3n"}
    code, out, err = run(env, config, "plan", "--parallelism", value)
    assert code == 2
    assert_clear(err, "--parallelism", "1<=x<=64")
    assert "===" not in out
