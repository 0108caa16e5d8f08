from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from orch_helpers import LogCapture, base_env

from ghw.fakehub import FakeHub


@pytest.fixture(autouse=True)
def _reset_structlog() -> Iterator[None]:
    yield
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir()
    return base_env(home)


@pytest.fixture
def logs() -> LogCapture:
    return LogCapture()


@pytest.fixture
def demo_hub(tmp_path: Path) -> Iterator[FakeHub]:
    with FakeHub.start(data_dir=tmp_path / "hub", seed="demo") as running:
        yield running
