"""Repository names, repository patterns and issue references, checked before any use.

Names reach git and URLs, so anything that could be read as an option or a path (a leading
``-``, ``..``, control characters, slashes in the wrong place) is refused here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlparse

from ghw.errors import InvalidIssueRefError, UsageError

__all__ = [
    "IssueRef",
    "is_pattern",
    "parse_issue_numbers",
    "parse_issue_ref",
    "validate_repo",
    "validate_repo_or_pattern",
]

_OWNER = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})")
_REPO = re.compile(r"[A-Za-z0-9_.][A-Za-z0-9_.-]{0,99}")


def validate_repo(name: str) -> str:
    """``owner/name`` or UsageError (exit 2) saying what is wrong."""
    owner, sep, repo = name.partition("/")
    problem = None
    if not sep or "/" in repo:
        problem = "expected exactly one '/' between owner and name"
    elif not _OWNER.fullmatch(owner):
        problem = f"owner {owner!r} may hold only letters, digits and '-', not first"
    elif not _REPO.fullmatch(repo) or repo in (".", "..") or ".." in repo:
        problem = f"name {repo!r} may hold only letters, digits, '-', '_' and '.', and no '..'"
    elif repo.endswith(".git"):
        problem = "leave out the .git suffix"
    if problem:
        raise UsageError(
            f"malformed repository name {name!r}: {problem}. Use owner/name, e.g. octocat/hello-world."
        )
    return name


def is_pattern(name: str) -> bool:
    return name.endswith("/*")


def validate_repo_or_pattern(name: str) -> str:
    if is_pattern(name):
        owner = name[:-2]
        if not _OWNER.fullmatch(owner):
            raise UsageError(
                f"malformed repository pattern {name!r}: use owner/* with a valid owner name."
            )
        return name
    return validate_repo(name)


@dataclass(frozen=True)
class IssueRef:
    repo: str
    number: int

    @property
    def stream_id(self) -> str:
        return f"{self.repo}#{self.number}"

    def __str__(self) -> str:
        return self.stream_id


def parse_issue_ref(text: str, repo: str | None = None) -> IssueRef:
    """``owner/repo#42``, an issue or PR URL, or ``42`` / ``#42`` with ``repo``."""
    text = text.strip()
    usage = (
        f"invalid issue {text!r}: use owner/repo#42, an issue URL "
        "(https://github.com/owner/repo/issues/42), or 42 with --repo owner/repo"
    )
    m = re.fullmatch(r"#?(\d+)", text)
    if m:
        if repo is None:
            raise InvalidIssueRefError(f"{usage}; a bare number needs --repo")
        return IssueRef(validate_repo(repo), int(m.group(1)))
    m = re.fullmatch(r"([^#\s]+/[^#\s]+)#(\d+)", text)
    if m:
        return IssueRef(validate_repo(m.group(1)), int(m.group(2)))
    if text.startswith(("http://", "https://")):
        parts = [p for p in urlparse(text).path.split("/") if p]
        for i in range(len(parts) - 3, -1, -1):
            if parts[i + 2] in ("issues", "pull") and parts[i + 3].isdigit():
                return IssueRef(validate_repo(f"{parts[i]}/{parts[i + 1]}"), int(parts[i + 3]))
    raise InvalidIssueRefError(usage)


def parse_issue_numbers(values: list[str]) -> list[int | tuple[int, int]]:
    """``--issue 42`` / ``--issue 10-20`` (repeatable) -> numbers and inclusive ranges."""
    out: list[int | tuple[int, int]] = []
    for value in values:
        for part in str(value).split(","):
            part = part.strip().lstrip("#")
            m = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
            if not m:
                raise UsageError(f"invalid --issue {value!r}: use a number (42) or a range (10-20)")
            lo = int(m.group(1))
            if m.group(2) is None:
                out.append(lo)
                continue
            hi = int(m.group(2))
            if hi < lo:
                raise UsageError(f"invalid --issue range {part!r}: the end is before the start")
            out.append((lo, hi))
    return out
