"""A test-only smart-HTTP git server on 127.0.0.1 that requires a token, like GitHub.

``git http-backend`` runs as CGI for every request. Requests without ``Authorization: Basic``
whose password is the token get ``401`` with ``WWW-Authenticate: Basic realm="GitHub"``.
Every request is recorded (method, path, whether it was authorised) for assertions.
"""

from __future__ import annotations

import base64
import os
import subprocess
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit


@dataclass
class Seen:
    method: str
    path: str
    authorised: bool
    user: str | None


@dataclass
class GitHttpServer:
    project_root: Path
    token: str
    requests: list[Seen] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, repo: str) -> str:
        return f"{self.base_url}/{repo}.git"

    def start(self) -> GitHttpServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                self._handle()

            def do_POST(self) -> None:
                self._handle()

            def _user(self) -> tuple[bool, str | None]:
                header = self.headers.get("Authorization", "")
                if not header.startswith("Basic "):
                    return False, None
                try:
                    user, _, password = base64.b64decode(header[6:]).decode().partition(":")
                except ValueError:
                    return False, None
                return password == server.token, user

            def _body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    chunks = []
                    while True:
                        size = int(self.rfile.readline().strip().split(b";")[0], 16)
                        if size == 0:
                            self.rfile.readline()
                            break
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                    return b"".join(chunks)
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _handle(self) -> None:
                ok, user = self._user()
                parts = urlsplit(self.path)
                server.requests.append(Seen(self.command, parts.path, ok, user))
                body = self._body() if self.command == "POST" else b""
                if not ok:
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="GitHub"')
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                env = {
                    "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                    "GIT_PROJECT_ROOT": str(server.project_root),
                    "GIT_HTTP_EXPORT_ALL": "1",
                    "GIT_CONFIG_NOSYSTEM": "1",
                    "REQUEST_METHOD": self.command,
                    "PATH_INFO": parts.path,
                    "QUERY_STRING": parts.query,
                    "CONTENT_TYPE": self.headers.get("Content-Type", ""),
                    "CONTENT_LENGTH": str(len(body)),
                    "REMOTE_USER": user or "",
                    "REMOTE_ADDR": "127.0.0.1",
                    "GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
                    "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding", ""),
                }
                out = subprocess.run(
                    ["git", "http-backend"], input=body, env=env, capture_output=True, check=False
                ).stdout
                head, _, payload = out.partition(b"\r\n\r\n")
                if not _:
                    head, _, payload = out.partition(b"\n\n")
                status = 200
                headers: list[tuple[str, str]] = []
                for line in head.decode("latin-1").splitlines():
                    name, _, value = line.partition(":")
                    if name.lower() == "status":
                        status = int(value.strip().split()[0])
                    elif name:
                        headers.append((name, value.strip()))
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


def make_bare_repo(
    project_root: Path, repo: str, files: dict[str, str], branch: str = "main"
) -> Path:
    """A bare repository at ``<root>/<repo>.git`` with one commit of ``files``; pushes allowed."""
    bare = project_root / f"{repo}.git"
    bare.parent.mkdir(parents=True, exist_ok=True)
    env = plain_git_env(project_root)
    subprocess.run(["git", "init", "--bare", "-q", "-b", branch, str(bare)], check=True, env=env)
    subprocess.run(
        ["git", f"--git-dir={bare}", "config", "http.receivepack", "true"], check=True, env=env
    )
    commit_files(bare, files, branch, "initial", env)
    return bare


def plain_git_env(home: Path) -> dict[str, str]:
    """An environment for the test's own git calls (not ghw's): no user config."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_AUTHOR_NAME": "Test",
        "GIT_AUTHOR_EMAIL": "test@example.com",
        "GIT_COMMITTER_NAME": "Test",
        "GIT_COMMITTER_EMAIL": "test@example.com",
    }


def commit_files(
    bare: Path, files: dict[str, str], branch: str, message: str, env: dict[str, str]
) -> str:
    """Commit ``files`` on top of ``branch`` of ``bare`` directly (as another pusher would)."""
    idx = bare.parent / f".{bare.name}.index"
    genv = {**env, "GIT_DIR": str(bare), "GIT_INDEX_FILE": str(idx)}
    parent = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}"],
        env=genv,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    if parent:
        subprocess.run(["git", "read-tree", parent], env=genv, check=True)
    else:
        subprocess.run(["git", "read-tree", "--empty"], env=genv, check=True)
    for name, content in files.items():
        blob = subprocess.run(
            ["git", "hash-object", "-w", "--stdin"],
            input=content,
            env=genv,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        subprocess.run(
            ["git", "update-index", "--add", "--cacheinfo", f"100644,{blob},{name}"],
            env=genv,
            check=True,
        )
    tree = subprocess.run(
        ["git", "write-tree"], env=genv, capture_output=True, text=True, check=True
    ).stdout.strip()
    args = ["git", "commit-tree", tree, "-m", message] + (["-p", parent] if parent else [])
    sha = subprocess.run(args, env=genv, capture_output=True, text=True, check=True).stdout.strip()
    subprocess.run(["git", "update-ref", f"refs/heads/{branch}", sha], env=genv, check=True)
    idx.unlink(missing_ok=True)
    return sha


def ref_sha(bare: Path, ref: str) -> str | None:
    out = subprocess.run(
        ["git", f"--git-dir={bare}", "rev-parse", "--verify", "--quiet", ref],
        capture_output=True,
        text=True,
        check=False,
        env=plain_git_env(bare.parent),
    )
    return out.stdout.strip() or None
