"""Duration strings such as ``30m`` or ``1h30m`` (§7)."""

from __future__ import annotations

import re
from datetime import timedelta

from ghw.errors import InvalidDurationError

__all__ = [
    "ACCEPTED_FORMS",
    "MAX_INTERVAL",
    "format_duration",
    "parse_duration",
    "parse_interval",
]

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
        raise InvalidDurationError(f"invalid duration {_short(s)}: use {ACCEPTED_FORMS}")
    try:
        days, hours, minutes, seconds = (int(g) if g else 0 for g in match.groups())
        return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    except (OverflowError, ValueError):
        # more days than a timedelta holds (999999999), or more digits than int() reads
        raise InvalidDurationError(
            f"invalid duration {_short(s)}: too long to represent; use {ACCEPTED_FORMS}"
        ) from None


# The longest wait between cycles `ghw loop --every` accepts: ten years is already no schedule,
# and a longer one would put the next start past what a datetime holds (year 9999).
MAX_INTERVAL = timedelta(days=3650)


def parse_interval(s: str, what: str = "--every") -> timedelta:
    """A wait between cycles: a duration greater than 0 and at most :data:`MAX_INTERVAL`.

    Raises InvalidDurationError (a ValueError) saying what is wrong and what to give instead."""
    try:
        interval = parse_duration(s)
    except InvalidDurationError as exc:
        raise InvalidDurationError(f"{what}: {exc.message}") from None
    if interval <= timedelta(0):
        raise InvalidDurationError(
            f"{what} must be greater than 0, got {s!r}: use a duration greater than 0 such as "
            "45s, 10m, 30m, 1h, 2h, 1d, 7d, 1h30m, 2d12h (units d h m s, each at most once, "
            "in that order)"
        )
    if interval > MAX_INTERVAL:
        raise InvalidDurationError(
            f"{what} {_short(s)} is too long: the longest wait between cycles is "
            f"{format_duration(MAX_INTERVAL)} (ten years); use e.g. 30m, 1h, 1d or 7d"
        )
    return interval


def _short(s: str) -> str:
    text = repr(s)
    return text if len(text) <= 40 else text[:30] + "…" + text[-8:]


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
