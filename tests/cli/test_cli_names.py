"""GitHub's names are case-insensitive, so ghw's are too (issue 13, item 11; ADR 0005).

``Demo/Calc``, ``demo/calc#1`` and ``https://github.com/DEMO/calc/issues/1`` name the same
streams; ``--label BUG`` matches GitHub's ``bug``.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import structlog
import yaml

from ghw.cli.context import AppContext
from ghw.cli.main import main
from ghw.cli.workflow import normalize_labels
from ghw.fakehub import FakeHub
from ghw.refs import parse_issue_ref, validate_repo, validate_repo_or_pattern


@pytest.fixture(autouse=True)
def _reset_structlog() -> Iterator[None]:
    yield
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[FakeHub]:
    with FakeHub.start(data_dir=tmp_path / "hub", seed="demo") as running:
        yield running


@pytest.fixture
def env(tmp_path: Path, clean_env: dict[str, str], hub: FakeHub) -> dict[str, str]:
    from ghw.fakehub import demo_dir

    config = tmp_path / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "issues_path": str(tmp_path / "issues"),
                "github": {"api_url": hub.base_url},
                "agent": {"default": "scripted"},
                "agents": {"scripted": {"script": str(demo_dir() / "script.yaml")}},
                "review": {"comment": True},
            }
        )
    )
    return {**clean_env, "GHW_CONFIG": str(config), "GITHUB_TOKEN": "t0k3n"}


def run(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), context=AppContext(environ=env, stdout=out, stderr=err))
    return code, out.getvalue(), err.getvalue()


def test_refs_come_back_lower_cased() -> None:
    assert validate_repo("Demo/Calc") == "demo/calc"
    assert validate_repo_or_pattern("Demo/Calc") == "demo/calc"
    assert validate_repo_or_pattern("OctoCat/*") == "octocat/*"
    for text, repo in [
        ("Demo/Calc#1", None),
        ("#1", "DEMO/calc"),
        ("1", "demo/CALC"),
        ("https://github.com/DEMO/Calc/issues/1", None),
        ("https://github.com/demo/calc/pull/1", None),
    ]:
        assert parse_issue_ref(text, repo).stream_id == "demo/calc#1", text


def test_labels_are_normalised() -> None:
    assert normalize_labels(["BUG", " Bug ", "good first issue", "", "Good First Issue"]) == [
        "bug",
        "good first issue",
    ]
    assert normalize_labels(None) == []


def test_repo_add_list_remove_ignore_case(env: dict[str, str]) -> None:
    code, out, _ = run(env, "repo", "add", "Demo/Calc")
    assert code == 0 and "added demo/calc" in out
    code, out, _ = run(env, "repo", "add", "DEMO/CALC")
    assert code == 0 and "already registered" in out
    code, out, _ = run(env, "repo", "list", "--json")
    assert [r["repo"] for r in json.loads(out)] == ["demo/calc"]
    code, out, _ = run(env, "repo", "remove", "demo/CALC")
    assert code == 0 and "removed demo/calc" in out
    assert json.loads(run(env, "repo", "list", "--json")[1]) == []


def test_config_repos_and_repo_add_are_one_repository(env: dict[str, str]) -> None:
    config = Path(env["GHW_CONFIG"])
    data = yaml.safe_load(config.read_text())
    data["repos"] = ["Demo/Calc"]
    config.write_text(yaml.safe_dump(data))
    assert run(env, "repo", "add", "demo/calc")[0] == 0
    _code, out, _ = run(env, "repo", "list", "--json")
    assert [r["repo"] for r in json.loads(out)] == ["demo/calc"]


def test_mixed_case_names_reach_the_same_issues(env: dict[str, str], hub: FakeHub) -> None:
    """The bug of item 11: ``--repo Demo/Calc`` after a cycle on ``demo/calc`` re-planned and
    re-reviewed the same issues and posted a second review comment."""
    code, out, err = run(env, "cycle", "--repo", "demo/calc")
    assert code == 0, err
    code, out, err = run(env, "cycle", "--repo", "Demo/Calc")
    assert code == 0, err
    assert "would" not in out
    code, out, _ = run(env, "status", "--json")
    status = json.loads(out)
    assert [r["repo"] for r in status["repos"]] == ["demo/calc"]
    for ref in ("Demo/Calc#1", "https://github.com/DEMO/calc/issues/1"):
        code, out, _ = run(env, "history", ref, "--json")
        assert code == 0 and json.loads(out)["issue"] == "demo/calc#1"
    headers = {"Authorization": "Bearer t0k3n"}
    pulls = httpx.get(
        f"{hub.base_url}/repos/demo/calc/pulls", params={"state": "all"}, headers=headers
    ).json()
    assert len(pulls) == 3  # one per eligible issue, not two
    for pr in pulls:
        comments = httpx.get(
            f"{hub.base_url}/repos/demo/calc/issues/{pr['number']}/comments", headers=headers
        ).json()
        assert len(comments) == 1, pr["number"]  # one review comment each


def test_label_filter_ignores_case(env: dict[str, str]) -> None:
    assert run(env, "sync", "--repo", "demo/calc")[0] == 0
    code, out, err = run(env, "plan", "--repo", "demo/calc", "--label", "BUG", "--dry-run")
    assert code == 0, err
    assert "would plan demo/calc#1" in out and "would plan demo/calc#3" in out
    code, lower, _ = run(env, "plan", "--repo", "demo/calc", "--label", "bug", "--dry-run")
    assert lower == out
