"""What every subprocess-backed adapter shares: environment, workspace, spawn, parse, result.

An adapter subclasses :class:`SubprocessAgent` and says only what differs: its command line, its
extra environment and its parser.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import stat
import subprocess
import tempfile
import time
from collections import deque
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import ClassVar

import structlog

from ghw.agents.base import (
    AgentCheck,
    AgentEvent,
    AgentMode,
    AgentRequest,
    AgentResult,
    AgentSettings,
    ErrorKind,
)
from ghw.agents.env import AgentHome, build_agent_env, prepare_ghw_home
from ghw.agents.parsers import ParsedRun, StreamParser
from ghw.agents.process import run_process
from ghw.agents.transcript import Redactor, TranscriptWriter
from ghw.errors import GhwError

__all__ = [
    "SubprocessAgent",
    "throwaway_copy",
]

_log = structlog.get_logger("ghw.agents")

_STDERR_TAIL = 20


def _copy_regular(src: str, dst: str) -> None:
    # Only regular files: opening a FIFO or socket left in a workspace would block or fail.
    if stat.S_ISREG(os.lstat(src).st_mode):
        shutil.copy2(src, dst)


@contextlib.asynccontextmanager
async def throwaway_copy(workspace: Path) -> AsyncIterator[Path]:
    """A temporary copy of the workspace for a CLI that cannot be made read-only: whatever it
    writes is thrown away with the copy. Copying runs in a thread (a big checkout would
    otherwise stall every other agent's pipes)."""
    parent = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="ghw-ro-"))
    try:
        copy = parent / workspace.name
        await asyncio.to_thread(
            shutil.copytree, workspace, copy, symlinks=True, copy_function=_copy_regular
        )
        yield copy
    finally:
        await asyncio.to_thread(shutil.rmtree, parent, True)


class SubprocessAgent:
    """Base of the built-in adapters. Subclasses set the class variables and ``argv``."""

    kind: ClassVar[str]  # the registry name, e.g. "claude-code"
    default_command: ClassVar[str]
    install_hint: ClassVar[str]
    # True when the CLI has no (verified) read-only mode: read-only runs use a throw-away copy.
    read_only_copy: ClassVar[bool] = False
    version_args: ClassVar[tuple[str, ...]] = ("--version",)

    def __init__(self, settings: AgentSettings) -> None:
        self.settings = settings
        self.name = settings.name

    # ---- what subclasses describe -------------------------------------------------------
    def argv(self, req: AgentRequest, program: str) -> list[str]:
        raise NotImplementedError

    def stdin_data(self, req: AgentRequest) -> bytes | None:
        """The prompt goes on stdin by default: a command-line argument is capped at 128 KiB
        on Linux, and a review prompt with a diff can be bigger."""
        return req.prompt.encode("utf-8")

    def adapter_env(self, req: AgentRequest) -> dict[str, str]:
        return {}

    def make_parser(self) -> StreamParser:
        raise NotImplementedError

    # ---- shared machinery ---------------------------------------------------------------
    @property
    def command(self) -> str:
        return self.settings.command or self.default_command

    def _which(self, path_env: str | None) -> str | None:
        return shutil.which(self.command, path=path_env)

    def check(self, environ: Mapping[str, str] | None = None) -> AgentCheck:
        path = self._which((os.environ if environ is None else environ).get("PATH"))
        if path is None:
            return AgentCheck(False, None, None, self.install_hint)
        return AgentCheck(True, self._version(path), path, self.install_hint)

    def _version(self, path: str) -> str | None:
        if not self.version_args:
            return None
        try:
            out = subprocess.run(
                [path, *self.version_args],
                capture_output=True,
                text=True,
                timeout=20,
                stdin=subprocess.DEVNULL,
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            return None
        lines = (out.stdout or out.stderr).strip().splitlines()
        return lines[0].strip() if lines else None

    def _fail(self, req: AgentRequest, kind: ErrorKind, error: str, t0: float) -> AgentResult:
        return AgentResult(
            success=False,
            text="",
            agent=self.name,
            duration_s=time.monotonic() - t0,
            error_kind=kind,
            error=error,
            transient=False,
            model=self.settings.model,
        )

    async def run(self, req: AgentRequest) -> AgentResult:
        t0 = time.monotonic()
        try:
            home = prepare_ghw_home(req.ghw_home)
            env = self._env(req, home)
        except (GhwError, OSError) as exc:
            return self._fail(req, "spawn_error", str(exc), t0)
        program = self._which(env.get("PATH"))
        if program is None:
            return self._fail(
                req,
                "not_installed",
                f"agent {self.name!r}: {self.command!r} not found on PATH; {self.install_hint}",
                t0,
            )
        try:
            if req.mode is AgentMode.READ_ONLY and self.read_only_copy:
                async with throwaway_copy(req.cwd) as copy:
                    return await self._run_in(req, copy, program, env, t0)
            return await self._run_in(req, req.cwd, program, env, t0)
        except (shutil.Error, OSError) as exc:  # copy or transcript could not be made
            return self._fail(req, "spawn_error", f"agent {self.name!r}: {exc}", t0)

    def _env(self, req: AgentRequest, home: AgentHome) -> dict[str, str]:
        return build_agent_env(
            req.parent_env,
            self.settings.env,
            home=home,
            secrets=req.secrets,
            secret_env_names=req.secret_env_names,
            adapter_env=self.adapter_env(req),
        )

    async def _run_in(
        self, req: AgentRequest, cwd: Path, program: str, env: dict[str, str], t0: float
    ) -> AgentResult:
        redact = Redactor(req.secrets)
        transcript = TranscriptWriter(req.transcript_path, redact)
        parser = self.make_parser()
        stderr_tail: deque[str] = deque(maxlen=_STDERR_TAIL)
        argv = self.argv(req, program)

        def emit(events: list[AgentEvent]) -> None:
            if req.on_event is None:
                return
            for ev in events:
                try:
                    req.on_event(ev)
                except Exception:  # a broken callback must not stop the pipe being read
                    _log.exception("agent_event_callback_failed", agent=self.name)

        def on_stdout(line: str) -> None:
            line = redact(line)
            transcript.stdout(line)
            emit(parser.feed(line))

        def on_stderr(line: str) -> None:
            line = redact(line)
            transcript.stderr(line)
            if line.strip():
                stderr_tail.append(line)
                emit([AgentEvent("stderr", line, {})])

        transcript.meta(
            "start",
            agent=self.name,
            kind=self.kind,
            argv=[("<prompt>" if a == req.prompt else a) for a in argv],
            cwd=str(cwd),
            mode=str(req.mode),
            phase=req.phase,
            issue=req.issue,
            prompt=req.prompt,
        )
        outcome = None
        try:
            outcome = await run_process(
                argv,
                cwd=cwd,
                env=env,
                on_stdout=on_stdout,
                on_stderr=on_stderr,
                stdin_data=self.stdin_data(req),
                time_limit=self.settings.timeout,
                grace=self.settings.grace,
                on_spawn=req.on_spawn,
                stop=req.stop,
            )
        except OSError as exc:
            transcript.meta("end", error=str(exc))
            transcript.close()
            return self._fail(req, "spawn_error", f"agent {self.name!r}: {exc}", t0)
        finally:
            if outcome is None and transcript.path is not None:
                # Cancelled: still leave a complete, closed transcript behind.
                with contextlib.suppress(Exception):
                    transcript.meta("end", cancelled=True)
                    transcript.close()
        parsed = parser.finish(outcome.exit_code)
        self._apply_outcome(parsed, outcome.timed_out, outcome.stopped, stderr_tail)
        transcript.meta(
            "end",
            exit_code=outcome.exit_code,
            timed_out=outcome.timed_out,
            stopped=outcome.stopped,
            duration_s=round(outcome.duration_s, 3),
            success=parsed.success,
            error_kind=parsed.error_kind,
        )
        sha = transcript.close()
        _log.info(
            "agent_finished",
            agent=self.name,
            phase=req.phase,
            issue=req.issue,
            exit_code=outcome.exit_code,
            success=parsed.success,
            error_kind=parsed.error_kind,
            seconds=round(outcome.duration_s, 3),
        )
        return AgentResult(
            success=parsed.success,
            text=parsed.text,
            agent=self.name,
            duration_s=time.monotonic() - t0,
            exit_code=outcome.exit_code,
            session_id=parsed.session_id,
            cost_usd=parsed.cost_usd,
            input_tokens=parsed.input_tokens,
            output_tokens=parsed.output_tokens,
            turns=parsed.turns,
            model=self.settings.model or parsed.model,
            error_kind=None if parsed.success else parsed.error_kind,
            error=None if parsed.success else parsed.error,
            transient=False if parsed.success else parsed.transient,
            transcript_path=req.transcript_path,
            transcript_sha256=sha,
            permission_denials=parsed.permission_denials,
        )

    def _apply_outcome(
        self, parsed: ParsedRun, timed_out: bool, stopped: bool, stderr_tail: deque[str]
    ) -> None:
        """ghw's own reasons for ending the run override what the parser concluded."""
        if timed_out:
            parsed.success = False
            parsed.error_kind = "timeout"
            parsed.error = f"agent {self.name!r} timed out after {self.settings.timeout:g}s"
            parsed.transient = True
        elif stopped:
            parsed.success = False
            parsed.error_kind = "interrupted"
            parsed.error = f"agent {self.name!r} was stopped by ghw"
            parsed.transient = True
        if not parsed.success and stderr_tail:
            tail = " | ".join(list(stderr_tail)[-5:])
            parsed.error = f"{parsed.error or 'failed'} (stderr: {tail[:2000]})"
