"""Named points where a test can make ghw die at once (``GHW_CRASH_AT=name``), as ``kill -9``
would, to prove that no effect is lost or repeated across a crash. Off unless the variable is set
in ghw's environment; never set by ghw itself.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Mapping

__all__ = ["POINTS", "crashpoint"]

POINTS = (
    "after_push",  # the branch is pushed and BranchPushed recorded; no PR call yet
    "after_pr_call",  # GitHub created the PR; PullRequestOpened not recorded yet
    "after_comment_call",  # GitHub posted the review comment; CommentPosted not recorded yet
)


def crashpoint(environ: Mapping[str, str], name: str) -> None:
    wanted = environ.get("GHW_CRASH_AT", "")
    if wanted and name in wanted.split(","):
        os.kill(os.getpid(), signal.SIGKILL)
