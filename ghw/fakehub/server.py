"""The HTTP server: stdlib ``ThreadingHTTPServer`` (see docs/adr/0010-fakehub-http-server.md).

One thread per connection, HTTP/1.1 keep-alive, Nagle off. Each request goes one of three ways:

* ``/_fakehub/…``       the control API (no auth, no faults, not logged);
* ``/{o}/{r}.git/…``    git smart HTTP through ``git http-backend``;
* anything else         the GitHub REST API: faults, then auth, then the route, then ETag/304.

Faults with ``"when": "after"`` strike once the request has run (API and git alike): its answer is
then dropped, replaced or delayed, while its effect stays (see ``faults.py``).
"""

from __future__ import annotations

import hashlib
import io
import json
import socket
import struct
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from ghw.fakehub.auth import token_from_header
from ghw.fakehub.context import HubContext
from ghw.fakehub.errors import ApiError
from ghw.fakehub.faults import DROPS, Fault
from ghw.fakehub.git_http import GIT_PATH, serve_git
from ghw.fakehub.http_util import Request, Response, Router
from ghw.fakehub.render import dumps
from ghw.fakehub.reqlog import redact_headers
from ghw.fakehub.routes_api import build_api_router
from ghw.fakehub.routes_control import PREFIX, build_control_router

__all__ = [
    "RATE_DOCS",
    "REASONS",
    "SECONDARY_DOCS",
    "FakeHubServer",
]

RATE_DOCS = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
SECONDARY_DOCS = (
    "https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api"
    "#about-secondary-rate-limits"
)
REASONS = {500: "Server Error", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Timeout"}


class FakeHubServer(ThreadingHTTPServer):
    """A threading HTTP server bound to 127.0.0.1 that carries the hub's context."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, port: int, ctx_factory: Any) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.ctx: HubContext = ctx_factory(f"http://127.0.0.1:{self.server_address[1]}")
        self.api_router: Router = build_api_router()
        self.control_router: Router = build_control_router()
        self._connections: set[socket.socket] = set()
        self._conn_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._conn_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._conn_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up mid-answer is normal (resets, killed git); anything else is a
        bug worth a traceback on stderr."""
        exc = sys.exc_info()[1]
        if isinstance(exc, ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)

    def close_connections(self) -> None:
        """End idle keep-alive connections, so a stopped hub answers nobody."""
        with self._conn_lock:
            connections = list(self._connections)
            self._connections.clear()
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    @property
    def port(self) -> int:
        return int(self.server_address[1])


def _etag(body: bytes, link: str | None) -> str:
    digest = hashlib.sha256(body)
    if link:
        digest.update(link.encode())
    return f'W/"{digest.hexdigest()}"'


def _etag_matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    bare = etag.removeprefix("W/")
    for candidate in header.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == bare:
            return True
    return False


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "GitHub.com"
    sys_version = ""
    server: FakeHubServer

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the request log (control API) is where traffic is recorded."""

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PATCH = do_PUT = do_DELETE = do_HEAD = do_GET

    # ---------------------------------------------------------------- plumbing

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            parts: list[bytes] = []
            while True:
                size = int(self.rfile.readline(1024).split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline(1024)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, response: Response, extra: dict[str, str]) -> None:
        self.send_response(response.status)
        headers = {**extra, **response.headers}
        for name, value in headers.items():
            self.send_header(name, value)
        if response.status != 304:
            self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD" and response.status != 304 and response.body:
            self.wfile.write(response.body)

    def _drop_connection(self, kind: str) -> None:
        """No response at all: ``reset`` closes with RST (what a dropped connection looks like),
        ``close`` with FIN (a server or proxy that hung up: "empty reply from server")."""
        self.close_connection = True
        try:
            if kind == "reset":
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
                self.connection.close()
            else:
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _log(
        self, split_path: str, query: str, status: int | None, started: float, **more: Any
    ) -> None:
        self.server.ctx.log.add(
            {
                "time": time.time(),
                "method": self.command,
                "path": split_path,
                "query": query,
                "status": status,
                "headers": redact_headers(dict(self.headers.items())),
                "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                **more,
            }
        )

    # ---------------------------------------------------------------- dispatch

    def _dispatch(self) -> None:
        started = time.perf_counter()
        parts = urlsplit(self.path)
        path, query = parts.path or "/", parts.query
        ctx = self.server.ctx
        if path == PREFIX or path.startswith(PREFIX + "/"):
            self._control(path, query)
            return
        delay, fault = ctx.faults.take(self.command, path, query)
        if delay:
            time.sleep(delay / 1000)
        is_git = bool(GIT_PATH.match(path)) and not path.startswith("/repos/")
        if fault is not None and fault.kind in DROPS:
            if fault.kind == "close":
                self._read_body()  # unread bytes would turn the close into a reset
            self._log(path, query, None, started, fault=fault.kind)
            self._drop_connection(fault.kind)
            return
        if is_git:
            if fault is not None:
                self.close_connection = True
                self._log(path, query, fault.status, started, fault=fault.kind)
                self._send(self._fault_response(fault), {"Connection": "close"})
                return
            self._git(path, query, started)
            return
        body = self._read_body()
        if fault is not None:
            self._log(path, query, fault.status, started, fault=fault.kind)
            self._send(self._fault_response(fault), self._common_headers(count=True))
            return
        request = Request(self.command, path, query, self.headers, body)  # type: ignore[arg-type]
        response, counted = self._api(request)
        after: Fault | None = None
        if response.status < 400:
            delay, after = ctx.faults.take_after(self.command, path, query)
            if delay:
                time.sleep(delay / 1000)
        if after is not None:
            self._after_fault(after, path, query, started, response.status)
            return
        # logged before the answer goes out: a client that counts requests from the log right
        # after its answer must find this one there
        self._log(path, query, response.status, started)
        self._send(response, self._common_headers(count=counted))

    def _git(self, path: str, query: str, started: float) -> None:
        """Git smart HTTP; with an ``after`` fault armed, the answer is held back until the CGI
        is done (refs updated), then sent, dropped or replaced."""
        ctx = self.server.ctx
        held = ctx.faults.armed_after(self.command, path, query)
        sink: Any = io.BytesIO() if held else self.wfile
        head: list[tuple[int, list[tuple[str, str]]]] = []

        def hold(status: int, headers: list[tuple[str, str]]) -> None:
            head.append((status, headers))

        result = serve_git(
            ctx.store,
            method=self.command,
            path=path,
            query=query,
            headers=self.headers,  # type: ignore[arg-type]
            rfile=self.rfile,  # type: ignore[arg-type]
            wfile=sink,
            start_response=hold if held else self._start_git_response,
        )
        if held:
            after: Fault | None = None
            if result.status < 400:
                delay, after = ctx.faults.take_after(self.command, path, query)
                if delay:
                    time.sleep(delay / 1000)
            if after is not None:
                self.close_connection = True
                self._after_fault(after, path, query, started, result.status, git=True)
                return
            if head:
                self._start_git_response(*head[0])
            self.wfile.write(sink.getvalue())
        self._log(path, query, result.status, started, git=True)

    def _after_fault(
        self,
        fault: Fault,
        path: str,
        query: str,
        started: float,
        handled: int,
        *,
        git: bool = False,
    ) -> None:
        """The request ran (answer ``handled``); what the client gets instead of its answer."""
        more: dict[str, Any] = {
            "fault": fault.kind,
            "fault_when": "after",
            "handled_status": handled,
        }
        if git:
            more["git"] = True
        if fault.kind in DROPS:
            self._log(path, query, None, started, **more)
            self._drop_connection(fault.kind)
            return
        self._log(path, query, fault.status, started, **more)
        if git:
            self._send(self._fault_response(fault), {"Connection": "close"})
        else:
            self._send(self._fault_response(fault), self._common_headers(count=True))

    def _start_git_response(self, status: int, headers: list[tuple[str, str]]) -> None:
        if self.command == "POST" and not any(n.lower() == "connection" for n, _ in headers):
            # The CGI may stop reading early; never reuse a connection with body bytes left.
            headers = [*headers, ("Connection", "close")]
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        if any(name.lower() == "connection" and value == "close" for name, value in headers):
            self.close_connection = True
        self.end_headers()

    def _common_headers(self, *, count: bool) -> dict[str, str]:
        return {
            "Cache-Control": "private, max-age=60, s-maxage=60",
            "Vary": "Accept, Authorization, Cookie, X-GitHub-OTP",
            "X-OAuth-Scopes": "repo, read:org",
            "X-Accepted-OAuth-Scopes": "repo",
            "X-GitHub-Api-Version-Selected": "2022-11-28",
            **self.server.ctx.rate.headers(count=count),
            "Access-Control-Expose-Headers": (
                "ETag, Link, Location, Retry-After, X-GitHub-OTP, X-RateLimit-Limit, "
                "X-RateLimit-Remaining, X-RateLimit-Used, X-RateLimit-Resource, "
                "X-RateLimit-Reset, X-OAuth-Scopes, X-Accepted-OAuth-Scopes, X-Poll-Interval, "
                "X-GitHub-Media-Type, X-GitHub-SSO, X-GitHub-Request-Id, Deprecation, Sunset"
            ),
            "X-Content-Type-Options": "nosniff",
            "X-GitHub-Request-Id": uuid.uuid4().hex[:20].upper(),
        }

    def _api(self, request: Request) -> tuple[Response, bool]:
        """Route an API request; returns the response and whether it counts against the limit."""
        ctx = self.server.ctx
        if token_from_header(request.header("Authorization")) is None:
            message = (
                "Bad credentials"
                if request.header("Authorization")
                else ("Requires authentication")
            )
            return self._error(ApiError(401, message)), True
        found = self.server.api_router.route(request.method, request.path)
        if found is None:
            return self._error(ApiError(404, "Not Found")), True
        handler, request.params = found
        try:
            response = handler(ctx, request)
        except ApiError as exc:
            return self._error(exc), True
        except Exception as exc:  # pragma: no cover - a bug; answer like GitHub's 500
            return self._error(ApiError(500, f"Server Error: {type(exc).__name__}: {exc}")), True
        response.headers.setdefault("X-GitHub-Media-Type", response.media_type)
        response.headers["Content-Type"] = response.content_type
        if response.status == 200:
            etag = _etag(response.body, response.headers.get("Link"))
            response.headers["ETag"] = etag
            if request.method in {"GET", "HEAD"} and _etag_matches(
                request.header("If-None-Match"), etag
            ):
                return Response(
                    status=304,
                    headers={
                        "ETag": etag,
                        **{k: v for k, v in response.headers.items() if k == "Link"},
                    },
                ), False
        return response, True

    @staticmethod
    def _error(exc: ApiError) -> Response:
        headers = {"X-GitHub-Media-Type": "github.v3; format=json", **exc.headers}
        headers["Content-Type"] = "application/json; charset=utf-8"
        return Response(status=exc.status, body=dumps(exc.body()), headers=headers)

    def _fault_response(self, fault: Fault) -> Response:
        ctx = self.server.ctx
        status = int(fault.status or 500)
        request_id = uuid.uuid4().hex[:20].upper()
        headers: dict[str, str] = {"Content-Type": "application/json; charset=utf-8"}
        if fault.kind == "primary_rate_limit":
            reset = ctx.clock.now_int() + fault.reset_in
            headers.update(ctx.rate.exhausted_headers(reset))
            body: Any = {
                "message": "API rate limit exceeded for user ID 1. If you reach out to GitHub "
                f"Support for help, please include the request ID {request_id}.",
                "documentation_url": RATE_DOCS,
                "status": str(status),
            }
        elif fault.kind == "secondary_rate_limit":
            if fault.retry_after is not None:
                headers["Retry-After"] = str(fault.retry_after)
            body = {
                "message": "You have exceeded a secondary rate limit. Please wait a few minutes "
                "before you try again. If you reach out to GitHub Support for help, please "
                f"include the request ID {request_id}.",
                "documentation_url": SECONDARY_DOCS,
                "status": str(status),
            }
        else:
            body = {
                "message": REASONS.get(status, "Server Error"),
                "documentation_url": "https://docs.github.com/rest",
                "status": str(status),
            }
        if fault.body is not None:
            body = fault.body
        raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        return Response(status=status, body=raw, headers=headers)

    def _control(self, path: str, query: str) -> None:
        ctx = self.server.ctx
        body = self._read_body()
        request = Request(self.command, path, query, self.headers, body)  # type: ignore[arg-type]
        found = self.server.control_router.route(self.command, path)
        if found is None:
            response = self._error(ApiError(404, "Not Found"))
        else:
            handler, request.params = found
            try:
                response = handler(ctx, request)
            except ApiError as exc:
                response = self._error(exc)
            except Exception as exc:
                response = self._error(ApiError(500, f"{type(exc).__name__}: {exc}"))
        response.headers.setdefault("Content-Type", response.content_type)
        self._send(response, {})
