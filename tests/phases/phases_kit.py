"""Shared rig for the phase tests: a fakehub, a config, the orchestrator, and ways to look.

Most tests run ghw in this process (``WorkOrchestrator`` or a phase runner over
``open_runtime``) against an in-process :class:`~ghw.fakehub.FakeHub`; the crash and
concurrency tests start ``ghw`` as real processes (:meth:`Rig.spawn`).
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import yaml

from ghw.fakehub import FakeHub, demo_dir
from ghw.ledger.records import StoredEvent
from ghw.ledger.store import Ledger

# A distinctive token: it must never show up under issues_path, in the ledger or an agent's env.
TOKEN = "ghp_PhAsEsToKeN_7f3c9a1e5b2d4c6e8a0b1357"
ROOT = Path(__file__).resolve().parents[2]
DEMO_SCRIPT = demo_dir() / "script.yaml"
GHW = [sys.executable, "-c", "import sys; from ghw.cli.main import main; sys.exit(main())"]
MUTATING = {"POST", "PATCH", "PUT", "DELETE"}


class FakeClock:
    """A clock tests move by hand (for back-off)."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def _set(tree: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    node = tree
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value


class Rig:
    """One ghw installation (config, issues_path, ledger) against one fakehub."""

    def __init__(self, tmp_path: Path, hub: FakeHub, repo: str = "demo/calc") -> None:
        self.tmp = tmp_path
        self.hub = hub
        self.repo = repo
        self.issues_path = tmp_path / "issues"
        self.config_path = tmp_path / "config.yaml"
        self.script_path = tmp_path / "script.yaml"
        home = tmp_path / "home"
        home.mkdir(exist_ok=True)
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            "LANG": "C.UTF-8",
            "GITHUB_TOKEN": TOKEN,
        }
        self.settings: dict[str, Any] = {
            "issues_path": str(self.issues_path),
            "repos": [repo],
            "github.api_url": hub.base_url,
            "agent.default": "scripted",
            "agents.scripted.script": str(self.script_path),
            "lease.ttl": "30s",
            "shutdown.grace": "2s",
        }
        self.script(yaml.safe_load(DEMO_SCRIPT.read_text()))
        self.configure()

    # --- configuration ----------------------------------------------------------------------

    def configure(self, **dotted: Any) -> None:
        """Set config keys (``plan__parallelism=3`` or ``**{"plan.parallelism": 3}``)."""
        for key, value in dotted.items():
            self.settings[key.replace("__", ".")] = value
        tree: dict[str, Any] = {}
        for key, value in self.settings.items():
            if value is not None:
                _set(tree, key, value)
        self.config_path.write_text(yaml.safe_dump(tree, sort_keys=True))

    def script(self, data: dict[str, Any]) -> None:
        self.script_path.write_text(yaml.safe_dump(data, sort_keys=False))

    @property
    def ledger_path(self) -> Path:
        return self.issues_path / "ghw.db"

    # --- running in this process ------------------------------------------------------------

    async def run(self, *phases: str, **kw: Any) -> tuple[Any, str]:
        """``ghw <phase>`` for each phase, in-process; returns (CycleResult, console text)."""
        from ghw.orchestrator import WorkOrchestrator

        out = io.StringIO()
        orch = WorkOrchestrator(
            self.config_path, phases=list(phases) or None, environ=self.env, stdout=out, **kw
        )
        result = await orch.run_phases()
        return result, out.getvalue()

    async def cycle(self, **kw: Any) -> tuple[Any, str]:
        from ghw.orchestrator import WorkOrchestrator

        out = io.StringIO()
        orch = WorkOrchestrator(self.config_path, environ=self.env, stdout=out, **kw)
        result = await orch.run_cycle()
        return result, out.getvalue()

    async def phase(
        self,
        name: str,
        *,
        clock: Callable[[], datetime] | None = None,
        filters: Any = None,
        parallelism: int | None = None,
    ) -> tuple[Any, str]:
        """One phase runner over ``open_runtime`` (so a clock can be injected)."""
        from ghw.config import load_config
        from ghw.phases.context import Filters, StreamReporter
        from ghw.phases.registry import BY_NAME
        from ghw.runtime import open_runtime

        lines: list[str] = []
        overrides = {f"{name}.parallelism": parallelism} if parallelism else {}
        config = load_config(self.config_path, self.env, overrides, must_exist=True)
        async with open_runtime(config, self.env, StreamReporter(lines.append), clock=clock) as ctx:
            outcome = await BY_NAME[name].run(ctx, filters or Filters())
        return outcome, "\n".join(lines)

    def cli_sync(self, *args: str) -> tuple[int, str, str]:
        """``ghw ARGS`` in this process; from a sync test (the main thread, so the workflow
        commands can install their signal handlers)."""
        from ghw.cli.context import AppContext
        from ghw.cli.main import main

        env = {**self.env, "GHW_CONFIG": str(self.config_path), "NO_COLOR": "1"}
        out, err = io.StringIO(), io.StringIO()
        code = main(list(args), context=AppContext(environ=env, stdout=out, stderr=err))
        return code, out.getvalue(), err.getvalue()

    async def cli(self, *args: str) -> tuple[int, str, str]:
        """``ghw ARGS`` in this process from an async test (on a thread: the CLI runs its own
        event loop); not for the workflow commands, which want the main thread."""
        return await asyncio.to_thread(self.cli_sync, *args)

    # --- running as processes ---------------------------------------------------------------

    def cli_env(self, **extra: str) -> dict[str, str]:
        return {
            **self.env,
            "GHW_CONFIG": str(self.config_path),
            "PYTHONPATH": str(ROOT),
            "NO_COLOR": "1",
            **extra,
        }

    def spawn(self, *args: str, **extra: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [*GHW, *args],
            env=self.cli_env(**extra),
            cwd=self.tmp,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def ghw(
        self, *args: str, timeout: float = 60, **extra: str
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*GHW, *args],
            env=self.cli_env(**extra),
            cwd=self.tmp,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    # --- looking ----------------------------------------------------------------------------

    def stream(self, number: int, repo: str | None = None) -> str:
        return f"{repo or self.repo}#{number}"

    def issue_dir(self, number: int, repo: str | None = None) -> Path:
        return self.issues_path / (repo or self.repo) / str(number)

    async def history(self, number: int, repo: str | None = None) -> list[StoredEvent]:
        async with await Ledger.open(self.ledger_path, readonly=True) as ledger:
            return await ledger.history(self.stream(number, repo))

    async def types(self, number: int, repo: str | None = None) -> list[str]:
        return [e.type for e in await self.history(number, repo)]

    async def view(self, number: int, repo: str | None = None) -> Any:
        async with await Ledger.open(self.ledger_path, readonly=True) as ledger:
            return await ledger.issue(self.stream(number, repo))

    async def state(self, number: int, repo: str | None = None) -> str:
        view = await self.view(number, repo)
        return view.state if view else "(none)"

    async def leases(self) -> list[Any]:
        async with await Ledger.open(self.ledger_path, readonly=True) as ledger:
            return await ledger.leases()

    async def all_events(self) -> list[StoredEvent]:
        async with await Ledger.open(self.ledger_path, readonly=True) as ledger:
            return [e async for e in ledger.read(0)]

    def api(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.hub.base_url,
            headers={"Authorization": f"Bearer {TOKEN}", "Accept": "application/vnd.github+json"},
            timeout=30,
        )

    def pulls(self, repo: str | None = None, head: str | None = None) -> list[dict[str, Any]]:
        owner = (repo or self.repo).split("/")[0]
        params: dict[str, Any] = {"state": "all", "per_page": 100}
        if head:
            params["head"] = f"{owner}:{head}"
        with self.api() as api:
            r = api.get(f"/repos/{repo or self.repo}/pulls", params=params)
            r.raise_for_status()
            return list(r.json())

    def open_pull(
        self, head: str, title: str = "By hand", repo: str | None = None
    ) -> dict[str, Any]:
        """Push a commit to ``head`` and open a PR for it, as a person would."""
        repo = repo or self.repo
        self.hub.control.push_files(repo, head, {f"HAND-{head.replace('/', '_')}.md": "by hand\n"})
        with self.api() as api:
            r = api.post(
                f"/repos/{repo}/pulls",
                json={"title": title, "head": head, "base": "main", "body": "opened by hand"},
            )
            r.raise_for_status()
            return dict(r.json())

    def comments(self, number: int, repo: str | None = None) -> list[dict[str, Any]]:
        with self.api() as api:
            r = api.get(f"/repos/{repo or self.repo}/issues/{number}/comments")
            r.raise_for_status()
            return list(r.json())

    def later(self, seconds: float = 2.0) -> None:
        """Move fakehub's clock on: GitHub's ``updated_at`` has whole seconds, so a change made
        in the same second as ghw's last look at a PR would not move it (ADR 0070)."""
        offset = float(self.hub.control.clock()["offset"])
        self.hub.control.set_clock(offset=offset + seconds)

    def revision_replies(self, pr_number: int, repo: str | None = None) -> list[dict[str, Any]]:
        """The PR's comments that are ghw's revision replies (by their hidden marker)."""
        return [c for c in self.comments(pr_number, repo) if "<!-- ghw:revision=" in c["body"]]

    def commits_between(self, old: str, new: str) -> int:
        """``git rev-list --count old..new`` in fakehub's own bare repository of ``self.repo``."""
        name = self.repo.split("/", 1)[1]
        bare = next(Path(self.hub.data_dir).rglob(f"{name}.git"))
        out = subprocess.run(
            ["git", "--git-dir", str(bare), "rev-list", "--count", f"{old}..{new}"],
            capture_output=True,
            text=True,
            check=True,
        )
        return int(out.stdout.strip())

    def transcripts(self, number: int, phase: str, repo: str | None = None) -> list[Path]:
        folder = self.issue_dir(number, repo) / "transcripts"
        return sorted(folder.glob(f"{phase}-*.jsonl"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))

    def prompt(self, path: Path) -> str:
        """The prompt recorded in a transcript's start record."""
        for line in path.read_text().splitlines():
            record = json.loads(line)
            if record.get("ghw") == "start":
                return str(record["prompt"])
        raise AssertionError(f"{path}: no start record")


def payloads(events: Iterable[StoredEvent], etype: str) -> list[dict[str, Any]]:
    return [e.payload for e in events if e.type == etype]


def mutating(requests: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Requests that change something on GitHub: API writes and git pushes (receive-pack)."""
    out = []
    for r in requests:
        if r["method"] in MUTATING and not r.get("git"):
            out.append(r)
        elif "receive-pack" in (r["path"] + "?" + (r.get("query") or "")):
            out.append(r)
    return out


def wait_for(predicate: Callable[[], Any], timeout: float = 20.0, step: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout}s waiting for {predicate}")


async def await_for(predicate: Callable[[], Any], timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = await predicate()
        if value:
            return value
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s")


def make_repo(hub: FakeHub, name: str, issues: int, **issue: Any) -> list[int]:
    """A repository with a README and ``issues`` trusted issues (no scripted entries: the
    scripted agent's default implement writes GHW_SCRIPTED.md)."""
    hub.control.create_repo(name, files={"README.md": f"# {name}\n"})
    issue.setdefault("author", "owner")
    issue.setdefault("author_association", "OWNER")
    return hub.control.bulk_create_issues(
        name, [{"title": f"Task {i}", "body": f"Do task {i}.", **issue} for i in range(issues)]
    )


async def mark_planned(rig: Rig, numbers: Sequence[int], repo: str | None = None) -> None:
    """Put synced issues in ``planned`` straight through the ledger (no agent run)."""
    from ghw.ledger.records import ClaimFilters
    from ghw.machine import events as ev

    async with await Ledger.open(rig.ledger_path) as ledger:
        for n in numbers:
            got = await ledger.claim(
                "plan",
                ["synced"],
                ClaimFilters(repos=(repo or rig.repo,), numbers=(n,)),
                started=ev.PlanStarted(agent="scripted"),
            )
            assert got is not None, n
            claim = got[0]
            await ledger.append(
                claim.stream_id,
                None,
                [ev.PlanCompleted(text=f"Plan for #{n}: write the file.", agent="scripted")],
                fence=claim,
            )


async def terminate_when_agent_runs(
    rig: Rig, *args: str
) -> tuple[subprocess.Popen[str], str, str, Any]:
    """``ghw ARGS`` as a process, sent SIGTERM once its agent runs (its lease records the
    agent's process group); returns (process, stdout, stderr, the lease seen while it ran)."""
    import signal

    async def running() -> Any:
        leases = await rig.leases()
        return leases[0] if leases and leases[0].pgid else None

    proc = rig.spawn(*args)
    try:
        lease = await await_for(running, timeout=30)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return proc, out, err, lease
