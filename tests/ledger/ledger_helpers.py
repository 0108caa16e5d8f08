"""Shared helpers for ledger tests."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any

from ghw.cli.context import AppContext
from ghw.cli.main import main
from ghw.machine import events as ev


class FakeClock:
    """A clock tests move by hand (the same class as the ``clock`` fixture's)."""

    def __init__(self, start: Any = None) -> None:
        from datetime import UTC, datetime

        self.now = start or datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> Any:
        return self.now

    def advance(self, seconds: float) -> None:
        from datetime import timedelta

        self.now += timedelta(seconds=seconds)


def synced(repo: str = "o/r", number: int = 1, **kw: Any) -> ev.IssueSynced:
    kw.setdefault("eligible", True)
    kw.setdefault("title", f"Issue {number}")
    return ev.IssueSynced(repo=repo, number=number, **kw)


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run_cli(args: list[str], environ: dict[str, str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(args, context=AppContext(environ=environ, stdout=out, stderr=err))
    return code, out.getvalue(), err.getvalue()
