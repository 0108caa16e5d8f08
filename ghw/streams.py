"""The process's output streams when their reader has gone (``ghw … | head -1``)."""

from __future__ import annotations

import os
from typing import Any

__all__ = ["silence_stream"]


def silence_stream(stream: Any) -> None:
    """Point a closed pipe's file descriptor at /dev/null, so nothing written later (and not
    the interpreter's final flush) raises BrokenPipeError again. A stream without a file
    descriptor (a StringIO in tests) is left alone."""
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)
