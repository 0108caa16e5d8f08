"""The prompt templates (``plan.md``, ``implement.md``, ``review.md``) and how GitHub text goes in.

Everything that comes from GitHub — an issue's title, labels, body, its author's login and
association, comments and their authors, a pull request's title, body and diff — is data. The
templates put it between ghw's markers (``<<<ISSUE …`` / ``ISSUE>>>``, ``<<<COMMENT by …`` /
``COMMENT>>>``, ``<<<PULL REQUEST …`` / ``PULL REQUEST>>>``, ``<<<DIFF`` / ``DIFF>>>``), and every
piece goes through :func:`quote` first, so that no text can close a block early or open one
"by" somebody else.

A marker is ``<<<`` before a word or ``>>>`` after one. :func:`quote` breaks up every such run of
angle brackets (``<<<ISSUE`` becomes ``< < <ISSUE``), whatever the word and its case, so the
markers of a custom template are covered too, and spaces, tabs or invisible characters between
the brackets and the word do not hide one. Angle brackets elsewhere (a doctest's ``>>> x``, a
shell's ``cat <<< "$x"``) are left alone. With ``line=True`` (a title, a login, labels) line breaks
become spaces, so a field cannot add lines of its own to a block's header.
"""

from __future__ import annotations

import re

__all__ = ["quote"]

# what may stand between a marker's brackets and its word without hiding it
_GAP = r"[ \t\u00a0\u1680\u2000-\u200f\u202f\u205f\u2060\u3000\ufeff]*"
_OPENING = re.compile(rf"<{{3,}}(?={_GAP}\w)")
_CLOSING = re.compile(rf"(?<=\w)({_GAP})(>{{3,}})")
_LINE_BREAKS = re.compile(r"\r\n|[\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")


def _spaced(brackets: str) -> str:
    return " ".join(brackets)


def quote(text: str | None, *, line: bool = False) -> str:
    """``text`` (GitHub's, so data) made safe to put between ghw's markers in a prompt."""
    out = text or ""
    if line:
        out = _LINE_BREAKS.sub(" ", out)
    out = _OPENING.sub(lambda m: _spaced(m.group()), out)
    return _CLOSING.sub(lambda m: m.group(1) + _spaced(m.group(2)), out)
