"""``serve`` as a process: URL on the first stdout line, clean exit on SIGTERM/SIGINT."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import httpx
from fakehub_helpers import TOKEN

from ghw.fakehub import FakeHub, FakeHubProcess

AUTH = {"Authorization": f"Bearer {TOKEN}"}


def test_serve_prints_url_first_and_removes_temp_dir_on_sigterm() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "ghw.fakehub", "serve", "--seed", "demo"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline().strip()
        assert first.startswith("http://127.0.0.1:")
        port = int(first.rsplit(":", 1)[1])
        assert port > 0
        health = httpx.get(f"{first}/_fakehub/health").json()
        data_dir = Path(health["data_dir"])
        assert data_dir.is_dir()
        repo = httpx.get(f"{first}/repos/demo/calc", headers=AUTH)
        assert repo.json()["clone_url"] == f"{first}/demo/calc.git"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        assert not data_dir.exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_process_helper_with_data_dir_and_sigint(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with FakeHubProcess.launch(data_dir=data, seed="demo") as hub:
        hub.control.create_issue(
            "demo/calc", "From outside", author="zoe", author_association="NONE"
        )
        got = httpx.get(f"{hub.base_url}/repos/demo/calc/issues/5", headers=AUTH).json()
        assert got["title"] == "From outside"
        hub.proc.send_signal(signal.SIGINT)
        assert hub.proc.wait(timeout=10) == 0
    assert (data / "fakehub.json").is_file()  # a given --data survives
    with FakeHubProcess.launch(data_dir=data, port=0) as again:
        assert (
            httpx.get(f"{again.base_url}/repos/demo/calc/issues/5", headers=AUTH).status_code == 200
        )
        assert again.stop() == 0


def test_fixed_port(tmp_path: Path) -> None:
    with FakeHub.start(data_dir=tmp_path / "a") as probe:
        port = probe.port
    with FakeHubProcess.launch(data_dir=tmp_path / "b", port=port) as hub:
        assert hub.base_url == f"http://127.0.0.1:{port}"


def test_module_runs_serve_by_default(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "ghw.fakehub", "--data", str(tmp_path / "d")],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert httpx.get(f"{url}/_fakehub/health").json()["ok"] is True
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_bad_seed_exits_2(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "ghw.fakehub", "serve", "--seed", str(tmp_path / "missing.yaml")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 2
    assert "seed file not found" in proc.stderr
    assert proc.stdout == ""
