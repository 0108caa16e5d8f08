"""Fixtures for the phase tests: a demo fakehub in this process and a rig around it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from phases_kit import Rig

from ghw.fakehub import FakeHub


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[FakeHub]:
    with FakeHub.start(data_dir=tmp_path / "hub", seed="demo") as running:
        yield running


@pytest.fixture
def rig(tmp_path: Path, hub: FakeHub, clean_env: dict[str, str]) -> Rig:
    return Rig(tmp_path, hub)
