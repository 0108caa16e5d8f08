"""The loop as a real process against fakehub: --max-cycles, SIGTERM during an agent run
(exit 130 within shutdown.grace, no lease held, nothing lost), hold --all / release --all."""

from __future__ import annotations

import asyncio
import json
import queue
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import yaml
from orch_helpers import _ghw_bin, cli, demo_config, ghw, write_config

from ghw.config import load_config
from ghw.ledger.store import Ledger


def _view(config: Path, env: dict[str, str], issue: str) -> Any:
    async def go() -> Any:
        led = await Ledger.open(load_config(config, env).ledger_path, readonly=True)
        try:
            return await led.issue(issue)
        finally:
            await led.close()

    return asyncio.run(go())


class Lines:
    """A child's stdout read on a thread, so a test can wait for a line with a timeout."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.queue: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        assert proc.stdout is not None
        threading.Thread(target=self._pump, args=(proc.stdout,), daemon=True).start()

    def _pump(self, stream: Any) -> None:
        for line in stream:
            self.queue.put(line.rstrip("\n"))

    def wait_for(self, needle: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.queue.get(timeout=0.1)
            except queue.Empty:
                continue
            self.seen.append(line)
            if needle in line:
                return line
        raise AssertionError(f"{needle!r} not seen; got {self.seen}")

    def rest(self) -> list[str]:
        time.sleep(0.1)
        while not self.queue.empty():
            self.seen.append(self.queue.get())
        return self.seen


def test_orch_loop_max_cycles_on_demo_data_exits_0(tmp_path, env, demo_hub):
    config = write_config(tmp_path / "config.yaml", demo_config(tmp_path, demo_hub.base_url))
    r = ghw(
        "--config", str(config), "loop", "--every", "1s", "--max-cycles", "3",
        "--issue", "1", env=env, timeout=60,
    )  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("Frequency: every 1s (interval 1 s")
    assert [line for line in lines if line.startswith("--- Cycle ")][2].startswith("--- Cycle 3 at")
    assert len([line for line in lines if line.startswith("--- Cycle ")]) == 3
    assert lines.count("=== Work cycle completed ===") == 3
    assert len([line for line in lines if line.startswith("  PR opened: ")]) == 1
    assert lines[-1].startswith("Loop statistics: 3 cycles, 3 succeeded, 0 failed")
    assert _view(config, env, "demo/calc#1").state == "reviewed"


def test_orch_sigterm_during_agent_run_exits_130_and_loses_nothing(tmp_path, env, demo_hub):
    data = demo_config(tmp_path, demo_hub.base_url)
    data["agents"]["scripted"]["delay"] = "5s"
    data["shutdown"] = {"grace": "2s"}
    config = write_config(tmp_path / "config.yaml", data)
    proc = subprocess.Popen(
        [_ghw_bin(), "--config", str(config), "loop", "--every", "1s", "--issue", "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = Lines(proc)
        lines.wait_for("demo/calc#1: plan started")
        time.sleep(0.5)  # the agent is running (5 s)
        sent = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=15)
        elapsed = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
    out = lines.rest()
    assert code == 130, (out, proc.stderr.read() if proc.stderr else "")
    assert elapsed < 2 + 2.5  # within shutdown.grace (2 s), not the agent's 5 s and more
    assert any(line.startswith("Loop statistics: ") for line in out)
    # no lease held
    status = cli("--config", str(config), "status", "--json", env=env)
    assert status.returncode == 0 and json.loads(status.stdout)["leases"] == []
    # the interrupted step ended with LeaseExpired{interrupted}, no attempt counted
    hist = cli("--config", str(config), "history", "demo/calc#1", "--json", env=env)
    events = json.loads(hist.stdout)["events"]
    expired = [e for e in events if e["type"] == "LeaseExpired"]
    assert [e["payload"]["reason"] for e in expired] == ["interrupted"]
    view = _view(config, env, "demo/calc#1")
    assert view.state == "synced" and view.attempts == 0
    # and the next cycle completes it
    data["agents"]["scripted"]["delay"] = "0s"
    config.write_text(yaml.safe_dump(data))
    r = ghw("--config", str(config), "cycle", "--issue", "1", env=env, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert _view(config, env, "demo/calc#1").state == "reviewed"
    hist = cli("--config", str(config), "history", "demo/calc#1", "--json", env=env)
    started = [e for e in json.loads(hist.stdout)["events"] if e["type"] == "PlanStarted"]
    assert [e["payload"]["attempt"] for e in started] == [1, 1]


def test_orch_hold_all_observed_between_steps_and_release_resumes(tmp_path, env, demo_hub):
    data = demo_config(tmp_path, demo_hub.base_url)
    data["agents"]["scripted"]["delay"] = "1s"
    data["plan"] = {"parallelism": 1}
    config = write_config(tmp_path / "config.yaml", data)
    proc = subprocess.Popen(
        [_ghw_bin(), "--config", str(config), "cycle", "--phases", "sync,plan", "--issue", "1-2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        lines = Lines(proc)
        lines.wait_for(": plan started")
        held = cli("--config", str(config), "hold", "--all", env=env)
        assert held.returncode == 0, held.stderr
        code = proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    out = lines.rest()
    assert code == 0, out
    started = [line for line in out if "plan started" in line]
    assert len(started) == 1  # the running step finished; no new step started
    states = {_view(config, env, f"demo/calc#{n}").state for n in (1, 2)}
    assert states == {"planned", "synced"}
    status = json.loads(cli("--config", str(config), "status", "--json", env=env).stdout)
    assert status["loop_held"] is True
    # while held, a cycle takes no step and says why
    r = cli("--config", str(config), "cycle", "--phases", "plan", "--issue", "1-2", env=env)
    assert r.returncode == 0 and "plan started" not in r.stdout
    assert "ghw release --all" in r.stdout
    assert cli("--config", str(config), "release", "--all", env=env).returncode == 0
    r = cli("--config", str(config), "cycle", "--phases", "plan", "--issue", "1-2", env=env)
    assert r.returncode == 0 and r.stdout.count("plan started") == 1
    assert {_view(config, env, f"demo/calc#{n}").state for n in (1, 2)} == {"planned"}
