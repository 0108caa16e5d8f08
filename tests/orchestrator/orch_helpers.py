"""Shared helpers for the orchestrator tests: config files, JSON log capture, fake phases."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from ghw.logs import configure_logging
from ghw.orchestrator import PHASES, PhaseOutcome
from ghw.phases.context import Filters, PhaseContext

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "test-token-0123456789"


def base_env(home: Path) -> dict[str, str]:
    """A clean environment: no GHW_* variables, HOME in tmp, a dummy token."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GHW_")}
    env.update({"HOME": str(home), "GITHUB_TOKEN": TOKEN, "NO_COLOR": "1"})
    return env


def write_config(path: Path, data: Mapping[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(dict(data), sort_keys=False))
    return path


def demo_config(tmp: Path, api_url: str, **extra: Any) -> dict[str, Any]:
    from ghw.fakehub import demo_dir

    data: dict[str, Any] = {
        "issues_path": str(tmp / "issues"),
        "repos": ["demo/calc"],
        "github": {"api_url": api_url},
        "agent": {"default": "scripted"},
        "agents": {"scripted": {"script": str(demo_dir() / "script.yaml")}},
    }
    for key, value in extra.items():
        data[key] = value
    return data


class LogCapture:
    """structlog records as JSON, parsed."""

    def __init__(self) -> None:
        self.stream = io.StringIO()
        configure_logging("json", "debug", stream=self.stream)

    @property
    def records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stream.getvalue().splitlines() if line.strip()]

    def where(self, **match: Any) -> list[dict[str, Any]]:
        return [r for r in self.records if all(r.get(k) == v for k, v in match.items())]


@dataclass
class FakePhases:
    """Phase runners that record what they were given; any may fail."""

    calls: list[tuple[str, Filters, PhaseContext]] = field(default_factory=list)
    raise_in: set[str] = field(default_factory=set)
    fail_issue_in: set[str] = field(default_factory=set)
    hook: Callable[[str, PhaseContext], Any] | None = None

    def runners(self) -> dict[str, Any]:
        def make(name: str) -> Any:
            async def run(ctx: PhaseContext, filters: Filters) -> PhaseOutcome:
                self.calls.append((name, filters, ctx))
                if self.hook is not None:
                    self.hook(name, ctx)
                if name in self.raise_in:
                    raise RuntimeError(f"{name} exploded")
                outcome = PhaseOutcome(name, counts={"completed": 1})
                if name in self.fail_issue_in:
                    outcome.ok = False
                    outcome.counts = {"completed": 1, "failed": 1}
                    outcome.failures.append(f"{name} o/r#7: agent failed")
                    outcome.error = "1 issue(s) failed"
                return outcome

            return run

        return {name: make(name) for name in PHASES}

    @property
    def names(self) -> list[str]:
        return [name for name, _f, _c in self.calls]


class FakeClock:
    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 3, 1, 12, 0, 30, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


class FakeSleep:
    """Records waits, moves the clock, and runs an optional action after each wait."""

    def __init__(self, clock: FakeClock | None = None, after: Callable[[int], Any] | None = None):
        self.clock = clock
        self.waits: list[float] = []
        self.after = after

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        if self.clock is not None:
            self.clock.now += timedelta(seconds=seconds)
        if self.after is not None:
            self.after(len(self.waits))


def ghw(
    *args: str, env: Mapping[str, str], timeout: float = 60, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_ghw_bin(), *args],
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
    )


def _ghw_bin() -> str:
    candidate = Path(sys.executable).parent / "ghw"
    return str(candidate)


def json_lines(text: str) -> list[dict[str, Any]]:
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                out.append(json.loads(line))
            except ValueError:
                continue
    return out


def cli(*args: str, env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """`ghw ARGS` in this process (fast): a CompletedProcess like :func:`ghw` returns."""
    from ghw.cli.context import AppContext
    from ghw.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), context=AppContext(environ=dict(env), stdout=out, stderr=err))
    return subprocess.CompletedProcess(list(args), code, out.getvalue(), err.getvalue())
