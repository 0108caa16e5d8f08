"""§12: a GitHub item's feedback is recorded once per issue; a second append of the same
(source, github_id) is refused in its transaction and writes nothing."""

from __future__ import annotations

import pytest
from ledger_helpers import synced

from ghw.errors import DuplicateFeedbackError
from ghw.ledger.store import Ledger
from ghw.machine import events as ev


def _review(github_id: str, *, source: str = "review", actionable: bool = True) -> ev.Event:
    return ev.FeedbackReceived(
        source=source,
        github_id=github_id,
        author="alice",
        association="MEMBER",
        actionable=actionable,
    )


async def test_the_same_item_is_recorded_once(tmp_path) -> None:
    async with await Ledger.open(tmp_path / "ghw.db") as ledger:
        await ledger.append("o/r#1", 0, [synced()])
        await ledger.append("o/r#1", None, [_review("11")])
        before = await ledger.history("o/r#1")
        with pytest.raises(DuplicateFeedbackError, match="already recorded"):
            await ledger.append("o/r#1", None, [_review("11", actionable=False)])
        assert await ledger.history("o/r#1") == before  # nothing written
        # another item, the same id from another source, the same item on another issue: fine
        await ledger.append("o/r#1", None, [_review("12")])
        await ledger.append("o/r#1", None, [_review("11", source="comment")])
        await ledger.append("o/r#2", 0, [synced(number=2)])
        await ledger.append("o/r#2", None, [_review("11")])
        view = await ledger.issue("o/r#1")
        assert view is not None
        assert view.feedback_waiting == ["review:11", "review:12", "comment:11"]


async def test_a_duplicate_in_one_batch_refuses_the_whole_batch(tmp_path) -> None:
    async with await Ledger.open(tmp_path / "ghw.db") as ledger:
        await ledger.append("o/r#1", 0, [synced()])
        with pytest.raises(DuplicateFeedbackError):
            await ledger.append("o/r#1", None, [_review("7"), _review("7")])
        assert [e.type for e in await ledger.history("o/r#1")] == ["IssueSynced"]
