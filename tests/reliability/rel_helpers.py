"""Shared helpers of the reliability suite: a ghw site (config, ledger, token) against a fakehub,
ghw run as a subprocess, and the invariants every test checks at the end.

Not a conftest (a second conftest.py shadows tests/conftest.py); test modules import it by name.
"""

from __future__ import annotations

import itertools
import json
import os
import secrets
import shutil
import sqlite3
import subprocess
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

ROOT = Path(__file__).resolve().parents[2]


def ghw_argv() -> list[str]:
    """The ghw console script of the running interpreter's environment."""
    exe = Path(sys.executable).with_name("ghw")
    if exe.exists():
        return [str(exe)]
    found = shutil.which("ghw")
    if found:
        return [found]
    return [sys.executable, "-c", "import sys; from ghw.cli.main import main; sys.exit(main())"]


def new_token() -> str:
    # distinctive, so that a grep for it cannot match anything else
    return "ghp_RELTEST" + secrets.token_hex(16)


def implement_script(path: Path, numbers: list[int], *, sleep: float = 0.0, repo: str = "") -> Path:
    """A scripted-agent script: every phase of each issue takes ``sleep`` s; implement writes a file."""
    issues: dict[Any, Any] = {}
    for n in numbers:
        key = f"{repo}#{n}" if repo else n
        issues[key] = {
            "plan": {"text": f"Plan for #{n}: write fix-{n}.md", "sleep": sleep},
            "implement": {
                "text": f"Wrote fix-{n}.md",
                "sleep": sleep,
                "edits": [{"path": f"fix-{n}.md", "write": f"fix for issue {n}\n"}],
            },
            "review": {"text": "Looks right.\nVERDICT: approve", "sleep": sleep},
        }
    path.write_text(yaml.safe_dump({"issues": issues}), encoding="utf-8")
    return path


@dataclass
class Site:
    """One ghw installation: config file, issues_path, token, pointed at a fakehub base URL."""

    root: Path
    api_url: str
    token: str = field(default_factory=new_token)
    settings: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.home = self.root / "home"
        self.home.mkdir(exist_ok=True)
        self.issues_path = self.root / "issues"
        self.config_path = self.root / "config.yaml"
        self.write_config()

    @property
    def ledger_path(self) -> Path:
        return self.issues_path / "ghw.db"

    def write_config(self, **overrides: Any) -> None:
        cfg: dict[str, Any] = {
            "issues_path": str(self.issues_path),
            "github": {"api_url": self.api_url, "write_interval": "0s", "timeout": "10s"},
            "agent": {"default": "scripted"},
            "agents": {"scripted": {"delay": "0s"}},
            "retry": {"backoff": "1s", "max_backoff": "2s"},
            "shutdown": {"grace": "1s"},
        }
        for key, value in {**self.settings, **overrides}.items():
            node = cfg
            *parents, last = key.split(".")
            for p in parents:
                node = node.setdefault(p, {})
            node[last] = value
        self.config_path.write_text(yaml.safe_dump(cfg), encoding="utf-8")

    def env(self, **extra: str) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("GHW_", "GITHUB_", "GH_", "PYTEST_"))
        }
        env.update(
            HOME=str(self.home),
            GHW_CONFIG=str(self.config_path),
            GITHUB_TOKEN=self.token,
            NO_COLOR="1",
            PYTHONUNBUFFERED="1",
        )
        env.update(extra)
        return env

    def ghw(
        self, *args: str, timeout: float = 180, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*ghw_argv(), *args],
            env=env or self.env(),
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def popen(self, *args: str, env: dict[str, str] | None = None, log: Path) -> subprocess.Popen:
        fh = open(log, "ab")
        try:
            return subprocess.Popen(
                [*ghw_argv(), *args],
                env=env or self.env(),
                cwd=self.root,
                stdout=fh,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            fh.close()

    def status(self) -> dict[str, Any]:
        res = self.ghw("status", "--json")
        assert res.returncode == 0, res.stderr
        return json.loads(res.stdout)

    def states(self) -> dict[str, str]:
        """issue stream -> state, from the projection (read-only)."""
        with ro(self.ledger_path) as db:
            return dict(db.execute("SELECT stream_id, state FROM issues").fetchall())

    def events(self) -> list[dict[str, Any]]:
        return read_events(self.ledger_path)

    def run_until_settled(self, *, cycles: int = 6, want: set[str] | None = None) -> list[str]:
        """``ghw cycle`` until every issue is in a settled state; returns the cycle outputs."""
        outs = []
        want = want or {"reviewed", "skipped", "closed"}
        for _ in range(cycles):
            res = self.ghw("cycle")
            outs.append(f"rc={res.returncode}\n{res.stdout}\n{res.stderr[-4000:]}")
            states = self.states()
            if states and all(s in want for s in states.values()):
                return outs
        return outs


class ro:
    """A read-only sqlite3 connection (context manager) that never checkpoints or writes."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)

    def __enter__(self) -> sqlite3.Connection:
        return self.db

    def __exit__(self, *exc: object) -> None:
        self.db.close()


def read_events(path: Path) -> list[dict[str, Any]]:
    with ro(path) as db:
        db.row_factory = sqlite3.Row
        rows = db.execute("SELECT * FROM events ORDER BY seq").fetchall()
    return [dict(r) for r in rows]


def check_ledger(path: Path) -> dict[str, int]:
    """No gap or duplicate: seq contiguous from 1, versions contiguous per stream, no duplicate
    (stream, version) or event_id, and no step event twice in a row on one stream. Returns counts."""
    events = read_events(path)
    seqs = [e["seq"] for e in events]
    assert seqs == list(range(1, len(seqs) + 1)), f"seq gap: {_first_gap(seqs)}"
    ids = Counter(e["event_id"] for e in events)
    assert max(ids.values(), default=1) == 1, "duplicate event_id"
    by_stream: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for e in events:
        by_stream[e["stream_id"]].append(e)
    for stream, evs in by_stream.items():
        versions = [e["version"] for e in evs]
        assert versions == list(range(1, len(evs) + 1)), f"{stream}: versions {versions}"
        if "#" not in stream:
            continue
        for a, b in itertools.pairwise(evs):
            assert a["type"] != b["type"], (
                f"{stream}: {a['type']} twice in a row (seq {a['seq']}, {b['seq']})"
            )
        opened = [e for e in evs if e["type"] == "PullRequestOpened"]
        assert len(opened) <= 1, f"{stream}: {len(opened)} PullRequestOpened"
    return {"events": len(events), "streams": len(by_stream)}


def _first_gap(seqs: list[int]) -> str:
    for i, s in enumerate(seqs, start=1):
        if s != i:
            return f"expected seq {i}, found {s}"
    return "none"


def verify_replay(site: Site) -> dict[str, Any]:
    res = site.ghw("replay", "--verify", "--json")
    assert res.returncode == 0, f"replay --verify failed:\n{res.stdout}\n{res.stderr}"
    data = json.loads(res.stdout)
    assert data["verified"] is True and data["first_bad_seq"] is None
    return data


class GitHubView:
    """Read what fakehub holds, through its API (as a user would see on GitHub)."""

    def __init__(self, base_url: str, token: str = "reader") -> None:
        self.client = httpx.Client(
            base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )

    def close(self) -> None:
        self.client.close()

    def _all(self, path: str, **params: Any) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        url: str | None = path
        params = {"per_page": 100, **params}
        while url:
            resp = self.client.get(url, params=params)
            resp.raise_for_status()
            out.extend(resp.json())
            url = resp.links.get("next", {}).get("url")
            params = {}
        return out

    def pulls_for(self, repo: str, number: int) -> list[dict[str, Any]]:
        owner = repo.split("/")[0]
        return self._all(f"/repos/{repo}/pulls", head=f"{owner}:ghw/issue-{number}", state="all")

    def all_pulls(self, repo: str) -> list[dict[str, Any]]:
        return self._all(f"/repos/{repo}/pulls", state="all")

    def comments(self, repo: str, number: int) -> list[dict[str, Any]]:
        return self._all(f"/repos/{repo}/issues/{number}/comments")


def check_github(view: GitHubView, repo: str, numbers: list[int]) -> dict[str, int]:
    """Each issue has exactly one PR (by head) and each PR at most one ghw comment per key."""
    import re

    prs = 0
    comments = 0
    for n in numbers:
        pulls = view.pulls_for(repo, n)
        assert len(pulls) == 1, f"{repo}#{n}: {len(pulls)} PRs for head ghw/issue-{n}"
        prs += 1
        keys = Counter()
        for c in view.comments(repo, pulls[0]["number"]):
            m = re.search(r"<!-- ghw:key=([0-9a-f]+) -->", c["body"] or "")
            if m:
                keys[m.group(1)] += 1
        dup = {k: v for k, v in keys.items() if v > 1}
        assert not dup, f"{repo}#{n}: duplicate ghw comments {dup}"
        comments += sum(keys.values())
    total = len(view.all_pulls(repo))
    assert total == len(numbers), f"{repo}: {total} PRs in all for {len(numbers)} issues"
    return {"prs": prs, "comments": comments}
