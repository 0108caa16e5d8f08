"""Process handling: groups, deadlines, pipes, pdeathsig and killing recorded groups."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ghw.agents.process import (
    group_members,
    kill_recorded_group,
    process_start_time,
    run_process,
)

PY = sys.executable
DATA = Path(__file__).parent / "data"


def alive(pid: int) -> bool:
    """True while pid runs; a zombie (dead, not yet reaped by init) counts as gone."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def wait_gone(pid: int, within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.02)
    return not alive(pid)


def wait_file(path: Path, within: float = 10.0) -> str:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().strip():
            return path.read_text().strip()
        time.sleep(0.02)
    raise AssertionError(f"{path} never appeared")


def cleanup_group(spawn_file: Path) -> None:
    """Leave nothing running even when the test failed half-way."""
    if spawn_file.exists() and spawn_file.read_text().strip():
        pgid = int(spawn_file.read_text().split()[0])
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)


class Sink:
    def __init__(self) -> None:
        self.out: list[str] = []
        self.err: list[str] = []


async def run_py(code: str, tmp: Path, sink: Sink, **kw: object) -> object:
    return await run_process(
        [PY, "-c", code],
        cwd=tmp,
        env={"PATH": os.environ["PATH"]},
        on_stdout=sink.out.append,
        on_stderr=sink.err.append,
        **kw,  # type: ignore[arg-type]
    )


async def test_huge_lines_binary_and_full_stderr_do_not_deadlock(tmp_path: Path) -> None:
    # 3 MB on stderr before any stdout: with sequential reading the child would block forever.
    code = (
        "import sys\n"
        "sys.stderr.write('e' * 3_000_000 + '\\n'); sys.stderr.flush()\n"
        "sys.stdout.write('{\"big\": \"' + 'x' * 5_000_000 + '\"}\\n')\n"
        "sys.stdout.flush()\n"
        "sys.stdout.buffer.write(b'bad \\xff\\xfe bytes\\r\\nlast-no-newline')\n"
    )
    sink = Sink()
    outcome = await run_py(code, tmp_path, sink, time_limit=30)
    assert outcome.exit_code == 0  # type: ignore[attr-defined]
    assert len(sink.out) == 3
    assert len(sink.out[0]) == 5_000_000 + 11
    assert sink.out[1] == "bad \ufffd\ufffd bytes"
    assert sink.out[2] == "last-no-newline"
    assert sink.err == ["e" * 3_000_000]


async def test_on_spawn_gets_group_and_start_time(tmp_path: Path) -> None:
    seen: list[tuple[int, float]] = []

    async def on_spawn(pgid: int, start: float) -> None:
        seen.append((pgid, start))
        assert os.getpgid(pgid) == pgid  # the child leads its own group
        assert process_start_time(pgid) == start

    sink = Sink()
    outcome = await run_py("import time; time.sleep(0.2)", tmp_path, sink, on_spawn=on_spawn)
    assert seen and seen[0][0] == outcome.pid  # type: ignore[attr-defined]
    assert os.getpgid(0) != seen[0][0]


GRANDCHILD = (
    "import subprocess, sys, time, signal\n"
    "{ignore}\n"
    "p = subprocess.Popen(['sleep', '300'])\n"
    "print(p.pid, flush=True)\n"
    "time.sleep(300)\n"
)


@pytest.mark.parametrize("ignore_term", [False, True])
async def test_deadline_kills_whole_group(tmp_path: Path, ignore_term: bool) -> None:
    ignore = "signal.signal(signal.SIGTERM, signal.SIG_IGN)" if ignore_term else ""
    sink = Sink()
    t0 = time.monotonic()
    outcome = await run_py(
        GRANDCHILD.format(ignore=ignore), tmp_path, sink, time_limit=1.0, grace=0.5
    )
    elapsed = time.monotonic() - t0
    assert outcome.timed_out  # type: ignore[attr-defined]
    grandchild = int(sink.out[0])
    assert wait_gone(grandchild, 1.0)
    assert not alive(outcome.pid)  # type: ignore[attr-defined]
    assert group_members(outcome.pid) == []  # type: ignore[attr-defined]
    # SIGTERM-ignoring leader: killed after the grace period, not before, not much later.
    assert elapsed < 5
    if ignore_term:
        assert outcome.exit_code == -signal.SIGKILL  # type: ignore[attr-defined]
        assert elapsed >= 1.4
    else:
        assert outcome.exit_code == -signal.SIGTERM  # type: ignore[attr-defined]


async def test_leftover_children_are_killed_when_leader_exits(tmp_path: Path) -> None:
    code = "import subprocess; p = subprocess.Popen(['sleep', '300']); print(p.pid, flush=True)"
    sink = Sink()
    t0 = time.monotonic()
    outcome = await run_py(code, tmp_path, sink, time_limit=30)
    assert outcome.exit_code == 0 and not outcome.timed_out  # type: ignore[attr-defined]
    assert time.monotonic() - t0 < 5  # the sleeper holding stdout did not block draining
    assert wait_gone(int(sink.out[0]), 1.0)


async def test_cancel_terminates_group_and_propagates(tmp_path: Path) -> None:
    spawned: list[int] = []
    sink = Sink()
    task = asyncio.create_task(
        run_py(
            GRANDCHILD.format(ignore=""),
            tmp_path,
            sink,
            grace=1.0,
            on_spawn=lambda pgid, start: spawned.append(pgid),
        )
    )
    for _ in range(500):
        if sink.out:
            break
        await asyncio.sleep(0.02)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert wait_gone(spawned[0], 1.0) and wait_gone(int(sink.out[0]), 1.0)


async def test_stop_event(tmp_path: Path) -> None:
    stop = asyncio.Event()
    sink = Sink()
    asyncio.get_running_loop().call_later(0.3, stop.set)
    outcome = await run_py("import time; time.sleep(300)", tmp_path, sink, stop=stop, grace=1)
    assert outcome.stopped and not outcome.timed_out  # type: ignore[attr-defined]


def test_spawn_error_is_oserror(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        asyncio.run(
            run_process(
                [str(tmp_path / "missing")],
                cwd=tmp_path,
                env={},
                on_stdout=print,
                on_stderr=print,
            )
        )


def _start_group_with_orphan(tmp_path: Path) -> tuple[int, float, int]:
    """A group whose leader exits and leaves a grandchild behind (as after pdeathsig)."""
    pid_file = tmp_path / "orphan.pid"
    leader = subprocess.Popen(
        ["sh", "-c", f"sleep 300 </dev/null >/dev/null 2>&1 & echo $! > {pid_file}; sleep 0.3"],
        start_new_session=True,
    )
    start = process_start_time(leader.pid)
    assert start is not None
    orphan = int(wait_file(pid_file))
    leader.wait()
    return leader.pid, start, orphan


def test_kill_recorded_group_kills_survivors_of_a_dead_leader(tmp_path: Path) -> None:
    pgid, start, orphan = _start_group_with_orphan(tmp_path)
    assert alive(orphan) and os.getpgid(orphan) == pgid
    assert kill_recorded_group(pgid, start + 1000.0) is False  # started before "its" leader
    assert alive(orphan)
    assert kill_recorded_group(pgid, start) is True
    assert wait_gone(orphan, 1.0)
    assert kill_recorded_group(pgid, start) is False  # nothing left


def test_kill_recorded_group_refuses_a_different_start_time(tmp_path: Path) -> None:
    proc = subprocess.Popen(["sleep", "300"], start_new_session=True)
    try:
        start = process_start_time(proc.pid)
        assert start is not None
        assert kill_recorded_group(proc.pid, start - 1.0) is False  # a recycled pid
        assert alive(proc.pid)
        assert kill_recorded_group(proc.pid, start) is True
        assert proc.wait(timeout=2) == -signal.SIGKILL
    finally:
        proc.kill()
        proc.wait()


def test_kill_recorded_group_never_hits_init_or_foreign_groups() -> None:
    assert kill_recorded_group(1, 0.0) is False
    assert kill_recorded_group(0, 0.0) is False
    me = os.getpid()  # exists, but is not a group leader of its own recorded group
    if os.getpgid(me) != me:
        assert kill_recorded_group(me, process_start_time(me) or 0.0) is False


def test_agent_dies_with_sigkilled_ghw_and_recorded_group_is_cleaned(
    tmp_path: Path, repo: Path, ghw_home: Path
) -> None:
    """SIGKILL the process running the adapter: the agent (group leader) is gone within a second
    thanks to PR_SET_PDEATHSIG; the grandchild that escaped it is killed by kill_recorded_group
    with the pgid and start time the adapter reported through on_spawn."""
    spawn_file = tmp_path / "spawn.txt"
    script = "sleep 300 </dev/null >/dev/null 2>&1 & echo $! > grandchild.pid; sleep 300"
    runner = subprocess.Popen(
        [
            PY,
            str(DATA / "run_adapter.py"),
            "command",
            str(repo),
            str(ghw_home),
            str(spawn_file),
            "-c",
            script,
        ],
        env={**os.environ},
    )
    try:
        pgid_s, start_s = wait_file(spawn_file).split()
        pgid, start = int(pgid_s), float(start_s)
        grandchild = int(wait_file(repo / "grandchild.pid"))
        assert alive(pgid) and alive(grandchild)
        runner.send_signal(signal.SIGKILL)
        runner.wait()
        assert wait_gone(pgid, 1.0), "agent survived the death of ghw"
        assert alive(grandchild)  # pdeathsig reaches only the direct child
        assert kill_recorded_group(pgid, start) is True
        assert wait_gone(grandchild, 1.0)
    finally:
        runner.kill()
        runner.wait()
        cleanup_group(spawn_file)


def test_scripted_agent_dies_with_sigkilled_ghw(tmp_path: Path, repo: Path, ghw_home: Path) -> None:
    spawn_file = tmp_path / "spawn.txt"
    runner = subprocess.Popen(
        [
            PY,
            str(DATA / "run_adapter.py"),
            "scripted",
            str(repo),
            str(ghw_home),
            str(spawn_file),
            "300",
        ],
    )
    try:
        pgid = int(wait_file(spawn_file).split()[0])
        wait_file(Path(f"{spawn_file}.running"))  # sleeping in its delay, not reading stdin
        assert alive(pgid)
        runner.send_signal(signal.SIGKILL)
        runner.wait()
        assert wait_gone(pgid, 1.0)
    finally:
        runner.kill()
        runner.wait()
        cleanup_group(spawn_file)
