"""``followup.max_age``: one check decides both that a PR is no longer watched and that a round
waiting on it is held."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from ghw.machine.view import IssueView
from ghw.phases.revise import revise_guard
from ghw.phases.watch import is_watched, past_max_age

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
CONFIG = {
    "followup.enabled": True,
    "followup.max_age": timedelta(days=14),
    "followup.max_rounds": 3,
}


def _view(opened: str) -> IssueView:
    return IssueView("o/r#1", "o/r", 1, "changes_requested", pr_number=7, pr_opened_ts=opened)


def test_a_pr_older_than_max_age_is_neither_watched_nor_revised() -> None:
    old = _view("2026-11-18T11:59:59.000000Z")  # 14 days and a second
    young = _view("2026-11-18T12:00:01.000000Z")
    ctx = SimpleNamespace(config=CONFIG, clock=lambda: NOW)
    assert past_max_age(old, CONFIG, NOW) and not is_watched(old, CONFIG, NOW)
    assert revise_guard(ctx, old) == (  # type: ignore[arg-type]
        "max_age: PR opened 2026-11-18T11:59:59.000000Z, more than 14d ago"
    )
    assert not past_max_age(young, CONFIG, NOW) and is_watched(young, CONFIG, NOW)
    assert revise_guard(ctx, young) is None  # type: ignore[arg-type]
    assert is_watched(_view(""), CONFIG, NOW)  # opened before ghw recorded when: no limit
