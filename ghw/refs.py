"""Repository names, repository patterns and issue references, checked before any use.

Names reach git and URLs, so anything that could be read as an option or a path (a leading
``-``, ``..``, control characters, slashes in the wrong place) is refused here.

GitHub's owner and repository names are case-insensitive, so every name comes back lower-cased:
``Demo/Calc``, ``demo/calc#1`` and ``https://github.com/DEMO/calc/issues/1`` name the same
streams in the ledger (ADR 0005). Issue numbers must fit SQLite's integer (at most 2**63-1).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlparse

from ghw.errors import InvalidIssueRefError, UsageError

__all__ = [
    "MAX_ISSUE_NUMBER",
    "IssueRef",
    "is_pattern",
    "parse_issue_numbers",
    "parse_issue_ref",
    "validate_repo",
    "validate_repo_or_pattern",
]

_OWNER = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})")
_REPO = re.compile(r"[A-Za-z0-9_.][A-Za-z0-9_.-]{0,99}")

# the largest integer SQLite stores (and so the largest issue number or seq ghw can look up)
MAX_ISSUE_NUMBER = 2**63 - 1


def validate_repo(name: str) -> str:
    """``owner/name`` lower-cased, or UsageError (exit 2) saying what is wrong."""
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
    return name.lower()


def is_pattern(name: str) -> bool:
    return name.endswith("/*")


def validate_repo_or_pattern(name: str) -> str:
    """``owner/name`` or ``owner/*``, lower-cased, or UsageError (exit 2)."""
    if is_pattern(name):
        owner = name[:-2]
        if not _OWNER.fullmatch(owner):
            raise UsageError(
                f"malformed repository pattern {name!r}: use owner/* with a valid owner name."
            )
        return name.lower()
    return validate_repo(name)


def _too_big(digits: str) -> bool:
    # the length check first: int() refuses strings of more than 4300 digits
    return len(digits.lstrip("0")) > 19 or int(digits) > MAX_ISSUE_NUMBER


def _number(digits: str, text: str) -> int:
    if _too_big(digits):
        raise InvalidIssueRefError(
            f"invalid issue number in {text!r}: {digits} is larger than any issue number can be "
            f"(at most {MAX_ISSUE_NUMBER}); give the number GitHub shows for the issue"
        )
    return int(digits)


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
    """``owner/repo#42``, an issue or PR URL, or ``42`` / ``#42`` with ``repo``; the repository
    comes back lower-cased."""
    text = text.strip()
    usage = (
        f"invalid issue {text!r}: use owner/repo#42, an issue URL "
        "(https://github.com/owner/repo/issues/42), or 42 with --repo owner/repo"
    )
    m = re.fullmatch(r"#?([0-9]+)", text)
    if m:
        if repo is None:
            raise InvalidIssueRefError(f"{usage}; a bare number needs --repo")
        return IssueRef(validate_repo(repo), _number(m.group(1), text))
    m = re.fullmatch(r"([^#\s]+/[^#\s]+)#([0-9]+)", text)
    if m:
        return IssueRef(validate_repo(m.group(1)), _number(m.group(2), text))
    if text.startswith(("http://", "https://")):
        parts = [p for p in urlparse(text).path.split("/") if p]
        for i in range(len(parts) - 3, -1, -1):
            if parts[i + 2] in ("issues", "pull") and re.fullmatch(r"[0-9]+", parts[i + 3]):
                return IssueRef(
                    validate_repo(f"{parts[i]}/{parts[i + 1]}"), _number(parts[i + 3], text)
                )
    raise InvalidIssueRefError(usage)


def parse_issue_numbers(values: list[str]) -> list[int | tuple[int, int]]:
    """``--issue 42`` / ``--issue 10-20`` (repeatable) -> numbers and inclusive ranges."""
    out: list[int | tuple[int, int]] = []
    for value in values:
        for part in str(value).split(","):
            part = part.strip().lstrip("#")
            m = re.fullmatch(r"([0-9]+)(?:-([0-9]+))?", part)
            if not m:
                raise UsageError(f"invalid --issue {value!r}: use a number (42) or a range (10-20)")
            for digits in m.groups():
                if digits is not None and _too_big(digits):
                    raise UsageError(
                        f"invalid --issue {value!r}: {digits} is larger than any issue number can "
                        f"be (at most {MAX_ISSUE_NUMBER}); use a number (42) or a range (10-20)"
                    )
            lo = int(m.group(1))
            if m.group(2) is None:
                out.append(lo)
                continue
            hi = int(m.group(2))
            if hi < lo:
                raise UsageError(f"invalid --issue range {part!r}: the end is before the start")
            out.append((lo, hi))
    return out
