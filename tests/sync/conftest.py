"""Fixtures of the sync tests: an empty fakehub with one repository, a rig to run sync against it.

The fixtures-server fixture of ``tests/github`` is reused (imported into this conftest, which makes
pytest register it here too): one Node process per session serves the recorded scenarios.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from github.conftest import FixturesServer, fixtures_server, openapi_validator
from sync_helpers import FakeTime, SyncRig

from ghw.fakehub import FakeHub

__all__ = ["FixturesServer", "fixtures_server", "openapi_validator"]

REPO = "acme/widgets"


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[FakeHub]:
    with FakeHub.start(data_dir=tmp_path / "hub") as running:
        running.control.create_owner("acme", "org")
        running.control.create_repo(REPO, files={"README.md": "# widgets\n"})
        yield running


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime(time.time())


@pytest.fixture
def rig(hub: FakeHub, tmp_path: Path, fake_time: FakeTime) -> SyncRig:
    return SyncRig(hub=hub, root=tmp_path, time=fake_time)
