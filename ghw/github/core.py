"""The request engine under :class:`ghw.github.client.GitHubClient`.

One method, :meth:`GitHubHTTP.request`, does everything GitHub asks of a well-behaved client:
headers, base URLs with a path prefix, conditional requests, rate-limit waits, spacing of writes,
retries with jittered back-off, and typed errors. The endpoint methods live in ``client.py``.
Policy (see ADR 0030): reads are retried on 5xx and network failures; writes that may have reached
GitHub are not (the caller reconciles), because a retried ``POST /pulls`` or comment can act twice.
"""

from __future__ import annotations

import asyncio
import json as jsonlib
import random
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any

import httpx
import orjson
import structlog

from ghw.github.auth import Token
from ghw.github.errors import (
    GitHubConnectionError,
    GitHubError,
    GitHubTimeoutError,
    MalformedResponseError,
    RateLimitedError,
    RateLimitWaitTooLongError,
    error_for_status,
)
from ghw.github.links import parse_link_header
from ghw.github.models import GitHubResponse, RateLimitWait
from ghw.github.policy import (
    MUTATING_METHODS,
    RateLimitDecision,
    backoff_delay,
    classify_rate_limit,
    parse_retry_after,
    reached_server,
)

__all__ = [
    "API_VERSION",
    "DEFAULT_ACCEPT",
    "GitHubHTTP",
]

API_VERSION = "2022-11-28"
DEFAULT_ACCEPT = "application/vnd.github+json"
# A 5xx may carry Retry-After; we honour it only up to this, beyond it our own back-off rules.
_MAX_SERVER_RETRY_AFTER = 60.0

_log = structlog.get_logger("ghw.github")


class GitHubHTTP:
    """Async GitHub REST transport; use as ``async with`` (it closes the httpx client it made)."""

    def __init__(
        self,
        base_url: str,
        token: str | Token | None,
        *,
        http: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 30.0,
        write_interval: float = 1.0,
        max_rate_wait: float = 3600.0,
        max_retries: int = 4,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
        on_rate_limit_wait: Callable[[RateLimitWait], Awaitable[None]] | None = None,
        not_before: float | None = None,
        user_agent: str = "ghw/0.1",
    ) -> None:
        base = httpx.URL(base_url)
        if base.scheme not in ("http", "https") or not base.host:
            raise ValueError(f"github.api_url must be an http(s) URL, got {base_url!r}")
        if base.query or base.fragment:
            raise ValueError(f"github.api_url must not have a query or fragment: {base_url!r}")
        self._base = base.copy_with(path=base.path.rstrip("/") or "")
        self._token = token if isinstance(token, Token) or token is None else Token(token)
        self._own_http = http is None
        self._http = http or httpx.AsyncClient(transport=transport, timeout=timeout)
        self._timeout = timeout
        self._write_interval = max(0.0, write_interval)
        self._max_rate_wait = max_rate_wait
        self._max_retries = max(0, max_retries)
        self._clock = clock
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._on_rate_limit_wait = on_rate_limit_wait
        self._not_before = not_before
        self._user_agent = user_agent
        self._last_write: float | None = None
        # Serialises the write-spacing check so parallel workers cannot both slip through.
        self._write_gate = asyncio.Lock()

    # -- lifecycle -----------------------------------------------------------------------------

    async def __aenter__(self) -> GitHubHTTP:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._own_http:
            await self._http.aclose()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={str(self._base)!r})"

    @property
    def base_url(self) -> str:
        return str(self._base)

    @property
    def on_rate_limit_wait(self) -> Callable[[RateLimitWait], Awaitable[None]] | None:
        """Awaited with each rate-limit wait before it starts (the sync phase records it)."""
        return self._on_rate_limit_wait

    @on_rate_limit_wait.setter
    def on_rate_limit_wait(self, hook: Callable[[RateLimitWait], Awaitable[None]] | None) -> None:
        self._on_rate_limit_wait = hook

    @property
    def not_before(self) -> float | None:
        """Epoch seconds before which no request is sent (a rate-limit wait in force), or None."""
        return self._not_before

    # -- URLs ----------------------------------------------------------------------------------

    def url_for(self, path_or_url: str) -> httpx.URL:
        """An absolute URL: paths join onto the base (keeping ``/api/v3``), URLs stay verbatim.

        An absolute URL must share the base's origin: the token goes with every request, and a
        ``Link`` header must not be able to send it elsewhere.
        """
        if path_or_url.startswith(("http://", "https://")):
            url = httpx.URL(path_or_url)
            if _origin(url) != _origin(self._base):
                raise MalformedResponseError(
                    f"refusing to send credentials to {url.scheme}://{url.host}, "
                    f"which is not the API's origin ({self._base.scheme}://{self._base.host})"
                )
            return url
        path, _, query = path_or_url.partition("?")
        full = self._base.path.rstrip("/") + "/" + path.lstrip("/")
        return self._base.copy_with(path=full, query=query.encode() if query else None)

    # -- the request loop ----------------------------------------------------------------------

    async def request(
        self,
        method: str,
        path_or_url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        etag: str | None = None,
        accept: str | None = None,
        retry_unsafe: bool = False,
    ) -> GitHubResponse:
        """Send one API request, waiting out rate limits and retrying what is safe to retry.

        ``etag`` sends ``If-None-Match``; a ``304`` then comes back as a response with
        ``not_modified`` True (not an error). ``retry_unsafe=True`` declares a POST/PATCH
        idempotent, so it is retried like a GET. Raises a :class:`GitHubError` subclass.
        """
        method = method.upper()
        url = self.url_for(path_or_url)
        if params:
            url = url.copy_merge_params({k: _param(v) for k, v in params.items() if v is not None})
        path = url.path
        replay_safe = method not in ("POST", "PATCH") or retry_unsafe
        failures = 0  # 5xx and network failures retried so far
        rate_waits = 0
        while True:
            await self._honour_not_before(path)
            if method in MUTATING_METHODS:
                await self._space_write()
            request = self._build(method, url, json, headers, etag, accept)
            try:
                resp = await self._http.send(request, follow_redirects=True)
            except httpx.TransportError as exc:
                err = _network_error(exc, method, path)
                if failures < self._max_retries and (replay_safe or not reached_server(exc)):
                    failures += 1
                    await self._backoff(failures, method, path, reason=type(exc).__name__)
                    continue
                raise err from exc
            status = resp.status_code
            _log.debug("github.request", method=method, path=path, status=status)
            if status in (403, 429):
                body = _error_body(resp)
                decision = classify_rate_limit(
                    status, resp.headers, body["message"], self._clock(), rate_waits
                )
                if decision is not None:
                    if rate_waits >= self._max_retries:
                        raise _rate_limited(RateLimitedError, decision, status, body, method, path)
                    rate_waits += 1
                    # A rate-limited request was refused unprocessed, so even a POST may go again.
                    await self._wait_for_rate_limit(decision, status, body, method, path)
                    continue
            if status >= 500 and replay_safe and failures < self._max_retries:
                failures += 1
                retry_after = parse_retry_after(resp.headers.get("retry-after"), self._clock())
                await self._backoff(failures, method, path, f"HTTP {status}", retry_after)
                continue
            if status >= 400:
                raise _http_error(resp, method, path)
            return _to_response(resp, method, path)

    def _build(
        self,
        method: str,
        url: httpx.URL,
        json: Any,
        extra: Mapping[str, str] | None,
        etag: str | None,
        accept: str | None,
    ) -> httpx.Request:
        headers = {
            "Accept": accept or DEFAULT_ACCEPT,
            "X-GitHub-Api-Version": API_VERSION,
            "User-Agent": self._user_agent,
        }
        if extra:
            headers.update(extra)
        if etag:
            headers["If-None-Match"] = etag
        if self._token is not None:
            # Set last so no caller-supplied header can replace or duplicate it.
            headers["Authorization"] = f"Bearer {self._token.reveal()}"
        content = None
        if json is not None:
            content = jsonlib.dumps(json, separators=(",", ":"), ensure_ascii=False).encode()
            headers["Content-Type"] = "application/json; charset=utf-8"
        return httpx.Request(
            method,
            url,
            headers=headers,
            content=content,
            extensions={"timeout": httpx.Timeout(self._timeout).as_dict()},
        )

    # -- waiting -------------------------------------------------------------------------------

    async def _honour_not_before(self, path: str) -> None:
        if self._not_before is None:
            return
        wait = self._not_before - self._clock()
        if wait <= 0:
            return
        if wait > self._max_rate_wait:
            raise RateLimitWaitTooLongError(
                f"rate limited until {_iso(self._not_before)}, {wait:.0f}s away, more than "
                f"github.max_rate_wait ({self._max_rate_wait:.0f}s)",
                kind="not_before",
                reset=self._not_before,
                path=path,
            )
        await self._sleep(wait)

    async def _wait_for_rate_limit(
        self,
        decision: RateLimitDecision,
        status: int,
        body: dict[str, Any],
        method: str,
        path: str,
    ) -> None:
        wait = decision.until - self._clock()
        # Whatever happens next, no request of this client may go before the limit lifts.
        self._not_before = max(self._not_before or 0.0, decision.until)
        if wait > self._max_rate_wait:
            raise _rate_limited(
                RateLimitWaitTooLongError,
                decision,
                status,
                body,
                method,
                path,
                note=f"{wait:.0f}s away, more than github.max_rate_wait "
                f"({self._max_rate_wait:.0f}s)",
            )
        _log.warning(
            "github.rate_limited", kind=decision.kind, path=path, wait_seconds=round(wait, 1)
        )
        if self._on_rate_limit_wait is not None:
            # Recorded before sleeping, so a process killed mid-wait restarts with the wait known.
            await self._on_rate_limit_wait(RateLimitWait(decision.until, decision.kind, path))
        # The sleep itself happens in _honour_not_before at the top of the next attempt.

    async def _space_write(self) -> None:
        if self._write_interval <= 0:
            return
        async with self._write_gate:
            if self._last_write is not None:
                wait = self._last_write + self._write_interval - self._clock()
                if wait > 0:
                    await self._sleep(wait)
            self._last_write = self._clock()

    async def _backoff(
        self,
        attempt: int,
        method: str,
        path: str,
        reason: str,
        retry_after: float | None = None,
    ) -> None:
        delay = backoff_delay(attempt, self._rng)
        if retry_after is not None and retry_after <= _MAX_SERVER_RETRY_AFTER:
            delay = max(delay, retry_after)
        _log.info(
            "github.retry", method=method, path=path, reason=reason, attempt=attempt, delay=delay
        )
        await self._sleep(delay)


# -- response and error shaping (module functions: no state) ----------------------------------


def _param(value: Any) -> str | int | float:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return value
    return str(value)


def _origin(url: httpx.URL) -> tuple[str, str, int]:
    """(scheme, host, port) with the default port filled in, so ``:443`` equals no port."""
    default = 443 if url.scheme == "https" else 80
    return url.scheme, url.host, url.port or default


def _iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def _network_error(exc: httpx.TransportError, method: str, path: str) -> GitHubError:
    cls = GitHubTimeoutError if isinstance(exc, httpx.TimeoutException) else GitHubConnectionError
    detail = str(exc) or type(exc).__name__
    return cls(f"{type(exc).__name__}: {detail}", method=method, path=path)


def _error_body(resp: httpx.Response) -> dict[str, Any]:
    """GitHub's error fields from any body; a non-JSON body (a proxy's HTML) gives its reason."""
    message = resp.reason_phrase or f"HTTP {resp.status_code}"
    errors: list[Any] = []
    doc: str | None = None
    try:
        data = resp.json()
    except ValueError:
        data = None
    if isinstance(data, dict):
        if isinstance(data.get("message"), str) and data["message"]:
            message = data["message"]
        if isinstance(data.get("errors"), list):
            errors = [e if isinstance(e, dict) else {"message": str(e)} for e in data["errors"]]
        if isinstance(data.get("documentation_url"), str):
            doc = data["documentation_url"]
    return {"message": message, "errors": errors, "documentation_url": doc}


def _describe(body: dict[str, Any]) -> str:
    """GitHub's message plus the per-field reasons of a 422, in one line."""
    message = body["message"]
    reasons = []
    for e in body["errors"]:
        text = e.get("message") or " ".join(
            str(e[k]) for k in ("resource", "field", "code") if e.get(k)
        )
        if text:
            reasons.append(str(text))
    return f"{message} ({'; '.join(reasons)})" if reasons else message


def _http_error(resp: httpx.Response, method: str, path: str) -> GitHubError:
    body = _error_body(resp)
    cls = error_for_status(resp.status_code)
    err = cls(
        _describe(body),
        method=method,
        path=path,
        status=resp.status_code,
        errors=body["errors"],
        documentation_url=body["documentation_url"],
    )
    err.github_message = body["message"]
    return err


def _rate_limited(
    cls: type[RateLimitedError],
    decision: RateLimitDecision,
    status: int,
    body: dict[str, Any],
    method: str,
    path: str,
    note: str = "",
) -> RateLimitedError:
    lifts = f"{decision.kind} rate limit, lifts at {_iso(decision.until)}"
    message = f"{body['message']} ({lifts}{', ' + note if note else ''})"
    err = cls(
        message,
        kind=decision.kind,
        reset=decision.until,  # when the limit lifts, whichever header said so
        retry_after=decision.retry_after,
        method=method,
        path=path,
        status=status,
        errors=body["errors"],
        documentation_url=body["documentation_url"],
    )
    err.github_message = body["message"]
    return err


def _parse_json(content: bytes, text: str) -> Any:
    """orjson for speed; the stdlib for what only it takes (lone surrogate escapes, NaN).

    A lone surrogate (``"\\ud800"``) is no character: it could not be hashed, stored or written
    as UTF-8, so it becomes U+FFFD, as a browser shows it.
    """
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        return _no_lone_surrogates(jsonlib.loads(text))


_SURROGATE = re.compile("[\ud800-\udfff]")  # json.loads has joined every valid pair already


def _no_lone_surrogates(value: Any) -> Any:
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_no_lone_surrogates(v) for v in value]
    if isinstance(value, dict):
        return {_no_lone_surrogates(k): _no_lone_surrogates(v) for k, v in value.items()}
    return value


def _to_response(resp: httpx.Response, method: str, path: str) -> GitHubResponse:
    text = resp.text if resp.status_code != 304 else ""
    data: Any = None
    content_type = resp.headers.get("content-type", "")
    if text and "json" in content_type:
        try:
            data = _parse_json(resp.content, text)
        except ValueError as exc:
            raise MalformedResponseError(
                f"response is not valid JSON ({exc})",
                method=method,
                path=path,
                status=resp.status_code,
            ) from None
    return GitHubResponse(
        status=resp.status_code,
        headers=resp.headers,
        url=str(resp.url),
        text=text,
        json=data,
        etag=resp.headers.get("etag"),
        links=parse_link_header(resp.headers.get("link")),
    )
