"""Duration strings such as ``30m`` or ``1h30m`` (§7)."""

from __future__ import annotations

import re
from datetime import timedelta

from ghw.errors import InvalidDurationError

__all__ = ["format_duration", "parse_duration"]

ACCEPTED_FORMS = "45s, 10m, 30m, 1h, 2h, 1d, 7d, 1h30m, 2d12h, 0s (units d h m s, each at most once, in that order)"

_PATTERN = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")


def parse_duration(s: str) -> timedelta:
    """Parse ``45s``, ``10m``, ``1h30m``, ``2d12h``… into a timedelta.

    Raises ValueError (an InvalidDurationError) naming the accepted forms for anything else.
    """
    if not isinstance(s, str):
        raise InvalidDurationError(
            f"invalid duration {s!r}: expected a string such as {ACCEPTED_FORMS}"
        )
    text = s.strip()
    match = _PATTERN.fullmatch(text)
    if not text or match is None or not any(match.groups()):
        raise InvalidDurationError(f"invalid duration {s!r}: use {ACCEPTED_FORMS}")
    days, hours, minutes, seconds = (int(g) if g else 0 for g in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def format_duration(td: timedelta) -> str:
    """The shortest string parse_duration reads back as ``td`` (whole seconds)."""
    total = int(td.total_seconds())
    if total <= 0:
        return "0s"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        value, total = divmod(total, size)
        if value:
            parts.append(f"{value}{unit}")
    return "".join(parts)
