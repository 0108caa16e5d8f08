"""Rebuild projections from events alone, or prove the stored ones match (§3).

Like Temporal's replayer: run the recorded history through today's fold and fail on any
difference. ``verify`` also checks the hash chain, seq continuity and per-stream versions, and
names the first bad seq.
"""

from __future__ import annotations

import time
from typing import Any

from ghw.ledger.folder import Folder
from ghw.ledger.projection import PROJECTION_TABLES
from ghw.ledger.records import ReplayReport
from ghw.ledger.store import Ledger

__all__ = ["Folder", "replay"]


async def replay(
    ledger: Ledger, *, verify: bool = False, until: int | None = None, write: bool = True
) -> ReplayReport:
    """Fold every event (up to ``until``).

    * ``verify``: check chain and projections, write nothing;
    * ``until``: show the state as of that seq, write nothing;
    * otherwise rebuild the projections and swap them in (unless ``write`` is False).
    """
    started = time.perf_counter()
    report = ReplayReport(until=until, verified=None)
    folder = Folder(verify=verify)
    async for rows in ledger.read_raw(0, until):
        folder.feed(rows)
    report.events = folder.events
    report.streams = len(folder.views)
    rebuilt = folder.rows()
    if verify and until is None:
        for kind in PROJECTION_TABLES:
            stored = await ledger.projection_rows(kind)
            _compare(kind, rebuilt[kind], stored, folder.flag)
    if verify:
        report.verified = folder.bad is None
        if folder.bad is not None:
            report.first_bad_seq, report.problem = folder.bad
    elif until is None and write:
        await ledger.replace_projections(rebuilt)
    report.issues = [
        {"issue": sid, "state": v.state, "version": v.version}
        for sid, v in sorted(folder.views.items())
        if folder.kinds[sid] == "issue"
    ]
    report.seconds = round(time.perf_counter() - started, 6)
    return report


def _compare(
    kind: str,
    rebuilt: list[tuple[Any, ...]],
    stored: list[tuple[Any, ...]],
    flag: Any,
) -> None:
    table, columns = PROJECTION_TABLES[kind]
    want = {r[0]: r for r in rebuilt}
    have = {r[0]: r for r in stored}
    seq_col = columns.index("last_seq")
    for sid in sorted(want.keys() | have.keys()):
        a, b = want.get(sid), have.get(sid)
        if a == b:
            continue
        if a is None:
            flag(b[seq_col], f"{table}: {sid} has a stored row but no events")  # type: ignore[index]
            continue
        if b is None:
            flag(a[seq_col], f"{table}: {sid} is missing from the projection")
            continue
        diff = [c for c, x, y in zip(columns, a, b, strict=True) if x != y]
        flag(a[seq_col], f"{table}: {sid} differs from its events in {', '.join(diff)}")
