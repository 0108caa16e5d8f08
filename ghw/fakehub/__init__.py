"""fakehub: an embedded GitHub-compatible server (REST API + git over smart HTTP) on 127.0.0.1.

Public API:

* :class:`FakeHub` — in-process server on a background thread (sync or async context manager).
* :class:`FakeHubProcess` — the same as a child process (``python -m ghw.fakehub serve``).
* :class:`FakeHubControl` — sync client for the control API (faults, request log, issues…).
* ``ghw fakehub`` (the command) lives in ``ghw/cli/fakehub_cmd.py``, above this package.

See docs/fakehub.md.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

# Loaded on first use: `ghw` mounts `ghw fakehub` (ghw.cli.fakehub_cmd) at start-up, and every other
# command should not pay for the server's imports.
_HOMES = {
    "Clock": "ghw.fakehub.clock",
    "FakeHub": "ghw.fakehub.hub",
    "FakeHubControl": "ghw.fakehub.control",
    "FakeHubControlError": "ghw.fakehub.control",
    "FakeHubProcess": "ghw.fakehub.process",
    "demo_dir": "ghw.fakehub.seed",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'ghw.fakehub' has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
