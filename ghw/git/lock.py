"""An exclusive file lock (``fcntl.flock``) taken without blocking the event loop.

flock locks belong to an open file description, so two coroutines of one process (each opening
the file) exclude each other exactly like two processes do. The lock is polled with LOCK_NB
rather than taken in a thread: a thread blocked in flock cannot be cancelled, and would take the
lock after its coroutine was gone and never give it back.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from ghw.git.errors import GitLockTimeoutError

__all__ = ["file_lock"]


@asynccontextmanager
async def file_lock(path: Path, *, wait_limit: float | None = None) -> AsyncIterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Not inherited by git children (O_CLOEXEC), so a child never keeps the lock alive.
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        deadline = None if wait_limit is None else time.monotonic() + wait_limit
        delay = 0.005
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if deadline is not None and time.monotonic() >= deadline:
                    raise GitLockTimeoutError(
                        f"{path} is still locked by another ghw process after {wait_limit:g}s"
                    ) from None
                await asyncio.sleep(delay)
                delay = min(delay * 2, 0.2)
        yield
    finally:
        # Closing the descriptor releases the lock, also when the body raised or was cancelled.
        os.close(fd)
