"""Read models <-> table rows, and which fold serves which stream. Pure: no SQL runs here."""

from __future__ import annotations

import json
from collections.abc import Sequence
from operator import attrgetter
from typing import Any

from ghw.machine.fold import (
    CycleView,
    LoopView,
    RepoView,
    apply,
    apply_cycle,
    apply_loop,
    apply_repo,
    stream_kind,
)
from ghw.machine.states import FAILED
from ghw.machine.view import VIEW_FIELDS, IssueView

__all__ = [
    "APPLIERS",
    "CYCLE_COLUMNS",
    "FROM_ROW",
    "ISSUE_COLUMNS",
    "LOOP_COLUMNS",
    "PROJECTION_TABLES",
    "REPO_COLUMNS",
    "cycle_from_row",
    "cycle_row",
    "issue_from_row",
    "issue_row",
    "loop_from_row",
    "loop_row",
    "ready_at",
    "repo_from_row",
    "repo_row",
    "row_for",
    "stream_kind",
    "table_for",
]

ISSUE_COLUMNS: tuple[str, ...] = (*VIEW_FIELDS, "ready_at")
REPO_COLUMNS = (
    "stream_id",
    "version",
    "registered",
    "cursor",
    "etag",
    "last_sync",
    "rate_wait_until",
    "last_seq",
)
CYCLE_COLUMNS = (
    "stream_id",
    "version",
    "number",
    "started",
    "ended",
    "ok",
    "counts",
    "errors",
    "cost_usd",
    "last_seq",
    "interrupted",
    "holder",
)
LOOP_COLUMNS = ("stream_id", "version", "held", "reason", "since", "last_seq")

# kind -> (table, columns)
PROJECTION_TABLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "issue": ("issues", ISSUE_COLUMNS),
    "repo": ("repos", REPO_COLUMNS),
    "cycle": ("cycles", CYCLE_COLUMNS),
    "loop": ("loop_state", LOOP_COLUMNS),
}

APPLIERS: dict[str, Any] = {
    "issue": apply,
    "repo": apply_repo,
    "cycle": apply_cycle,
    "loop": apply_loop,
}


def table_for(stream_id: str) -> tuple[str, str, tuple[str, ...]]:
    kind = stream_kind(stream_id)
    table, columns = PROJECTION_TABLES[kind]
    return kind, table, columns


def ready_at(view: IssueView) -> str | None:
    """'' = claimable now, an ISO time = from then, None = only after ``ghw retry``."""
    if view.state in FAILED:
        return view.next_retry_at
    return view.next_retry_at or ""


_VIEW_VALUES = attrgetter(*VIEW_FIELDS)
_LIST_FIELDS = frozenset({"labels", "feedback_waiting"})
_LISTS_AT = tuple(VIEW_FIELDS.index(name) for name in sorted(_LIST_FIELDS))


def issue_row(view: IssueView) -> tuple[Any, ...]:
    # sqlite3 stores a bool as the integer it is; only the lists need a text form (the
    # stdlib's, with its spaces: stored projections are compared with rebuilt ones)
    values = list(_VIEW_VALUES(view))
    for at in _LISTS_AT:
        items = values[at]
        values[at] = json.dumps(items, ensure_ascii=False) if items else "[]"
    values.append(ready_at(view))
    return tuple(values)


_BOOL_FIELDS = frozenset({"eligible", "changed_since_plan"})


def issue_from_row(row: Sequence[Any]) -> IssueView:
    kwargs: dict[str, Any] = {}
    for name, value in zip(VIEW_FIELDS, row, strict=False):
        if name in _LIST_FIELDS:
            value = json.loads(value)
        elif name in _BOOL_FIELDS:
            value = bool(value)
        kwargs[name] = value
    return IssueView(**kwargs)


def repo_row(view: RepoView) -> tuple[Any, ...]:
    return (
        view.stream_id,
        view.version,
        int(view.registered),
        view.cursor,
        view.etag,
        view.last_sync,
        view.rate_wait_until,
        view.last_seq,
    )


def repo_from_row(row: Sequence[Any]) -> RepoView:
    return RepoView(
        stream_id=row[0],
        version=row[1],
        registered=bool(row[2]),
        cursor=row[3],
        etag=row[4],
        last_sync=row[5],
        rate_wait_until=row[6],
        last_seq=row[7],
    )


def cycle_row(view: CycleView) -> tuple[Any, ...]:
    return (
        view.stream_id,
        view.version,
        view.number,
        view.started,
        view.ended,
        None if view.ok is None else int(view.ok),
        json.dumps(view.counts, sort_keys=True),
        json.dumps(view.errors),
        view.cost_usd,
        view.last_seq,
        int(view.interrupted),
        json.dumps(view.holder, sort_keys=True),
    )


def cycle_from_row(row: Sequence[Any]) -> CycleView:
    return CycleView(
        stream_id=row[0],
        version=row[1],
        number=row[2],
        started=row[3],
        ended=row[4],
        ok=None if row[5] is None else bool(row[5]),
        counts=json.loads(row[6]),
        errors=json.loads(row[7]),
        cost_usd=row[8],
        last_seq=row[9],
        interrupted=bool(row[10]),
        holder=json.loads(row[11]),
    )


def loop_row(view: LoopView) -> tuple[Any, ...]:
    return (view.stream_id, view.version, int(view.held), view.reason, view.since, view.last_seq)


def loop_from_row(row: Sequence[Any]) -> LoopView:
    return LoopView(
        stream_id=row[0],
        version=row[1],
        held=bool(row[2]),
        reason=row[3],
        since=row[4],
        last_seq=row[5],
    )


_TO_ROW = {"issue": issue_row, "repo": repo_row, "cycle": cycle_row, "loop": loop_row}
FROM_ROW = {
    "issue": issue_from_row,
    "repo": repo_from_row,
    "cycle": cycle_from_row,
    "loop": loop_from_row,
}


def row_for(kind: str, view: Any) -> tuple[Any, ...]:
    return _TO_ROW[kind](view)
