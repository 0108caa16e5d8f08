"""10,000 issues: seeded in one call, synced page by page fast enough for the sync benchmark."""

from __future__ import annotations

import time

import httpx

from ghw.fakehub import FakeHub


def test_ten_thousand_issues_seed_and_page_quickly(hub: FakeHub, api: httpx.Client) -> None:
    started = time.perf_counter()
    numbers = hub.control.bulk_create_issues(
        "demo/calc",
        [{"title": f"Issue {n}", "body": "text " * 40, "labels": ["bug"]} for n in range(10_000)],
    )
    assert numbers[0] == 5 and numbers[-1] == 10_004
    assert time.perf_counter() - started < 5
    hub.control.clear_requests()
    url: str | None = "/repos/demo/calc/issues?state=all&per_page=100&sort=updated&direction=asc"
    seen = 0
    while url:
        response = api.get(url)
        seen += len(response.json())
        url = response.links.get("next", {}).get("url")
    assert seen == 10_004
    durations = sorted(e["duration_ms"] for e in hub.control.requests())
    assert len(durations) == 101
    median = durations[len(durations) // 2]
    assert median < 20, durations  # a page of 100 is served in a few ms
