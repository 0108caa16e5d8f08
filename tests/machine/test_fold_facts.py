"""The fold keeps the facts an eligibility decision was made from (issue 13, item 2)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ghw.machine.fold import fold


@dataclass
class E:
    type: str
    payload: dict[str, Any] = field(default_factory=dict)
    stream_id: str = "o/r#1"
    seq: int = 0
    version: int = 0
    ts: str = "2026-12-01T00:00:00.000000Z"


def _history(*events: E) -> list[E]:
    for i, e in enumerate(events, 1):
        e.seq = e.version = i
    return list(events)


def test_eligibility_changed_records_its_facts_in_the_view() -> None:
    view = fold(
        _history(
            E(
                "IssueSynced",
                {"title": "t", "association": "MEMBER", "labels": ["a"], "eligible": True},
            ),
            E(
                "EligibilityChanged",
                {"eligible": False, "reason": "untrusted", "association": "NONE", "labels": ["b"]},
            ),
        )
    )
    assert view is not None
    assert (view.state, view.association, view.labels) == ("skipped", "NONE", ["b"])


def test_older_events_without_facts_keep_the_view_as_it_was() -> None:
    view = fold(
        _history(
            E(
                "IssueSynced",
                {"title": "t", "association": "MEMBER", "labels": ["a"], "eligible": True},
            ),
            E("EligibilityChanged", {"eligible": False, "reason": "policy"}),
            E("IssueClosed", {}),
            E(
                "IssueReopened",
                {"eligible": False, "reason": "policy", "association": "CONTRIBUTOR"},
            ),
        )
    )
    assert view is not None
    assert (view.state, view.association, view.labels) == ("skipped", "CONTRIBUTOR", ["a"])
