from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from ghw.ledger.store import Ledger

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def clock() -> Any:
    import sys

    sys.path.insert(0, str(Path(__file__).parent / "ledger"))
    from ledger_helpers import FakeClock

    return FakeClock()


@pytest.fixture
async def ledger(tmp_path: Path, clock: Any) -> AsyncIterator[Ledger]:
    led = await Ledger.open(tmp_path / "ghw.db", clock=clock)
    try:
        yield led
    finally:
        await led.close()


@pytest.fixture
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """An environment with no GHW_* variables and HOME in tmp."""
    for key in list(os.environ):
        if key.startswith("GHW_"):
            monkeypatch.delenv(key)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    return {"HOME": str(home), "PATH": os.environ.get("PATH", "")}
