"""Two `ghw sync` processes at once on one ledger file (issue 13, item 9): both exit 0 and each
fact is appended once. fakehub holds the first listing back, so the second process writes first
and the first one appends on top of it (the order is fixed, not left to chance)."""

from __future__ import annotations

import collections
import time

from phases_kit import Rig


async def test_two_sync_processes_at_once_both_succeed_and_write_each_fact_once(rig: Rig) -> None:
    rig.hub.control.delay("/repos/demo/calc/issues", 2000, method="GET", count=1)
    first = rig.spawn("sync")
    deadline = time.monotonic() + 30
    while rig.hub.control.faults():  # until the first process's listing met the delay
        assert time.monotonic() < deadline and first.poll() is None
        time.sleep(0.05)
    second = rig.ghw("sync")
    stdout, stderr = first.communicate(timeout=60)
    assert second.returncode == 0, second.stdout + second.stderr
    assert first.returncode == 0, stdout + stderr
    assert "demo/calc: 4 issues seen, new 4, skipped 1" in second.stdout
    assert "demo/calc: 4 issues seen, no change" in stdout  # the facts were there already

    events = collections.Counter((e.stream_id, e.type) for e in await rig.all_events())
    issue_events = {k: v for k, v in events.items() if "#" in k[0]}
    assert issue_events == {(f"demo/calc#{n}", "IssueSynced"): 1 for n in (1, 2, 3, 4)}
    assert events[("demo/calc", "RepositorySynced")] == 2
