"""``FakeHub``: run fakehub inside this process, on a background thread.

    with FakeHub.start(seed="demo") as hub:          # or: async with FakeHub.start(...) as hub
        httpx.get(f"{hub.base_url}/repos/demo/calc", headers={"Authorization": "Bearer x"})
        hub.control.create_issue("demo/calc", "New bug", author="eve", author_association="NONE")

Without ``data_dir`` the state lives in a temporary directory removed by :meth:`FakeHub.stop`.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
import threading
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from ghw.fakehub.clock import Clock
from ghw.fakehub.context import HubContext
from ghw.fakehub.faults import FaultRegistry
from ghw.fakehub.ratelimit import RateCounter
from ghw.fakehub.render import Renderer
from ghw.fakehub.reqlog import RequestLog
from ghw.fakehub.seed import apply_seed
from ghw.fakehub.server import FakeHubServer
from ghw.fakehub.store import Store

if TYPE_CHECKING:
    from ghw.fakehub.control import FakeHubControl

__all__ = ["FakeHub"]


class FakeHub:
    """One fakehub server: its state (``store``), its URL and a control client."""

    def __init__(
        self,
        *,
        data_dir: str | Path | None = None,
        seed: str | Path | None = None,
        port: int = 0,
        clock: Clock | None = None,
        api_login: str = "ghw-bot",
    ) -> None:
        self._owns_dir = data_dir is None
        self.data_dir = Path(data_dir) if data_dir else Path(tempfile.mkdtemp(prefix="fakehub-"))
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.clock = clock or Clock()
        self.store = Store(self.data_dir, self.clock)
        #: True when ``seed`` was applied (the data directory held no state before).
        self.seeded = False
        try:
            self._open(seed, port, api_login)
        except BaseException:
            if self._owns_dir:
                shutil.rmtree(self.data_dir, ignore_errors=True)
            raise
        self._thread: threading.Thread | None = None
        self._control: FakeHubControl | None = None
        self._stopped = False

    def _open(self, seed: str | Path | None, port: int, api_login: str) -> None:
        """Load or seed the state, then bind the server socket."""
        if not self.store.load():
            if seed is not None:
                apply_seed(self.store, seed)
                self.seeded = True
            else:
                self.store.save_meta()
        elif seed is not None:
            print(
                f"fakehub: {self.data_dir} already holds state; seed {seed} not applied",
                file=sys.stderr,
            )

        def make_ctx(base_url: str) -> HubContext:
            return HubContext(
                store=self.store,
                render=Renderer(self.store, base_url),
                clock=self.clock,
                faults=FaultRegistry(),
                log=RequestLog(),
                rate=RateCounter(self.clock),
                base_url=base_url,
                api_login=api_login,
            )

        self.server = FakeHubServer(port, make_ctx)
        self.ctx = self.server.ctx

    # ---------------------------------------------------------------- lifecycle

    @classmethod
    def start(
        cls,
        *,
        data_dir: str | Path | None = None,
        seed: str | Path | None = None,
        port: int = 0,
        clock: Clock | None = None,
        api_login: str = "ghw-bot",
    ) -> FakeHub:
        """Create a hub and serve it on a background thread; use as a (async) context manager."""
        hub = cls(data_dir=data_dir, seed=seed, port=port, clock=clock, api_login=api_login)
        hub.serve_in_background()
        return hub

    def _warm_all(self) -> None:
        for repo in list(self.store.repos.values()):
            self.ctx.render.warm(repo, list(repo.issues.values()))

    def serve_in_background(self) -> None:
        if self._thread is None:
            threading.Thread(target=self._warm_all, name="fakehub-warm", daemon=True).start()
            self._thread = threading.Thread(
                target=self.serve_forever, name=f"fakehub:{self.port}", daemon=True
            )
            self._thread.start()

    def serve_forever(self) -> None:
        """Serve until :meth:`stop` (blocking)."""
        self.server.serve_forever(poll_interval=0.05)

    def stop(self) -> None:
        """Stop serving, close the socket, remove the data directory if it was temporary."""
        if self._stopped:
            return
        self._stopped = True
        if self._control is not None:
            self._control.close()
        if self._thread is not None:
            self.server.shutdown()
            self._thread.join(timeout=5)
        self.server.server_close()
        self.server.close_connections()
        if self._owns_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    close = stop

    def __enter__(self) -> FakeHub:
        self.serve_in_background()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def __aenter__(self) -> FakeHub:
        self.serve_in_background()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await asyncio.to_thread(self.stop)

    # ---------------------------------------------------------------- conveniences

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``: the API base, and the prefix of clone URLs."""
        return self.ctx.base_url

    def clone_url(self, full_name: str) -> str:
        return f"{self.base_url}/{full_name}.git"

    @property
    def control(self) -> FakeHubControl:
        """A sync client for the control API of this hub."""
        if self._control is None:
            # Loaded on first use: the control client needs httpx, which serving never does
            # (start-up of `ghw fakehub serve`).
            from ghw.fakehub.control import FakeHubControl

            self._control = FakeHubControl(self.base_url)
        return self._control
