"""The environment of ghw's own git calls, and the only way a token reaches git.

The token goes into git through ``GIT_CONFIG_COUNT``/``GIT_CONFIG_KEY_n``/``GIT_CONFIG_VALUE_n``
as ``http.<remote-url>.extraHeader: Authorization: Basic …``: command-line-level configuration
that lives only in the environment of that one process. It is never in a URL (git would store it
in ``remote.origin.url`` and in ``FETCH_HEAD``), never in a config file, never in argv (visible in
``ps``), and never in an agent's environment (agents get their own, see ``ghw.agents``). Scoping
the header to the remote's URL prefix means a redirect or a submodule elsewhere never sees it.

The base environment is rebuilt from nothing rather than copied from ghw's, so ``GITHUB_TOKEN``,
``GIT_TRACE*``/``GIT_CURL_VERBOSE`` (which would print the header), ``GIT_DIR`` and
``GIT_ASKPASS`` never leak into git.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from ghw.git.errors import UnsafeNameError

__all__ = [
    "PASSTHROUGH_VARS",
    "SAFETY_CONFIG",
    "Secret",
    "auth_config",
    "base_env",
    "basic_auth_header",
    "check_remote_url",
    "config_env",
    "redact",
    "reveal",
    "secret_forms",
]


class _Revealable(Protocol):
    def reveal(self) -> str: ...


# A token as a plain string or as an object that hides it (``ghw.github.auth.Token``).
Secret = str | _Revealable

# Inherited from ghw's environment. PATH/HOME/LANG are what git needs to run; proxy and CA
# settings are what a corporate network needs to reach GitHub at all.
PASSTHROUGH_VARS: tuple[str, ...] = (
    "PATH",
    "HOME",
    "LANG",
    "LC_ALL",
    "TMPDIR",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
)

# Command-line-level configuration for every call. It overrides anything a repository's own
# config says, which matters because a workspace's .git/config is writable by the agent: no
# hooks, no fsmonitor program, no credential helper, no signing prompt, no background gc (a gc in
# the mirror could prune objects that workspaces borrow through --shared).
SAFETY_CONFIG: tuple[tuple[str, str], ...] = (
    ("core.hooksPath", "/dev/null"),
    ("core.fsmonitor", "false"),
    ("core.askPass", ""),
    ("credential.helper", ""),
    ("commit.gpgSign", "false"),
    ("tag.gpgSign", "false"),
    ("gc.auto", "0"),
    ("maintenance.auto", "false"),
    ("fetch.recurseSubmodules", "false"),
    ("submodule.recurse", "false"),
    ("advice.detachedHead", "false"),
    ("init.defaultBranch", "main"),
)


def reveal(token: Secret | None) -> str | None:
    if token is None:
        return None
    value = token if isinstance(token, str) else token.reveal()
    value = value.strip()
    return value or None


def basic_auth_header(token: str) -> str:
    """``Authorization: Basic base64(x-access-token:TOKEN)``: what GitHub accepts for HTTPS git."""
    raw = base64.b64encode(f"x-access-token:{token}".encode()).decode("ascii")
    return f"Authorization: Basic {raw}"


def secret_forms(token: str | None) -> list[str]:
    """Every form in which ``token`` could show up in git's output or on disk."""
    if not token:
        return []
    encoded = base64.b64encode(f"x-access-token:{token}".encode()).decode("ascii")
    return [token, encoded, base64.b64encode(token.encode()).decode("ascii")]


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret (longest first, so no fragment survives) replaced by ``***``."""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def check_remote_url(url: str) -> str:
    """A remote URL git may be given: http(s) or file, no credentials, nothing option-like.

    Credentials in a URL would be written into ``remote.origin.url`` and ``FETCH_HEAD``, so a URL
    that carries any is refused rather than silently cleaned.
    """
    if not isinstance(url, str) or not url or url.startswith("-"):
        raise UnsafeNameError("refusing remote URL: empty or starting with '-'")
    if any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in url):
        raise UnsafeNameError("refusing remote URL: it contains spaces or control characters")
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http", "file"):
        raise UnsafeNameError(
            f"refusing remote URL with scheme {parts.scheme!r}: only https, http and file"
        )
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise UnsafeNameError(
            "refusing remote URL that carries credentials; ghw passes them itself"
        )
    if parts.scheme != "file" and not parts.hostname:
        raise UnsafeNameError("refusing remote URL without a host")
    return url


def auth_config(url: str, token: str | None) -> list[tuple[str, str]]:
    """The extraHeader setting for ``token``, scoped to ``url`` (none without a token)."""
    if not token:
        return []
    return [(f"http.{url}.extraHeader", basic_auth_header(token))]


def config_env(pairs: Sequence[tuple[str, str]]) -> dict[str, str]:
    """``GIT_CONFIG_COUNT``/``KEY_n``/``VALUE_n`` for ``pairs``."""
    env = {"GIT_CONFIG_COUNT": str(len(pairs))}
    for i, (key, value) in enumerate(pairs):
        env[f"GIT_CONFIG_KEY_{i}"] = key
        env[f"GIT_CONFIG_VALUE_{i}"] = value
    return env


def base_env(
    environ: Mapping[str, str],
    global_config: Path,
    extra_config: Sequence[tuple[str, str]] = (),
) -> dict[str, str]:
    """The whole environment of one ghw git call.

    ``global_config`` is a ghw-owned (empty) file, so the user's ~/.gitconfig (aliases,
    ``url.insteadOf``, credential helpers) cannot change what ghw's git calls do.
    """
    env = {k: environ[k] for k in PASSTHROUGH_VARS if k in environ}
    env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    env.update(
        {
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": str(global_config),
            # ext:: and other transports can run programs; ghw only talks http(s) and local paths.
            "GIT_ALLOW_PROTOCOL": "https:http:file",
            "GCM_INTERACTIVE": "never",
            # A workspace's refs/replace/* and info/grafts (agent-writable) could make ghw see
            # a different history than the one it pushes; ghw's git ignores both.
            "GIT_NO_REPLACE_OBJECTS": "1",
            "GIT_GRAFT_FILE": os.devnull,
        }
    )
    env.update(config_env([*SAFETY_CONFIG, *extra_config]))
    return env
