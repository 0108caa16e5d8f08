"""What /proc says about a process: one place for the leases (dead holders) and the agents
(process groups). A pid together with its start time names one process for good."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["process_start_time", "stat_fields"]


def stat_fields(pid: int) -> list[str] | None:
    """Fields 3.. of /proc/<pid>/stat (after the parenthesised command name)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return None
    # comm may contain spaces and parentheses; it ends at the last ')'.
    return raw[raw.rfind(b")") + 2 :].decode("ascii", errors="replace").split()


def process_start_time(pid: int) -> float | None:
    """Start time of ``pid`` in seconds after boot (field 22 of /proc/<pid>/stat), or None."""
    fields = stat_fields(pid)
    if fields is None or len(fields) < 20:
        return None
    return int(fields[19]) / os.sysconf("SC_CLK_TCK")
