"""``ghw loop --cron EXPR``: when the next cycle starts (croniter; missed times are skipped)."""

from __future__ import annotations

from datetime import UTC, datetime

from ghw.errors import UsageError

__all__ = ["CronSchedule"]


class CronSchedule:
    def __init__(self, expression: str) -> None:
        from croniter import croniter

        if not croniter.is_valid(expression):
            raise UsageError(
                f"invalid cron expression {expression!r}: use five fields, minute hour day month "
                "weekday, e.g. '*/15 * * * *' (every 15 minutes) or '0 2 * * 1-5' (02:00 on weekdays)"
            )
        self.expression = expression

    def next_after(self, moment: datetime) -> datetime:
        """The first matching time strictly after ``moment`` (so times missed while a cycle ran
        are skipped, not queued)."""
        from croniter import croniter

        base = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        return croniter(self.expression, base).get_next(datetime)
