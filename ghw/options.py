"""The one place the run options are validated — the filters (``--repo``, ``--since``,
``--issue``, ``--label``), ``--phases``, ``--parallelism``, ``--max-cycles`` and the loop's
schedule (``--every`` / ``--cron``) — for the CLI and the Python API alike, so a bad value gets
the same clear message (and exit 2) whichever way it came in."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ghw.durations import MAX_INTERVAL, format_duration, parse_interval
from ghw.errors import InvalidDurationError, UsageError
from ghw.refs import MAX_ISSUE_NUMBER, parse_issue_numbers, validate_repo_or_pattern
from ghw.schedule import CronSchedule

__all__ = [
    "IssueSpec",
    "Schedule",
    "issue_numbers",
    "listed",
    "max_cycles",
    "parallelism",
    "phases",
    "repos",
    "schedule",
    "since",
]

IssueSpec = int | tuple[int, int]


def listed(value: Any, name: str, *, split: str | None = None) -> list[Any]:
    """A sequence argument of the Python API; a lone string (or number) is one item, not a
    sequence of characters (``repos="octocat/hello"``, ``phases="sync,plan"``)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [p.strip() for p in value.split(split) if p.strip()] if split else [value]
    if isinstance(value, int):
        return [value]
    try:
        return list(value)
    except TypeError:
        raise UsageError(f"{name} must be a list, got {value!r}") from None


def repos(value: Any) -> tuple[str, ...]:
    """``--repo``: owner/name or owner/*, each once."""
    return tuple(dict.fromkeys(validate_repo_or_pattern(r) for r in listed(value, "repos")))


def since(value: str | datetime | None) -> str | None:
    """``--since``: ISO-8601, as UTC ``YYYY-MM-DDTHH:MM:SSZ``."""
    if value is None:
        return None
    if isinstance(value, datetime):
        dt = value if value.tzinfo else value.replace(tzinfo=UTC)
        return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    text = value.strip()
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"invalid since (--since) {value!r}: use ISO-8601, e.g. 2024-01-01T00:00:00Z or "
            "2024-01-01"
        ) from None
    return since(dt)


def _issue_number(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise UsageError(f"invalid issue number {value!r} in issue_numbers (--issue)")
    if not 1 <= value <= MAX_ISSUE_NUMBER:
        raise UsageError(
            f"issue number {value} in issue_numbers (--issue) is out of range: issue "
            f"numbers are 1 to {MAX_ISSUE_NUMBER}"
        )
    return value


def issue_numbers(value: Any) -> tuple[IssueSpec, ...]:
    """``--issue``: numbers and ``N-M`` ranges (texts, ints or ``(low, high)`` pairs)."""
    out: list[IssueSpec] = []
    texts: list[str] = []
    for item in listed(value, "issue_numbers"):
        if isinstance(item, tuple) and len(item) == 2:
            low, high = _issue_number(item[0]), _issue_number(item[1])
            if low > high:
                raise UsageError(f"issue range {low}-{high} in issue_numbers (--issue) is empty")
            out.append((low, high))
        elif isinstance(item, int):
            out.append(_issue_number(item))
        elif isinstance(item, str):
            texts.append(item)
        else:
            raise UsageError(f"invalid issue number {item!r} in issue_numbers (--issue)")
    return tuple(out + parse_issue_numbers(texts))


def phases(value: Any, known: Sequence[str]) -> tuple[str, ...]:
    """``--phases``: a subset of ``known``, always in workflow order; none given is all."""
    given = tuple(listed(value, "phases", split=",")) or tuple(known)
    unknown = [p for p in given if p not in known]
    if unknown:
        raise UsageError(f"unknown phase(s) {', '.join(unknown)}: choose from {', '.join(known)}")
    return tuple(p for p in known if p in given)


def _positive_int(value: Any, what: str) -> int | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise UsageError(f"{what} must be an integer ≥ 1, got {value!r}")
    return value


def parallelism(value: Any) -> int | None:
    return _positive_int(value, "parallelism (--parallelism)")


def max_cycles(value: Any) -> int | None:
    return _positive_int(value, "max_cycles (--max-cycles)")


@dataclass(frozen=True)
class Schedule:
    """When the loop starts its cycles: ``interval`` seconds after each one ends, or at the
    times ``cron`` matches."""

    text: str  # as given, for the "Frequency:" line and the logs
    interval: float | None = None
    cron: CronSchedule | None = None


def schedule(
    every: str | timedelta | None,
    cron: str | None,
    *,
    names: tuple[str, str] = ("--every", "--cron"),
) -> Schedule:
    """Exactly one of ``every`` (a duration > 0, at most ten years) and ``cron`` (a cron
    expression). ``names`` says what the caller called them (the flags, or the Python API's
    arguments)."""
    every_name, cron_name = names
    if (every is None) == (cron is None):
        raise UsageError(
            f"exactly one of {every_name} DURATION (e.g. 30m) or {cron_name} EXPR "
            "(e.g. '*/15 * * * *') is needed"
        )
    if cron is not None:
        return Schedule(text=cron, cron=CronSchedule(cron))
    if isinstance(every, timedelta):
        if every <= timedelta(0):
            raise UsageError(f"{every_name} must be greater than 0, got {every}")
        if every > MAX_INTERVAL:
            raise InvalidDurationError(
                f"{every_name} {every} is too long: the longest wait between cycles is "
                f"{format_duration(MAX_INTERVAL)} (ten years); use e.g. 30m, 1h, 1d or 7d"
            )
        return Schedule(text=format_duration(every), interval=every.total_seconds())
    assert every is not None
    return Schedule(text=every, interval=parse_interval(every, every_name).total_seconds())
