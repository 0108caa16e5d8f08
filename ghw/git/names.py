"""Pure checks of the names ghw hands to git.

Branch names reach git's command line, so anything that git could read as an option, a path, a
revision expression or a different ref is refused here, before any process starts. The rules
are those of ``git check-ref-format --branch`` (re-implemented, so no process is needed), plus
ghw's own: only ``ghw/…`` branches are ever pushed, and they use a small, boring alphabet.
"""

from __future__ import annotations

import re

from ghw.errors import UsageError
from ghw.git.errors import UnsafeNameError
from ghw.refs import validate_repo

__all__ = [
    "GHW_PREFIX",
    "check_branch",
    "check_ref_name",
    "check_repo_name",
    "issue_branch",
    "parse_author",
]

GHW_PREFIX = "ghw/"

# Characters git forbids anywhere in a ref name (check-ref-format rules 4 and 5, plus '\').
_FORBIDDEN_CHARS = frozenset(" ~^:?*[\\")
# What ghw's own branches may contain: nothing a shell, a URL or a path could misread.
_GHW_BRANCH = re.compile(r"ghw/[A-Za-z0-9][A-Za-z0-9._/-]*")


def _problem(name: str) -> str | None:
    """Why ``name`` is not a valid branch name for ``git check-ref-format --branch``, or None."""
    if not isinstance(name, str) or not name:
        return "it is empty"
    if name.startswith("-"):
        return "it starts with '-' and would be read as an option"
    if name in ("@", "HEAD"):
        return f"{name!r} is reserved"
    if name.startswith("refs/"):
        # A branch name is a short name; refs/… would let a caller address any ref (tags, notes).
        return "give the short branch name, not a refs/… path"
    for ch in name:
        if ord(ch) < 0x20 or ord(ch) == 0x7F:
            return "it contains a control character"
        if ch in _FORBIDDEN_CHARS:
            return f"it contains {ch!r}"
    if ".." in name:
        return "it contains '..'"
    if "@{" in name:
        return "it contains '@{'"
    if name.startswith("/") or name.endswith("/"):
        return "it starts or ends with '/'"
    if "//" in name:
        return "it contains '//'"
    if name.endswith("."):
        return "it ends with '.'"
    for component in name.split("/"):
        if component.startswith("."):
            return f"component {component!r} starts with '.'"
        if component.endswith(".lock"):
            return f"component {component!r} ends with '.lock'"
    return None


def check_ref_name(name: str) -> str:
    """``name`` when it is a safe branch name (any prefix), else :class:`UnsafeNameError`.

    Used for base branches such as the repository's default branch, which come from the API.
    """
    problem = _problem(name)
    if problem:
        raise UnsafeNameError(f"refusing branch name {name!r}: {problem}")
    return name


def check_branch(name: str) -> str:
    """``name`` when ghw may push it (a safe ``ghw/…`` branch), else :class:`UnsafeNameError`."""
    check_ref_name(name)
    if not name.startswith(GHW_PREFIX):
        raise UnsafeNameError(f"refusing to push {name!r}: ghw pushes only {GHW_PREFIX}… branches")
    if not _GHW_BRANCH.fullmatch(name):
        raise UnsafeNameError(
            f"refusing to push {name!r}: ghw branches hold only letters, digits, '.', '_', '-', '/'"
        )
    return name


def check_repo_name(name: str) -> str:
    """``owner/name`` (the rules of :func:`ghw.refs.validate_repo`), else UnsafeNameError."""
    try:
        return validate_repo(name)
    except UsageError as exc:
        raise UnsafeNameError(str(exc)) from exc


def issue_branch(number: int, gen: int | None = None) -> str:
    """``ghw/issue-N`` for the first branch of an issue; ``ghw/issue-N-<gen>`` for gen ≥ 2.

    A new generation is used after ``ghw retry`` of an issue whose PR was closed or merged, so the
    old branch (and its PR) is never reused.
    """
    if isinstance(number, bool) or not isinstance(number, int) or number <= 0:
        raise UnsafeNameError(f"issue number must be a positive integer, not {number!r}")
    if gen is None or gen == 1:
        return f"{GHW_PREFIX}issue-{number}"
    if isinstance(gen, bool) or not isinstance(gen, int) or gen < 1:
        raise UnsafeNameError(f"branch generation must be a positive integer, not {gen!r}")
    return f"{GHW_PREFIX}issue-{number}-{gen}"


_AUTHOR = re.compile(r"\s*([^<>]*?)\s*<([^<>\s]+)>\s*")


def parse_author(author: str) -> tuple[str, str]:
    """``git.author`` (``"Name <email>"``) → ``(name, email)``, or UnsafeNameError."""
    m = _AUTHOR.fullmatch(author or "")
    controls = any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in author or "")
    if not m or controls or not m.group(1).strip():
        raise UnsafeNameError(
            f"git.author {author!r} is not of the form 'Name <email>', e.g. 'ghw <ghw@localhost>'"
        )
    return m.group(1).strip(), m.group(2)
