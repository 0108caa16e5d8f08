"""fakehub: an embedded GitHub-compatible server (REST API + git over smart HTTP) on 127.0.0.1.

Public API:

* :class:`FakeHub` — in-process server on a background thread (sync or async context manager).
* :class:`FakeHubProcess` — the same as a child process (``python -m ghw.fakehub serve``).
* :class:`FakeHubControl` — sync client for the control API (faults, request log, issues…).
* ``ghw.fakehub.cli.app`` — the Typer sub-app mounted as ``ghw fakehub``.

See docs/fakehub.md.
"""

from __future__ import annotations

from ghw.fakehub.clock import Clock
from ghw.fakehub.control import FakeHubControl, FakeHubControlError
from ghw.fakehub.hub import FakeHub
from ghw.fakehub.process import FakeHubProcess
from ghw.fakehub.seed import demo_dir

__all__ = [
    "Clock",
    "FakeHub",
    "FakeHubControl",
    "FakeHubControlError",
    "FakeHubProcess",
    "demo_dir",
]
