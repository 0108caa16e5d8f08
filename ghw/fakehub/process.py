"""``FakeHubProcess``: run ``python -m ghw.fakehub serve`` as a child process.

For tests that need fakehub outside their own process (to kill it, restart it on the same data
directory, or run ghw's CLI against it). The base URL is read from the child's first stdout line.
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ghw.fakehub.control import FakeHubControl

__all__ = ["FakeHubProcess"]


class FakeHubProcess:
    """A fakehub child process; stop it with :meth:`stop` (SIGTERM, then SIGKILL)."""

    def __init__(self, proc: subprocess.Popen[bytes], base_url: str) -> None:
        self.proc = proc
        self.base_url = base_url
        self._control: FakeHubControl | None = None

    @classmethod
    def launch(
        cls,
        *,
        data_dir: str | Path | None = None,
        seed: str | Path | None = None,
        port: int = 0,
        timeout: float = 20.0,
        env: dict[str, str] | None = None,
    ) -> FakeHubProcess:
        args = [sys.executable, "-m", "ghw.fakehub", "serve", "--port", str(port)]
        if data_dir is not None:
            args += ["--data", str(data_dir)]
        if seed is not None:
            args += ["--seed", str(seed)]
        proc = subprocess.Popen(
            args,
            stdout=subprocess.PIPE,
            stderr=None,
            env={**os.environ, **(env or {})},
            start_new_session=True,
        )
        assert proc.stdout is not None
        selector = selectors.DefaultSelector()
        selector.register(proc.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout
        line = b""
        while not line.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not selector.select(remaining):
                proc.kill()
                proc.wait()
                raise TimeoutError("fakehub did not print its URL in time")
            chunk = os.read(proc.stdout.fileno(), 1)
            if not chunk:
                proc.wait()
                raise RuntimeError(f"fakehub exited with {proc.returncode} before printing its URL")
            line += chunk
        selector.close()
        return cls(proc, line.decode().strip())

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def control(self) -> FakeHubControl:
        if self._control is None:
            # Loaded on first use: the control client needs httpx, which starting a hub doesn't.
            from ghw.fakehub.control import FakeHubControl

            self._control = FakeHubControl(self.base_url)
        return self._control

    def stop(self, timeout: float = 10.0) -> int:
        """SIGTERM and wait (SIGKILL after ``timeout``); returns the exit code."""
        if self._control is not None:
            self._control.close()
            self._control = None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        return int(self.proc.returncode)

    def __enter__(self) -> FakeHubProcess:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
