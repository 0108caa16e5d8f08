"""Pure checks: branch and ref names (against git's own check-ref-format), repository names,
authors, remote URLs, the environment of ghw's git calls, redaction and the disk audit."""

from __future__ import annotations

import base64
import subprocess
import zlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ghw.git import (
    Git,
    GitError,
    UnsafeNameError,
    base_env,
    check_branch,
    check_ref_name,
    check_remote_url,
    check_repo_name,
    issue_branch,
    parse_author,
    redact,
    scrub_check,
    secret_forms,
)
from ghw.git.auth import auth_config
from ghw.git.errors import GitTimeoutError

TRICKY = [
    "main",
    "ghw/issue-1",
    "feature/x",
    "-x",
    "--upload-pack=evil",
    "a..b",
    "a/./b",
    "a/.b",
    ".a",
    "a.lock",
    "a/b.lock/c",
    "a b",
    "a\tb",
    "a\nb",
    "a\x7fb",
    "a~1",
    "a^",
    "a:b",
    "a?",
    "a*",
    "a[b",
    "a\\b",
    "a@{1}",
    "@",
    "a@b",
    "/a",
    "a/",
    "a//b",
    "a.",
    "HEAD",
    "é/ü",
    "",
]


def _git_accepts(name: str) -> bool:
    result = subprocess.run(
        ["git", "check-ref-format", "--branch", name],
        capture_output=True,
        check=False,
        env={"PATH": "/usr/bin:/bin", "GIT_CONFIG_NOSYSTEM": "1"},
        cwd="/",
    )
    return result.returncode == 0


@pytest.mark.parametrize("name", TRICKY)
def test_check_ref_name_refuses_whatever_git_refuses(name: str) -> None:
    try:
        check_ref_name(name)
        ours = True
    except UnsafeNameError:
        ours = False
    if ours:
        assert _git_accepts(name), f"we accept {name!r} but git does not"


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet="ghw/issue-.@{}~^:?*[\\ 0a\n", max_size=14))
def test_accepted_names_are_accepted_by_git(name: str) -> None:
    try:
        check_ref_name(name)
    except UnsafeNameError:
        return
    assert _git_accepts(name), name


@pytest.mark.parametrize("name", ["ghw/issue-1", "ghw/issue-12-3", "ghw/a.b_c/d-e"])
def test_ghw_branches_pass(name: str) -> None:
    assert check_branch(name) == name


@pytest.mark.parametrize(
    "name", ["main", "feature/x", "ghwx/a", "ghw", "ghw/", "ghw/é", "ghw/-x", "ghw/x\n"]
)
def test_other_branches_fail(name: str) -> None:
    with pytest.raises(UnsafeNameError):
        check_branch(name)


def test_issue_branch() -> None:
    assert issue_branch(7) == "ghw/issue-7"
    assert issue_branch(7, 1) == "ghw/issue-7"
    assert issue_branch(7, 3) == "ghw/issue-7-3"
    for bad in (0, -1, True, "7"):
        with pytest.raises(UnsafeNameError):
            issue_branch(bad)  # type: ignore[arg-type]
    with pytest.raises(UnsafeNameError):
        issue_branch(7, 0)
    check_branch(issue_branch(123, 45))


def test_check_repo_name_reuses_the_cli_rules() -> None:
    assert check_repo_name("octo/demo.py") == "octo/demo.py"
    for bad in ("octo", "-x/y", "a/..", "a/b/c", "a/b.git", "a/ b"):
        with pytest.raises(UnsafeNameError):
            check_repo_name(bad)


def test_parse_author() -> None:
    assert parse_author("ghw <ghw@localhost>") == ("ghw", "ghw@localhost")
    assert parse_author("  Jane Q. Doe   <j@x.org> ") == ("Jane Q. Doe", "j@x.org")
    for bad in ("ghw", "<a@b>", "a <b> <c>", "a <b c>", "a\n <b@c>"):
        with pytest.raises(UnsafeNameError):
            parse_author(bad)


def test_remote_urls() -> None:
    assert check_remote_url("https://github.com/o/r.git")
    assert check_remote_url("http://127.0.0.1:8080/o/r.git")
    for bad in (
        "https://tok@github.com/o/r.git",
        "https://x:tok@github.com/o/r.git",
        "ext::sh",
        "git@github.com:o/r.git",
        "-c",
        "https:///o/r",
        "https://github.com/o r",
    ):
        with pytest.raises(UnsafeNameError):
            check_remote_url(bad)


def test_base_env_is_built_from_nothing(tmp_path: Path) -> None:
    environ = {
        "PATH": "/bin",
        "HOME": "/h",
        "LANG": "C",
        "GITHUB_TOKEN": "t",
        "GIT_ASKPASS": "/x",
        "GIT_DIR": "/y",
        "GIT_TRACE": "1",
        "SSH_AUTH_SOCK": "/s",
    }
    env = base_env(environ, tmp_path / "gc")
    assert {"GITHUB_TOKEN", "GIT_ASKPASS", "GIT_DIR", "GIT_TRACE", "SSH_AUTH_SOCK"}.isdisjoint(env)
    assert env["PATH"] == "/bin" and env["HOME"] == "/h"
    assert env["GIT_TERMINAL_PROMPT"] == "0" and env["GIT_CONFIG_NOSYSTEM"] == "1"
    assert env["GIT_CONFIG_GLOBAL"] == str(tmp_path / "gc")
    pairs = {
        env[f"GIT_CONFIG_KEY_{i}"]: env[f"GIT_CONFIG_VALUE_{i}"]
        for i in range(int(env["GIT_CONFIG_COUNT"]))
    }
    assert pairs["core.hooksPath"] == "/dev/null"
    assert not any("extraheader" in k.lower() for k in pairs)


def test_auth_config_is_scoped_to_the_url() -> None:
    [(key, value)] = auth_config("https://github.com/o/r.git", "tok")
    assert key == "http.https://github.com/o/r.git.extraHeader"
    assert value == "Authorization: Basic " + base64.b64encode(b"x-access-token:tok").decode()
    assert auth_config("https://github.com/o/r.git", None) == []


def test_redact_every_form() -> None:
    forms = secret_forms("sekrit")
    text = "a sekrit b " + forms[1] + " c"
    out = redact(text, forms)
    assert "sekrit" not in out and forms[1] not in out and out.count("***") == 2


def test_scrub_check_finds_plain_and_compressed(tmp_path: Path) -> None:
    (tmp_path / "clean").write_text("nothing here")
    (tmp_path / "a").mkdir()
    (tmp_path / "a/plain").write_text("x sekrit y")
    header = base64.b64encode(b"x-access-token:sekrit").decode()
    (tmp_path / "a/header").write_text(f"Authorization: Basic {header}")
    obj = tmp_path / "repo/objects/ab"
    obj.mkdir(parents=True)
    (obj / "cdef").write_bytes(zlib.compress(b"blob 10\0sekrit!!!!"))
    assert scrub_check([tmp_path], "sekrit") == sorted(
        [tmp_path / "a/plain", tmp_path / "a/header", obj / "cdef"]
    )
    with pytest.raises(ValueError):
        scrub_check([tmp_path], "")


async def test_every_call_has_a_timeout_that_kills_the_group(tmp_path: Path) -> None:
    slow = Git(tmp_path / "env", program="sh", timeout=30)
    with pytest.raises(GitTimeoutError, match="timed out"):
        await slow.run(["-c", "sleep 5 & wait"], time_limit=0.3)


async def test_a_secret_on_the_command_line_is_refused(tmp_path: Path) -> None:
    git = Git(tmp_path / "env")
    with pytest.raises(GitError, match="secret"):
        await git.run(["ls-remote", "https://x/tok123"], token="tok123")


async def test_failures_carry_command_code_and_redacted_stderr(tmp_path: Path) -> None:
    git = Git(tmp_path / "env")
    with pytest.raises(GitError) as info:
        await git.run([f"--git-dir={tmp_path / 'none'}", "rev-parse", "HEAD"])
    err = info.value
    assert err.returncode == 128
    assert err.command[1:3] == (f"--git-dir={tmp_path / 'none'}", "rev-parse")
    assert "not a git repository" in err.stderr_tail
    assert err.transient
