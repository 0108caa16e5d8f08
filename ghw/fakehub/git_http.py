"""Git over smart HTTP: ``{base}/{owner}/{repo}.git`` bridged to ``git http-backend`` (CGI).

The request body is fed to the CGI process by its own thread (de-chunked when the client sends
``Transfer-Encoding: chunked``, as git does for large pushes) while this thread streams the CGI's
output back as a chunked response, so neither side can fill a pipe and wait on the other: large
packs never deadlock. Credentials are required as on GitHub: HTTP Basic with a non-empty password,
or a ``Bearer``/``token`` header; otherwise ``401`` with ``WWW-Authenticate: Basic realm="GitHub"``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
from collections.abc import Callable, Mapping
from typing import BinaryIO

from ghw.fakehub.auth import token_from_header
from ghw.fakehub.gitrepo import git_env
from ghw.fakehub.store import Store

__all__ = [
    "CHUNK",
    "GIT_PATH",
    "GitHttpResult",
    "serve_git",
]

GIT_PATH = re.compile(
    r"^/(?P<owner>[^/]+)/(?P<repo>[^/]+?)(?:\.git)?"
    r"(?P<rest>/(?:info/refs|git-upload-pack|git-receive-pack|HEAD|objects/.+))$"
)
CHUNK = 64 * 1024


class GitHttpResult:
    """What happened, for the request log."""

    def __init__(self, status: int, detail: str = "") -> None:
        self.status = status
        self.detail = detail


def _copy_body(headers: Mapping[str, str], rfile: BinaryIO, sink: BinaryIO) -> None:
    """Copy the request body (Content-Length or chunked) into the CGI's stdin, then close it."""
    try:
        if "chunked" in (headers.get("Transfer-Encoding") or "").lower():
            while True:
                line = rfile.readline(1024)
                if not line:
                    break
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    # Trailer section up to the empty line.
                    while rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                remaining = size
                while remaining:
                    data = rfile.read(min(CHUNK, remaining))
                    if not data:
                        return
                    sink.write(data)
                    remaining -= len(data)
                rfile.readline(1024)  # CRLF after the chunk
        else:
            remaining = int(headers.get("Content-Length") or 0)
            while remaining > 0:
                data = rfile.read(min(CHUNK, remaining))
                if not data:
                    break
                sink.write(data)
                remaining -= len(data)
    except (BrokenPipeError, ConnectionError, ValueError):
        pass
    finally:
        try:
            sink.close()
        except OSError:
            pass


def _drain(stream: BinaryIO, out: list[bytes]) -> None:
    for line in iter(lambda: stream.readline(4096), b""):
        if sum(len(x) for x in out) < 16_384:
            out.append(line)


def serve_git(
    store: Store,
    *,
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    rfile: BinaryIO,
    wfile: BinaryIO,
    start_response: Callable[[int, list[tuple[str, str]]], None],
) -> GitHttpResult:
    """Answer one smart-HTTP request; ``start_response`` sends the status line and headers."""
    match = GIT_PATH.match(path)
    repo = store.repo(match["owner"], match["repo"]) if match else None
    if match is None or repo is None:
        body = b"Repository not found.\n"
        start_response(404, [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
        wfile.write(body)
        return GitHttpResult(404)
    user = token_from_header(headers.get("Authorization"))
    if user is None:
        body = b"Authentication required\n"
        start_response(
            401,
            [
                ("WWW-Authenticate", 'Basic realm="GitHub"'),
                ("Content-Type", "text/plain"),
                ("Content-Length", str(len(body))),
                ("Connection", "close"),
            ],
        )
        wfile.write(body)
        return GitHttpResult(401)
    env = git_env(
        {
            "GIT_PROJECT_ROOT": str(store.git_root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "PATH_INFO": f"/{repo.owner}/{repo.name}.git{match['rest']}",
            "REQUEST_METHOD": method,
            "QUERY_STRING": query,
            "REMOTE_USER": user.login or "git",
            "REMOTE_ADDR": "127.0.0.1",
            "GATEWAY_INTERFACE": "CGI/1.1",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "CONTENT_TYPE": headers.get("Content-Type") or "",
        }
    )
    if (
        headers.get("Content-Length")
        and "chunked" not in (headers.get("Transfer-Encoding") or "").lower()
    ):
        env["CONTENT_LENGTH"] = headers["Content-Length"]
    for name, value in headers.items():
        lowered = name.lower()
        if lowered in {"authorization", "content-type", "content-length"}:
            continue
        env["HTTP_" + name.upper().replace("-", "_")] = value
    # A push moves branches; PRs whose head moved are "synchronized" (updated_at) afterwards.
    pushing = method == "POST" and match["rest"].endswith("git-receive-pack")
    before = store.git(repo).branches() if pushing else None
    git = shutil.which("git") or "git"
    proc = subprocess.Popen(
        [git, "http-backend"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert proc.stdin and proc.stdout and proc.stderr
    errors: list[bytes] = []
    feeder = threading.Thread(
        target=_copy_body, args=(headers, rfile, proc.stdin), name="git-http-body", daemon=True
    )
    drainer = threading.Thread(
        target=_drain, args=(proc.stderr, errors), name="git-http-stderr", daemon=True
    )
    feeder.start()
    drainer.start()
    status = 200
    cgi_headers: list[tuple[str, str]] = []
    try:
        while True:
            line = proc.stdout.readline(8192)
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").rstrip("\r\n").partition(":")
            if name.lower() == "status":
                status = int(value.strip().split(" ", 1)[0])
            else:
                cgi_headers.append((name.strip(), value.strip()))
        cgi_headers.append(("Transfer-Encoding", "chunked"))
        start_response(status, cgi_headers)
        while True:
            data = proc.stdout.read1(CHUNK)
            if not data:
                break
            wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        wfile.write(b"0\r\n\r\n")
    finally:
        proc.stdout.close()
        feeder.join(timeout=30)
        proc.wait()
        drainer.join(timeout=5)
        if before is not None:
            after = store.git(repo).branches()
            moved = {b for b in before.keys() | after.keys() if before.get(b) != after.get(b)}
            store.touch_pulls_with_heads(repo, moved)
    return GitHttpResult(status, b"".join(errors).decode(errors="replace")[:2000])
