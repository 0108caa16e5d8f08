"""Runs git for ghw: argument lists (never a shell), a clean environment, a timeout on every call,
and failures turned into typed, redacted :class:`~ghw.git.errors.GitError`s.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import signal
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ghw.git.auth import Secret, auth_config, base_env, redact, reveal, secret_forms
from ghw.git.errors import (
    GitAuthError,
    GitError,
    GitTimeoutError,
    PushRejectedError,
)

__all__ = ["DEFAULT_TIMEOUT", "Git", "GitResult"]

DEFAULT_TIMEOUT = 600.0
_STDERR_TAIL = 2000

# What git and git-remote-http say when the remote refuses or asks for credentials.
_AUTH_MARKERS = (
    "authentication failed",
    "could not read username",
    "could not read password",
    "terminal prompts disabled",
    "http 401",
    "http 403",
    "the requested url returned error: 401",
    "the requested url returned error: 403",
    "invalid username or password",
    "permission to",
)
_REJECT_MARKERS = ("[rejected]", "stale info", "[remote rejected]", "failed to push some refs")


@dataclass(frozen=True)
class GitResult:
    args: tuple[str, ...]
    returncode: int
    stdout: bytes
    stderr: bytes

    @property
    def out(self) -> str:
        """stdout as text, without the trailing newline."""
        return self.stdout.decode("utf-8", "replace").rstrip("\n")


class Git:
    """The one way ghw starts git.

    ``config_dir`` holds ``gitconfig``, an empty, ghw-owned file used as ``GIT_CONFIG_GLOBAL``.
    ``environ`` is where PATH/HOME/LANG (and proxies) are inherited from; default ``os.environ``.
    """

    def __init__(
        self,
        config_dir: Path,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        environ: Mapping[str, str] | None = None,
        program: str = "git",
    ) -> None:
        self.config_dir = Path(config_dir)
        self.timeout = timeout
        self._environ = dict(os.environ if environ is None else environ)
        self.program = program

    @property
    def global_config(self) -> Path:
        return self.config_dir / "gitconfig"

    def _ensure_global_config(self) -> Path:
        path = self.global_config
        # Truncated whenever it is not empty: ghw owns it and nobody else should put config there.
        if not path.is_file() or path.stat().st_size:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"")
        return path

    def env(self, *, url: str | None = None, token: str | None = None) -> dict[str, str]:
        extra = auth_config(url, token) if url else []
        return base_env(self._environ, self._ensure_global_config(), extra)

    async def run(
        self,
        args: Sequence[str],
        *,
        cwd: Path | None = None,
        url: str | None = None,
        token: Secret | None = None,
        input: bytes | None = None,
        time_limit: float | None = None,
        check: bool = True,
    ) -> GitResult:
        """Run ``git *args``; with ``url`` and ``token``, authenticated for that URL prefix only."""
        secret = reveal(token)
        secrets = secret_forms(secret)
        argv = [self.program, *args]
        if secret and any(secret in a for a in argv):
            # A bug elsewhere; never let it reach ps(1).
            raise GitError("refusing to run git with a secret on its command line")
        env = self.env(url=url, token=secret)
        limit = self.timeout if time_limit is None else time_limit
        proc = await asyncio.create_subprocess_exec(
            *argv,
            cwd=str(cwd) if cwd is not None else None,
            env=env,
            stdin=asyncio.subprocess.PIPE if input is not None else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            # Own process group, so a timeout also kills git-remote-https and pack-objects.
            start_new_session=True,
        )
        try:
            stdout, stderr = await asyncio.wait_for(proc.communicate(input), limit)
        except TimeoutError:
            await _kill_group(proc)
            raise GitTimeoutError(
                f"git {_show(args, secrets)} timed out after {limit:g}s",
                command=_redacted(argv, secrets),
            ) from None
        except BaseException:
            # Cancelled (shutdown, lease lost): do not leave git running behind us.
            await _kill_group(proc)
            raise
        result = GitResult(tuple(argv), proc.returncode or 0, stdout, stderr)
        if check and result.returncode != 0:
            raise _error(argv, result, secrets)
        return result


def _show(args: Sequence[str], secrets: Sequence[str]) -> str:
    return redact(shlex.join(args), secrets)


def _redacted(argv: Sequence[str], secrets: Sequence[str]) -> tuple[str, ...]:
    return tuple(redact(a, secrets) for a in argv)


def _error(argv: Sequence[str], result: GitResult, secrets: Sequence[str]) -> GitError:
    stderr = result.stderr.decode("utf-8", "replace")
    if "push" in argv[1:]:
        # push --porcelain reports each ref's fate ("[rejected] (stale info)") on stdout.
        stderr = f"{result.stdout.decode('utf-8', 'replace')}\n{stderr}"
    stderr = redact(stderr, secrets).strip()
    tail = stderr[-_STDERR_TAIL:]
    low = stderr.lower()
    shown = _show(argv[1:], secrets)
    last = tail.splitlines()[-1] if tail else "no output"
    kwargs = {
        "command": _redacted(argv, secrets),
        "returncode": result.returncode,
        "stderr_tail": tail,
    }
    if any(m in low for m in _AUTH_MARKERS):
        return GitAuthError(
            f"git {shown}: authentication failed (exit {result.returncode}): the remote refused "
            f"the token or none was given; check github.token_env. {last}",
            **kwargs,
        )
    if "push" in argv[1:]:
        if any(m in low for m in _REJECT_MARKERS):
            why = next((ln for ln in tail.splitlines() if "rejected]" in ln), last)
            return PushRejectedError(
                f"git {shown}: push rejected (exit {result.returncode}): {why.strip()}", **kwargs
            )
    return GitError(f"git {shown} failed (exit {result.returncode}): {last}", **kwargs)


async def _kill_group(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        await proc.wait()
