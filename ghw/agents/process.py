"""Running an agent CLI as a child process that cannot outlive ghw or its deadline.

* Own session and process group, so one signal reaches the CLI and everything it started.
* ``PR_SET_PDEATHSIG(SIGKILL)`` on Linux, so the CLI dies with ghw even when ghw is SIGKILLed.
  (The signal follows the death of the parent *thread*; asyncio forks from the loop thread,
  which lives as long as ghw does.)
* The leader's start time is read from ``/proc`` at spawn and handed to ``on_spawn`` with the
  group id; :func:`kill_recorded_group` later kills that group only if the start time still
  matches, so a recycled pid is never hit.
* stdout and stderr are drained concurrently in chunks (multi-MB JSON lines and broken UTF-8
  survive); the deadline sends SIGTERM to the group, waits ``grace``, then SIGKILLs it.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import inspect
import os
import signal
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import structlog

from ghw.agents.base import OnSpawn
from ghw.procinfo import process_start_time, stat_fields

__all__ = [
    "MAX_LINE_BYTES",
    "ProcessOutcome",
    "group_members",
    "kill_recorded_group",
    "process_start_time",
    "run_process",
]

_log = structlog.get_logger("ghw.agents.process")

# A single line longer than this is passed on in pieces rather than held in memory forever.
MAX_LINE_BYTES = 64 * 1024 * 1024
_CHUNK = 1 << 16
_PR_SET_PDEATHSIG = 1
# How long to wait for the pipes to close once the process group is gone.
_DRAIN_AFTER_EXIT_S = 2.0
_POLL_S = 0.05


@dataclass(frozen=True)
class ProcessOutcome:
    exit_code: int | None  # Popen returncode: negative = killed by that signal
    timed_out: bool  # ghw's deadline ended it
    stopped: bool  # the caller's stop event ended it
    pid: int
    start_time: float | None
    duration_s: float


_stat_fields = stat_fields


def _pgid_of(pid: int) -> int | None:
    fields = _stat_fields(pid)
    return int(fields[2]) if fields and len(fields) > 2 else None


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes whose process group is ``pgid``, found by scanning /proc."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        fields = _stat_fields(int(entry.name))
        if fields and len(fields) > 2 and fields[0] != "Z" and int(fields[2]) == pgid:
            found.append(int(entry.name))
    return found


def kill_recorded_group(pgid: int, leader_start: float, sig: int = signal.SIGKILL) -> bool:
    """Kill what is left of a process group recorded in a lease; True when something was hit.

    Used on takeover after a crash. A pid cannot be reused while it names a live process group,
    so: if the leader still exists with the recorded start time, the group is ours; if a process
    with that pid exists but started at another time, the pid was recycled and nothing is killed;
    if the leader is gone, surviving members (e.g. a grandchild that outlived the leader's
    pdeathsig) still carry the group id and are killed when they started after the leader.
    """
    if pgid <= 1:
        return False  # never signal "every process" or init by accident
    start = process_start_time(pgid)
    if start is not None:
        if start != leader_start or _pgid_of(pgid) != pgid:
            return False
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, sig)
            return True
        return False
    members = [p for p in group_members(pgid) if (process_start_time(p) or 0) >= leader_start]
    if not members:
        return False
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)
        return True
    return False


def _pdeathsig_preexec() -> Callable[[], None] | None:
    """A preexec_fn asking the kernel to SIGKILL the child when ghw dies (Linux only)."""
    if not sys.platform.startswith("linux"):
        return None
    # Resolve prctl in the parent: dlopen in the forked child could deadlock on a loader lock.
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    parent = os.getpid()

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # ghw died between fork and prctl: nobody to die with
            os._exit(1)

    return preexec


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _kill_leftovers(pgid: int) -> None:
    """SIGKILL members of the group still alive after the leader exited.

    They would keep the pipes open (so draining never ends) and are the agent's own children.
    The group id cannot have been recycled while members exist, so killpg is safe here.
    """
    if sys.platform.startswith("linux") and group_members(pgid):
        _signal_group(pgid, signal.SIGKILL)


async def _drain(stream: asyncio.StreamReader, on_line: Callable[[str], None]) -> None:
    buf = bytearray()
    scan_from = 0
    while True:
        chunk = await stream.read(_CHUNK)
        if not chunk:
            break
        buf += chunk
        while True:
            i = buf.find(b"\n", scan_from)
            if i < 0:
                scan_from = len(buf)
                break
            line = bytes(buf[:i])
            del buf[: i + 1]
            scan_from = 0
            on_line(line.rstrip(b"\r").decode("utf-8", errors="replace"))
        if len(buf) >= MAX_LINE_BYTES:
            on_line(bytes(buf).decode("utf-8", errors="replace"))
            buf.clear()
            scan_from = 0
    if buf:
        on_line(bytes(buf).rstrip(b"\r").decode("utf-8", errors="replace"))


async def _feed(stdin: asyncio.StreamWriter, data: bytes) -> None:
    # The CLI may exit without reading everything (e.g. a usage error); that is not our failure.
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        stdin.write(data)
        await stdin.drain()
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        stdin.close()
        await stdin.wait_closed()


async def _exited(proc: asyncio.subprocess.Process) -> int:
    """Wait for the leader to exit.

    Not ``proc.wait()``: on Python 3.11 that also waits for the pipes to close, which never
    happens while a grandchild still holds them. The child watcher sets ``returncode`` as soon
    as the leader is reaped, so poll it.
    """
    while proc.returncode is None:  # noqa: ASYNC110 - no event exists for "leader reaped"
        await asyncio.sleep(_POLL_S)
    return proc.returncode


async def _terminate(proc: asyncio.subprocess.Process, pgid: int, grace: float) -> None:
    """SIGTERM the group, give it ``grace`` seconds, then SIGKILL it; a second cancel skips
    the grace period."""
    _signal_group(pgid, signal.SIGTERM)
    try:
        await asyncio.wait_for(_exited(proc), timeout=max(grace, 0.0))
    except TimeoutError:
        pass
    finally:
        _signal_group(pgid, signal.SIGKILL)
    await _exited(proc)


def _close_transport(proc: asyncio.subprocess.Process) -> None:
    # A process that escaped the group (setsid) may still hold our pipes; stop reading them.
    transport = getattr(proc, "_transport", None)
    if transport is not None:
        transport.close()


async def run_process(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    on_stdout: Callable[[str], None],
    on_stderr: Callable[[str], None],
    stdin_data: bytes | None = None,
    time_limit: float | None = None,
    grace: float = 10.0,
    on_spawn: OnSpawn | None = None,
    stop: asyncio.Event | None = None,
) -> ProcessOutcome:
    """Run ``argv`` to completion, the deadline, the stop event or cancellation.

    Raises OSError when the program cannot be started. On cancellation the group is terminated
    (SIGTERM, ``grace``, SIGKILL) before CancelledError propagates.
    """
    t0 = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        *argv,
        cwd=str(cwd),
        env=dict(env),
        stdin=asyncio.subprocess.PIPE if stdin_data is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
        preexec_fn=_pdeathsig_preexec(),
    )
    pgid = proc.pid  # setsid() made the child the leader of a new session and group
    start = process_start_time(proc.pid)
    _log.debug("agent_spawned", pid=proc.pid, pgid=pgid, program=os.path.basename(argv[0]))
    tasks: list[asyncio.Task[None]] = []
    timed_out = stopped = False
    try:
        if on_spawn is not None:
            maybe = on_spawn(pgid, start if start is not None else 0.0)
            if inspect.isawaitable(maybe):
                await maybe
        assert proc.stdout is not None and proc.stderr is not None
        tasks.append(asyncio.create_task(_drain(proc.stdout, on_stdout)))
        tasks.append(asyncio.create_task(_drain(proc.stderr, on_stderr)))
        if stdin_data is not None and proc.stdin is not None:
            tasks.append(asyncio.create_task(_feed(proc.stdin, stdin_data)))
        waiter = asyncio.create_task(_exited(proc))
        tasks.append(waiter)
        watched: set[asyncio.Task[object]] = {waiter}  # type: ignore[arg-type]
        stop_task = asyncio.create_task(stop.wait()) if stop is not None else None
        if stop_task is not None:
            watched.add(stop_task)  # type: ignore[arg-type]
        try:
            await asyncio.wait(watched, timeout=time_limit, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if stop_task is not None:
                stop_task.cancel()
        if not waiter.done():
            stopped = stop is not None and stop.is_set()
            timed_out = not stopped
            await _terminate(proc, pgid, grace)
        await waiter
        _kill_leftovers(pgid)
        readers = tasks[:2]
        _done, pending = await asyncio.wait(readers, timeout=_DRAIN_AFTER_EXIT_S)
        for t in pending:  # a member that escaped the group still holds a pipe: stop reading
            t.cancel()
        if pending:
            _close_transport(proc)
    except BaseException:
        if proc.returncode is None:
            try:
                await _terminate(proc, pgid, grace)
            except asyncio.CancelledError:  # cancelled again while waiting: no grace
                _signal_group(pgid, signal.SIGKILL)
                raise
        _kill_leftovers(pgid)
        raise
    finally:
        for t in tasks:
            if not t.done():
                t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
    return ProcessOutcome(
        exit_code=proc.returncode,
        timed_out=timed_out,
        stopped=stopped,
        pid=proc.pid,
        start_time=start,
        duration_s=time.monotonic() - t0,
    )
