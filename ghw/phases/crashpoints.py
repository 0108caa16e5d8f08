"""Named points where a test can make ghw die at once (``GHW_CRASH_AT=name``), as ``kill -9``
would, to prove that no effect is lost or repeated across a crash; ``name:raise`` raises
:class:`CrashPointError` there instead, a stand-in for a bug (to prove that a crash's traceback
shows no secret). Off unless the variable is set in ghw's environment; never set by ghw itself.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Mapping

__all__ = ["POINTS", "CrashPointError", "crashpoint"]

POINTS = (
    "after_push",  # the branch is pushed and BranchPushed recorded; no PR call yet
    "after_pr_call",  # GitHub created the PR; PullRequestOpened not recorded yet
    "after_comment_call",  # GitHub posted the review comment; CommentPosted not recorded yet
    "after_revision_push",  # a revision round is pushed and BranchPushed recorded; no reply yet
    "after_reply_call",  # GitHub posted the round's reply; CommentPosted not recorded yet
    "phase_start",  # an agent phase begins, before any claim
)


class CrashPointError(RuntimeError):
    """Raised at a crash point named with ``:raise`` (not a GhwError: it stands for a bug)."""


def crashpoint(environ: Mapping[str, str], name: str) -> None:
    wanted = environ.get("GHW_CRASH_AT", "")
    if not wanted:
        return
    points = wanted.split(",")
    if f"{name}:raise" in points:
        raise CrashPointError(f"crash point {name} (GHW_CRASH_AT)")
    if name in points:
        os.kill(os.getpid(), signal.SIGKILL)
