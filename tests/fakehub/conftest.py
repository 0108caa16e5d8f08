"""Fixtures for fakehub tests: a real server on 127.0.0.1 and an authenticated httpx client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fakehub_helpers import TOKEN

from ghw.fakehub import FakeHub


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[FakeHub]:
    with FakeHub.start(data_dir=tmp_path / "hub", seed="demo") as running:
        yield running


@pytest.fixture
def empty_hub(tmp_path: Path) -> Iterator[FakeHub]:
    with FakeHub.start(data_dir=tmp_path / "empty") as running:
        yield running


@pytest.fixture
def api(hub: FakeHub) -> Iterator[httpx.Client]:
    headers = {
        "Authorization": f"Bearer {TOKEN}",
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": "2022-11-28",
    }
    with httpx.Client(base_url=hub.base_url, headers=headers, timeout=10) as client:
        yield client
