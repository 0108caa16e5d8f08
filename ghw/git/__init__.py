"""Git for ghw (§4.3): one bare mirror per repository, one ``clone --shared`` workspace per issue,
tokens only in the environment of ghw's own git calls, pushes of ``ghw/…`` branches only.

    mirror = Mirror(issues_path / o / r, "o/r", token_provider)
    await mirror.ensure(repo["clone_url"])
    ws = Workspace(issues_path / o / r / str(n) / "workspace", mirror, keep=cfg.keep_workspace)
    await ws.prepare(default_branch, issue_branch(n))
    ...agent runs in ws.path...
    sha = await ws.commit_all(message, cfg.git_author)   # None: no change at all
    await ws.push(issue_branch(n), repo["clone_url"], token)
    await ws.remove()
"""

from __future__ import annotations

from ghw.git.audit import scrub_check
from ghw.git.auth import base_env, check_remote_url, redact, secret_forms
from ghw.git.errors import (
    GitAuthError,
    GitError,
    GitLockTimeoutError,
    GitTimeoutError,
    PushRejectedError,
    UnsafeNameError,
)
from ghw.git.mirror import KEEP_LEASE, Mirror, TokenProvider
from ghw.git.names import (
    check_branch,
    check_ref_name,
    check_repo_name,
    issue_branch,
    parse_author,
)
from ghw.git.runner import Git, GitResult
from ghw.git.workspace import START_REF, Workspace

__all__ = [
    "KEEP_LEASE",
    "START_REF",
    "Git",
    "GitAuthError",
    "GitError",
    "GitLockTimeoutError",
    "GitResult",
    "GitTimeoutError",
    "Mirror",
    "PushRejectedError",
    "TokenProvider",
    "UnsafeNameError",
    "Workspace",
    "base_env",
    "check_branch",
    "check_ref_name",
    "check_remote_url",
    "check_repo_name",
    "issue_branch",
    "parse_author",
    "redact",
    "scrub_check",
    "secret_forms",
]
