"""State survives a restart on the same data directory; seeds apply only to an empty one."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from fakehub_helpers import TOKEN, git, git_auth_args

from ghw.fakehub import Clock, FakeHub
from ghw.fakehub.seed import SeedError

AUTH = {"Authorization": f"Bearer {TOKEN}"}


def test_restart_restores_everything_and_numbers_continue(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with FakeHub.start(data_dir=data, seed="demo") as hub:
        assert hub.seeded
        hub.control.push_files("demo/calc", "feat", {"f.txt": "f\n"})
        created = httpx.post(
            f"{hub.base_url}/repos/demo/calc/pulls",
            json={"title": "Feat", "head": "demo:feat", "base": "main"},
            headers=AUTH,
        )
        assert created.json()["number"] == 5
        hub.control.create_issue(
            "demo/calc", "Six", labels=["x"], author="eve", author_association="CONTRIBUTOR"
        )
        hub.control.close_issue("demo/calc", 2)
        hub.control.add_comment("demo/calc", 6, "hello", author="eve")
        hub.control.create_repo("acme/tools", owner_kind="org")
        before = httpx.get(
            f"{hub.base_url}/repos/demo/calc/issues?state=all&per_page=100", headers=AUTH
        ).text.replace(hub.base_url, "BASE")
    assert data.is_dir()  # a given data directory is kept

    with FakeHub.start(data_dir=data, seed="demo") as hub:
        assert not hub.seeded
        after = httpx.get(
            f"{hub.base_url}/repos/demo/calc/issues?state=all&per_page=100", headers=AUTH
        ).text.replace(hub.base_url, "BASE")
        assert json.loads(after) == json.loads(before)
        assert len(json.loads(after)) == 6
        seven = hub.control.create_issue("demo/calc", "Seven")
        assert seven["number"] == 7
        comment = httpx.get(f"{hub.base_url}/repos/demo/calc/issues/6/comments", headers=AUTH)
        assert [(c["body"], c["user"]["login"]) for c in comment.json()] == [("hello", "eve")]
        org = httpx.get(f"{hub.base_url}/orgs/acme/repos", headers=AUTH).json()
        assert [r["full_name"] for r in org] == ["acme/tools"]
        pull = httpx.get(f"{hub.base_url}/repos/demo/calc/pulls/5", headers=AUTH).json()
        assert pull["head"]["ref"] == "feat" and pull["state"] == "open"
        work = tmp_path / "clone"
        git(
            *git_auth_args(),
            "clone",
            "--quiet",
            "--branch",
            "feat",
            hub.clone_url("demo/calc"),
            str(work),
        )
        assert (work / "f.txt").read_text() == "f\n"


def test_temporary_data_dir_is_removed_on_stop() -> None:
    hub = FakeHub.start(seed="demo")
    data = hub.data_dir
    assert (data / "fakehub.json").is_file()
    assert (data / "git" / "demo" / "calc.git" / "HEAD").is_file()
    hub.stop()
    assert not data.exists()


def test_seed_file(tmp_path: Path) -> None:
    seed = tmp_path / "seed.yaml"
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "lib.py").write_text("X = 1\n")
    seed.write_text(
        """
owners:
  - {login: acme, kind: org}
repositories:
  - name: acme/widgets
    default_branch: trunk
    description: Widgets
    files_from: src
    files: {README.md: "# Widgets\\n"}
    issues:
      - title: First
        body: one
        labels: [bug, p1]
        author: alice
        author_association: MEMBER
        created_at: 2024-01-01T00:00:00Z
        comments:
          - {author: bob, author_association: CONTRIBUTOR, body: "me too"}
      - title: Closed one
        state: closed
        state_reason: not_planned
        author: zed
        author_association: NONE
      - number: 10
        title: Skipped ahead
  - name: alice/notes
"""
    )
    with FakeHub.start(data_dir=tmp_path / "d", seed=seed) as hub:
        api = httpx.Client(base_url=hub.base_url, headers=AUTH)
        repo = api.get("/repos/acme/widgets").json()
        assert (repo["default_branch"], repo["description"]) == ("trunk", "Widgets")
        assert repo["owner"]["type"] == "Organization"
        issues = api.get("/repos/acme/widgets/issues?state=all&direction=asc").json()
        assert [(i["number"], i["state"]) for i in issues] == [
            (1, "open"),
            (2, "closed"),
            (10, "open"),
        ]
        first = issues[0]
        assert first["user"]["login"] == "alice"
        assert first["author_association"] == "MEMBER"
        assert [lb["name"] for lb in first["labels"]] == ["bug", "p1"]
        assert first["created_at"] == "2024-01-01T00:00:00Z"
        assert issues[1]["state_reason"] == "not_planned"
        comments = api.get("/repos/acme/widgets/issues/1/comments").json()
        assert [(c["user"]["login"], c["author_association"]) for c in comments] == [
            ("bob", "CONTRIBUTOR")
        ]
        assert [r["name"] for r in api.get("/users/alice/repos").json()] == ["notes"]
        work = tmp_path / "w"
        git(*git_auth_args(), "clone", "--quiet", repo["clone_url"], str(work))
        assert (work / "lib.py").read_text() == "X = 1\n"
        assert (work / "README.md").read_text() == "# Widgets\n"
        assert api.get("/repos/demo/calc").status_code == 404  # only what the seed says
        api.close()


def test_bad_seed_is_refused_and_temp_dir_cleaned(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("repositories:\n  - name: a/b\n    issues:\n      - body: no title\n")
    with pytest.raises(SeedError, match="Validation Failed"):
        FakeHub(seed=bad)
    bad.write_text("repositories: [unclosed\n")
    with pytest.raises(SeedError, match="not valid YAML"):
        FakeHub(data_dir=tmp_path / "d", seed=bad)


def test_injected_clock_sets_timestamps(tmp_path: Path) -> None:
    clock = Clock(source=lambda: 1_700_000_000.0)
    with FakeHub.start(data_dir=tmp_path / "c", clock=clock) as hub:
        hub.control.create_repo("me/r")
        issue = hub.control.create_issue("me/r", "At a fixed time")
        assert issue["created_at"] == "2023-11-14T22:13:20Z"
        clock.set_offset(60)
        edited = hub.control.edit_issue("me/r", 1, title="Later")
        assert edited["updated_at"] == "2023-11-14T22:14:20Z"
        assert hub.control.clock()["epoch"] == 1_700_000_060
