"""Acceptance 4: agents run side by side; the phase's wall time is about one agent's time."""

from __future__ import annotations

import time
from datetime import datetime

from phases_kit import Rig, make_repo, mark_planned, payloads

from ghw.fakehub import FakeHub


def _ts(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


async def test_eight_one_second_agents_at_parallelism_eight_finish_in_under_six_seconds(
    tmp_path, hub: FakeHub
) -> None:
    numbers = make_repo(hub, "load/eight", 8)
    rig = Rig(tmp_path, hub, repo="load/eight")
    rig.configure(**{"agents.scripted.script": None})  # the default behaviour: GHW_SCRIPTED.md
    rig.configure(**{"agents.scripted.delay": "1s", "implement.parallelism": 8})
    result, out = await rig.run("sync")
    assert result.ok, out
    await mark_planned(rig, numbers)
    hub.control.clear_requests()

    started = time.monotonic()
    result, out = await rig.run("implement")
    elapsed = time.monotonic() - started
    assert result.ok, out
    assert result.phases[0].counts == {"completed": 8}
    assert elapsed < 6.0, f"8 issues x 1 s at parallelism 8 took {elapsed:.2f} s"
    assert len(rig.pulls()) == 8
    # the mirror was fetched once for the whole phase, not once per step behind its lock
    requests = hub.control.requests()
    fetches = [r for r in requests if "service=git-upload-pack" in (r["query"] or "")]
    pushes = [r for r in requests if "service=git-receive-pack" in (r["query"] or "")]
    assert (len(fetches), len(pushes)) == (1, 8)

    # each agent really took its second, and all eight ran at the same time
    spans = []
    for n in numbers:
        events = await rig.history(n)
        [completed] = payloads(events, "ImplementCompleted")
        assert completed["duration_s"] >= 1.0
        [started_event] = [e for e in events if e.type == "ImplementStarted"]
        spans.append((_ts(started_event.ts), _ts(started_event.ts) + completed["duration_s"]))
    assert max(s for s, _ in spans) < min(e for _, e in spans), spans
