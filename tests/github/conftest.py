"""Fixtures of the GitHub client's tests: the OpenAPI validator, fixtures-server, a fake clock.

The npm tools live in the repository's ``.tools/`` (installed by
``scripts/install/github-tools.sh``). When they are missing the tests that need them FAIL with the
command to run: a contract test that silently skips proves nothing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from .openapi_validator import ExchangeRecorder, ExchangeValidator, default_validator

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
TOOLS = REPO_ROOT / ".tools"
OPENAPI_SPEC = TOOLS / "openapi" / "api.github.com.json"
FIXTURES_SERVER_PREFIX = TOOLS / "fixtures-server"
FIXTURES_SERVER_PACKAGE = FIXTURES_SERVER_PREFIX / "node_modules" / "@octokit" / "fixtures-server"
WRAPPER = HERE / "fixtures_server" / "serve-loopback.mjs"
CUSTOM_SCENARIOS = HERE / "fixtures_server" / "scenarios"
INSTALL_HINT = "run `bash scripts/install/github-tools.sh` (from the repository root) first"
TOKEN = "ghp_TESTTOKEN0000000000000000000000000001"


def require(path: Path, what: str) -> Path:
    if not path.exists():
        pytest.fail(f"{what} is missing at {path}: {INSTALL_HINT}", pytrace=False)
    return path


@pytest.fixture(scope="session")
def openapi_validator() -> ExchangeValidator:
    """GitHub's description (patched), loaded once per session."""
    require(OPENAPI_SPEC, "GitHub's OpenAPI description")
    return default_validator()


@pytest.fixture
def contract(openapi_validator: ExchangeValidator) -> ExchangeRecorder:
    """A recorder whose wrapped transports capture every exchange for validation."""
    return ExchangeRecorder(openapi_validator)


@dataclass
class FixturesServer:
    """A running @octokit/fixtures-server bound to 127.0.0.1."""

    url: str
    process: subprocess.Popen[str]
    loaded: list[str] = field(default_factory=list)

    def load(self, scenario: str) -> str:
        """Load a scenario; returns its base URL (``http://127.0.0.1:P/api.github.com/<id>``)."""
        resp = httpx.post(f"{self.url}/fixtures", json={"scenario": scenario}, timeout=10)
        assert resp.status_code == 201, resp.text
        self.loaded.append(scenario)
        return str(resp.json()["url"])


@pytest.fixture(scope="session")
def fixtures_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FixturesServer]:
    require(FIXTURES_SERVER_PACKAGE, "@octokit/fixtures-server")
    node = shutil.which("node")
    if node is None:
        pytest.fail(f"node is not on PATH (Node.js 20+ is needed): {INSTALL_HINT}", pytrace=False)
    env = {
        **os.environ,
        "PORT": "0",  # a free port, printed by the wrapper
        "FIXTURES_SERVER_PREFIX": str(FIXTURES_SERVER_PREFIX),
        "CUSTOM_SCENARIOS_DIR": str(CUSTOM_SCENARIOS),
    }
    # stderr to a file: a pipe nobody drains could fill up and stall the server.
    log_path = tmp_path_factory.mktemp("fixtures-server") / "stderr.log"
    log_file = log_path.open("w")
    proc = subprocess.Popen(
        [node, str(WRAPPER)],
        stdout=subprocess.PIPE,
        stderr=log_file,
        text=True,
        env=env,
        cwd=str(REPO_ROOT),
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # the wrapper prints its address once listening
        if not line:
            proc.wait(timeout=5)
            err = log_path.read_text()
            pytest.fail(f"fixtures-server did not start: {err[-2000:]}", pytrace=False)
        address = json.loads(line)
        assert address["address"] == "127.0.0.1", address
        server = FixturesServer(f"http://127.0.0.1:{address['port']}", proc)
        deadline = time.monotonic() + 10
        while httpx.get(f"{server.url}/ping", timeout=5).status_code != 200:
            assert time.monotonic() < deadline, "fixtures-server never answered /ping"
            time.sleep(0.05)
        yield server
    finally:
        # Only the process this fixture started, by its own handle.
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        if proc.stdout is not None:
            proc.stdout.close()
        log_file.close()


class FakeTime:
    """An injected clock and sleep: sleeping records the wait and advances the clock."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += max(0.0, seconds)


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()
