"""``ghw loop --cron EXPR``: when the next cycle starts (croniter; missed times are skipped)."""

from __future__ import annotations

from datetime import UTC, datetime

from ghw.errors import UsageError

__all__ = ["CronSchedule"]

_EXAMPLES = "e.g. '*/15 * * * *' (every 15 minutes) or '0 2 * * 1-5' (02:00 on weekdays)"
_FORMS = f"use five fields, minute hour day month weekday, {_EXAMPLES}"


class CronSchedule:
    def __init__(self, expression: str) -> None:
        # start-up: croniter is loaded only by a loop with --cron
        from croniter import croniter

        if not croniter.is_valid(expression):
            raise UsageError(f"invalid cron expression {expression!r}: {_FORMS}")
        self.expression = expression
        # a valid expression may still name no real date ('0 0 31 2 *': February 31st): the
        # loop would find no time to start its next cycle, so refuse it before any work
        self.next_after(datetime.now(UTC))

    def next_after(self, moment: datetime) -> datetime:
        """The first matching time strictly after ``moment`` (so times missed while a cycle ran
        are skipped, not queued)."""
        # start-up: croniter is loaded only by a loop with --cron
        from croniter import CroniterError, croniter

        base = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        try:
            return croniter(self.expression, base).get_next(datetime)
        except (CroniterError, OverflowError, ValueError):
            raise UsageError(
                f"the cron expression {self.expression!r} never matches: no time after "
                f"{base.strftime('%Y-%m-%d %H:%M')} UTC fits it (a day its month never has, "
                f"such as 31 February?); use one that names real times, {_EXAMPLES}"
            ) from None
