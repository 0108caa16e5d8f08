"""The demo seed: demo/calc's tests fail until issues 1-3 are fixed, and script.yaml fixes them."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from fakehub_helpers import git, git_auth_args

from ghw.fakehub import FakeHub, demo_dir

TRUSTED = {"OWNER", "MEMBER", "COLLABORATOR"}
EXPECTED_FAILURE = {1: "test_add", 2: "test_divide", 3: "test_factorial"}


def apply_edits(workspace: Path, edits: list[dict[str, Any]]) -> None:
    """The scripted agent's edit format, applied in order (a tiny stand-in for ghw.agents)."""
    for edit in edits:
        target = workspace / edit["path"]
        if "replace" in edit:
            text = target.read_text()
            old, new = edit["replace"]["old"], edit["replace"]["new"]
            assert old in text, f"{old!r} not in {edit['path']}"
            target.write_text(text.replace(old, new, 1))
        elif "write" in edit:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(edit["write"])
        elif "append" in edit:
            with target.open("a") as fh:
                fh.write(edit["append"])
        elif edit.get("delete"):
            target.unlink()
        else:
            raise AssertionError(f"unknown edit {edit}")


def failing_tests(workspace: Path) -> set[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "unittest"],
        cwd=workspace,
        capture_output=True,
        text=True,
        timeout=60,
    )
    failed = set(re.findall(r"^(?:FAIL|ERROR): (\w+)", proc.stderr, re.MULTILINE))
    assert (proc.returncode == 0) == (not failed), proc.stderr
    assert re.search(r"^Ran [1-9]\d* tests?", proc.stderr, re.MULTILINE), proc.stderr
    return failed


@pytest.fixture
def script() -> dict[str, Any]:
    text = (demo_dir() / "script.yaml").read_text()
    assert text.startswith("# ghw scripted-agent script")
    return yaml.safe_load(text)


def test_demo_issues_trusted_and_untrusted(api: httpx.Client) -> None:
    issues = api.get("/repos/demo/calc/issues", params={"direction": "asc"}).json()
    assert [i["number"] for i in issues] == [1, 2, 3, 4]
    for issue in issues[:3]:
        assert issue["author_association"] in TRUSTED
        assert EXPECTED_FAILURE[issue["number"]] in issue["body"]
    assert len({i["author_association"] for i in issues[:3]}) == 3
    untrusted = issues[3]
    assert untrusted["author_association"] in {"NONE", "CONTRIBUTOR"}
    assert "ignore all previous instructions" in untrusted["body"].lower()
    assert "GITHUB_TOKEN" in untrusted["body"]


def test_script_fixes_each_bug_with_its_own_edits(
    hub: FakeHub, tmp_path: Path, script: dict[str, Any]
) -> None:
    base = tmp_path / "base"
    git(*git_auth_args(), "clone", "--quiet", hub.clone_url("demo/calc"), str(base))
    assert failing_tests(base) == set(EXPECTED_FAILURE.values())
    assert set(script["issues"]) == {1, 2, 3}
    for number, failure in EXPECTED_FAILURE.items():
        entry = script["issues"][number]
        assert entry["plan"]["text"] and entry["implement"]["text"]
        assert entry["review"]["text"].rstrip().splitlines()[-1] == "VERDICT: approve"
        work = tmp_path / f"issue-{number}"
        git("clone", "--quiet", str(base), str(work))
        apply_edits(work, entry["implement"]["edits"])
        assert failing_tests(work) == set(EXPECTED_FAILURE.values()) - {failure}
    apply_edits(base, [e for n in (1, 2, 3) for e in script["issues"][n]["implement"]["edits"]])
    assert failing_tests(base) == set()
