"""Typed git failures.

Every failure of a git call becomes a :class:`GitError` carrying the command (secrets already
redacted), git's exit code and the tail of its stderr, so a phase can log it, write it into a
failure event and classify it (authentication, rejected push, timeout) without parsing text.
"""

from __future__ import annotations

from collections.abc import Sequence

from ghw.errors import GhwError

__all__ = [
    "GitAuthError",
    "GitError",
    "GitLockTimeoutError",
    "GitTimeoutError",
    "PushRejectedError",
    "UnsafeNameError",
]


class GitError(GhwError):
    """A git command failed, or was refused before it ran.

    ``returncode`` is git's exit code (None when git never ran or was killed on timeout);
    ``command`` and ``stderr_tail`` are redacted before they get here.
    """

    def __init__(
        self,
        message: str,
        *,
        command: Sequence[str] = (),
        returncode: int | None = None,
        stderr_tail: str = "",
    ) -> None:
        super().__init__(message)
        self.command = tuple(command)
        self.returncode = returncode
        self.stderr_tail = stderr_tail

    @property
    def transient(self) -> bool:
        """Worth retrying later (network, timeouts, locks); refusals and auth are not."""
        return True


class GitAuthError(GitError):
    """The remote refused our credentials, or there were none."""

    @property
    def transient(self) -> bool:
        return False


class PushRejectedError(GitError):
    """The remote refused the push: the lease was stale or the update was not allowed."""

    @property
    def transient(self) -> bool:
        return False


class GitTimeoutError(GitError):
    """git ran past its timeout and its process group was killed."""


class GitLockTimeoutError(GitError):
    """Another process held the mirror's lock for longer than we were willing to wait."""


class UnsafeNameError(GitError, ValueError):
    """A branch, ref or repository name that must never reach git (refused before any call)."""

    @property
    def transient(self) -> bool:
        return False
