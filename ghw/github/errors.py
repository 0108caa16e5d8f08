"""Errors of the GitHub client, at a glance.

Every error carries the request's method and path (never its headers, so never the token) and, for
answers from GitHub, the HTTP status and GitHub's own ``message``, ``errors`` and
``documentation_url``. ``transient`` tells the retry classifier of the phases whether trying the
same step again later may succeed (5xx, 429, network, rate limits) or not (401, 404, 422, …).

    GhwError (ghw.errors)
    └── GitHubError                   any failure talking to GitHub            transient: no
        ├── NotFoundError             404                                      no
        ├── UnauthorizedError         401 bad or missing token                 no
        ├── ForbiddenError            403 without rate-limit signs             no
        ├── ValidationFailedError     422, with ``.errors``                    no
        ├── RateLimitedError          403/429 rate limit, retries used up      yes
        │   └── RateLimitWaitTooLongError  the wait would exceed max_rate_wait yes
        ├── ServerError               5xx after retries (or a write not retried) yes
        ├── GitHubConnectionError     network failure (reset, refused, DNS)     yes
        │   └── GitHubTimeoutError    no answer within the timeout             yes
        └── MalformedResponseError    non-JSON body, wrong shape, bad Link     yes
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ghw.errors import GhwError

__all__ = [
    "ForbiddenError",
    "GitHubConnectionError",
    "GitHubError",
    "GitHubTimeoutError",
    "MalformedResponseError",
    "NotFoundError",
    "RateLimitWaitTooLongError",
    "RateLimitedError",
    "ServerError",
    "UnauthorizedError",
    "ValidationFailedError",
    "error_for_status",
]


class GitHubError(GhwError):
    """A request to GitHub failed; ``str()`` is a one-line message fit for the console."""

    transient: bool = False

    def __init__(
        self,
        message: str,
        *,
        method: str = "",
        path: str = "",
        status: int | None = None,
        errors: Sequence[Mapping[str, Any]] = (),
        documentation_url: str | None = None,
    ) -> None:
        where = f"{method} {path}".strip()
        status_part = f"GitHub {status}" if status is not None else "GitHub"
        text = f"{status_part} on {where}: {message}" if where else f"{status_part}: {message}"
        super().__init__(text)
        self.github_message = message
        self.method = method
        self.path = path
        self.status = status
        self.errors: list[dict[str, Any]] = [dict(e) for e in errors]
        self.documentation_url = documentation_url

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class NotFoundError(GitHubError):
    """404: the resource does not exist, or the token may not see it (GitHub hides both alike)."""


class UnauthorizedError(GitHubError):
    """401: the token is missing, wrong or expired."""


class ForbiddenError(GitHubError):
    """403 that is not a rate limit: the token lacks a permission or the action is refused."""


class ValidationFailedError(GitHubError):
    """422: GitHub refused the request's content; ``errors`` holds its per-field reasons."""


class RateLimitedError(GitHubError):
    """A primary or secondary rate limit that retrying within this request did not get past."""

    transient = True

    def __init__(
        self,
        message: str,
        *,
        kind: str = "secondary",
        reset: float | None = None,
        retry_after: float | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(message, **kw)
        self.kind = kind
        self.reset = reset
        self.retry_after = retry_after


class RateLimitWaitTooLongError(RateLimitedError):
    """The rate limit resets later than ``max_rate_wait`` allows us to wait; ``reset`` says when."""


class ServerError(GitHubError):
    """5xx: GitHub failed; for a write it may still have done the work (see ADR 0030)."""

    transient = True


class GitHubConnectionError(GitHubError):
    """The network failed (refused, reset, DNS); the request may or may not have been processed."""

    transient = True


class GitHubTimeoutError(GitHubConnectionError):
    """No (complete) answer within ``timeout`` seconds."""


class MalformedResponseError(GitHubError):
    """GitHub (or something in between) answered with a body or header we cannot use.

    Transient: a proxy's error page or a cut-off body is gone on the next try, and every step
    reconciles before it writes again (a PR is looked up by its branch, a comment by its marker),
    so a later attempt is safe; one that stays malformed exhausts ``retry.max_attempts``.
    """

    transient = True


def error_for_status(status: int) -> type[GitHubError]:
    """The error class for an HTTP error status that is not a rate limit."""
    if status == 401:
        return UnauthorizedError
    if status == 403:
        return ForbiddenError
    if status == 404:
        return NotFoundError
    if status == 422:
        return ValidationFailedError
    if status == 429:
        return RateLimitedError
    if status >= 500:
        return ServerError
    return GitHubError
