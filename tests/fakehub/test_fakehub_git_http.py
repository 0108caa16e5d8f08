"""Git over smart HTTP with the real git CLI: clone and push with a token, refused without."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
from fakehub_helpers import git, git_auth_args

from ghw.fakehub import FakeHub


def test_clone_with_token_gets_seeded_files(hub: FakeHub, tmp_path: Path) -> None:
    work = tmp_path / "calc"
    git(*git_auth_args(), "clone", "--quiet", hub.clone_url("demo/calc"), str(work))
    assert (work / "calc" / "ops.py").read_text().startswith('"""Arithmetic operations."""')
    assert git("branch", "--show-current", cwd=work).stdout.strip() == "main"
    log = hub.control.requests()
    git_requests = [e for e in log if e.get("git")]
    assert git_requests and all(e["status"] == 200 for e in git_requests)
    assert all("ghp_" not in str(e["headers"]) for e in log)


def test_clone_with_credentials_in_url(hub: FakeHub, tmp_path: Path) -> None:
    url = hub.clone_url("demo/calc").replace("http://", "http://x-access-token:sekrit@")
    git("clone", "--quiet", url, str(tmp_path / "c"))
    assert (tmp_path / "c" / "README.md").exists()


def test_clone_with_bearer_extra_header(hub: FakeHub, tmp_path: Path) -> None:
    header = "http.extraHeader=Authorization: Bearer ghs_anything"
    git("-c", header, "clone", "--quiet", hub.clone_url("demo/calc"), str(tmp_path / "b"))
    assert (tmp_path / "b" / "calc" / "ops.py").exists()


def test_clone_without_credentials_is_refused(hub: FakeHub, tmp_path: Path) -> None:
    proc = git("clone", hub.clone_url("demo/calc"), str(tmp_path / "nope"), check=False)
    assert proc.returncode != 0
    assert not (tmp_path / "nope" / "README.md").exists()
    raw = httpx.get(f"{hub.clone_url('demo/calc')}/info/refs?service=git-upload-pack")
    assert raw.status_code == 401
    assert raw.headers["www-authenticate"] == 'Basic realm="GitHub"'
    empty_password = httpx.get(
        f"{hub.clone_url('demo/calc')}/info/refs?service=git-upload-pack", auth=("user", "")
    )
    assert empty_password.status_code == 401
    missing = httpx.get(
        f"{hub.base_url}/demo/nope.git/info/refs?service=git-upload-pack", auth=("x", "t")
    )
    assert missing.status_code == 404


def test_push_refused_without_credentials(hub: FakeHub, tmp_path: Path) -> None:
    work = tmp_path / "w"
    git(*git_auth_args(), "clone", "--quiet", hub.clone_url("demo/calc"), str(work))
    git("checkout", "--quiet", "-b", "sneaky", cwd=work)
    (work / "x.txt").write_text("x\n")
    git("add", "x.txt", cwd=work)
    git("commit", "--quiet", "-m", "x", cwd=work)
    proc = git("push", "origin", "sneaky", cwd=work, check=False)
    assert proc.returncode != 0
    remote = git(*git_auth_args(), "ls-remote", "--heads", "origin", cwd=work).stdout
    assert "refs/heads/sneaky" not in remote
    assert "refs/heads/main" in remote


def test_large_push_and_clone_stream_without_deadlock(hub: FakeHub, tmp_path: Path) -> None:
    """~12 MB of incompressible data: git sends it chunked; both directions must stream."""
    work = tmp_path / "big"
    git(*git_auth_args(), "clone", "--quiet", hub.clone_url("demo/calc"), str(work))
    git("checkout", "--quiet", "-b", "big", cwd=work)
    for n in range(3):
        (work / f"blob{n}.bin").write_bytes(os.urandom(4 * 1024 * 1024))
    git("add", "-A", cwd=work)
    git("commit", "--quiet", "-m", "big files", cwd=work)
    head = git("rev-parse", "HEAD", cwd=work).stdout.strip()
    git(
        *git_auth_args(),
        "-c",
        "http.postBuffer=1048576",
        "push",
        "--quiet",
        "origin",
        "big",
        cwd=work,
    )
    pushes = [e for e in hub.control.requests() if e["path"].endswith("/git-receive-pack")]
    assert pushes and pushes[-1]["status"] == 200
    assert pushes[-1]["headers"].get("Transfer-Encoding") == "chunked"
    again = tmp_path / "again"
    git(
        *git_auth_args(),
        "clone",
        "--quiet",
        "--branch",
        "big",
        hub.clone_url("demo/calc"),
        str(again),
    )
    assert git("rev-parse", "HEAD", cwd=again).stdout.strip() == head
    assert (again / "blob2.bin").stat().st_size == 4 * 1024 * 1024
