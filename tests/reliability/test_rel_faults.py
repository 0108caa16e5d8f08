"""Fault injection through fakehub's control API during full `ghw cycle` runs: 5xx bursts,
connection resets, latency, primary and secondary rate limits, on the API and on git. The cycles
finish (over a few cycles) with nothing lost or duplicated, and rate-limit waits are recorded."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from rel_helpers import (
    GitHubView,
    Site,
    check_github,
    check_ledger,
    implement_script,
    verify_replay,
)

from ghw.fakehub import FakeHub

REPO = "rel/faults"


def _setup(tmp: Path, hub: FakeHub, issues: int) -> tuple[Site, list[int]]:
    hub.control.create_repo(REPO, files={"README.md": "# faults\n"})
    numbers = hub.control.bulk_create_issues(
        REPO, [{"title": f"Faulty {i}", "body": f"Body {i}"} for i in range(issues)]
    )
    script = implement_script(tmp / "script.yaml", numbers)
    site = Site(
        tmp / "site",
        hub.base_url,
        settings={
            "agents.scripted.script": str(script),
            "review.comment": True,
            "policy.max_new_per_cycle": None,
            "github.max_rate_wait": "1m",
        },
    )
    assert site.ghw("repo", "add", REPO).returncode == 0
    return site, numbers


def _fault_hits(hub: FakeHub) -> Counter[str]:
    return Counter(r["fault"] for r in hub.control.requests() if r.get("fault"))


def _finish(site: Site, hub: FakeHub, numbers: list[int]) -> dict[str, Any]:
    outs = site.run_until_settled(cycles=4)
    states = site.states()
    bad = {k: v for k, v in states.items() if v != "reviewed"}
    assert not bad, f"not reviewed: {bad}\n" + "\n".join(outs)
    figures: dict[str, Any] = {"cycles": len(outs)}
    figures.update(check_ledger(site.ledger_path))
    verify_replay(site)
    view = GitHubView(hub.base_url)
    try:
        figures.update(check_github(view, REPO, numbers))
    finally:
        view.close()
    return figures


@pytest.mark.slow
def test_rel_faults_full_cycle_survives_every_fault_kind(tmp_path: Path) -> None:
    with FakeHub.start(data_dir=tmp_path / "hub") as hub:
        site, numbers = _setup(tmp_path, hub, 4)
        c = hub.control
        listing = f"/repos/{REPO}/issues"
        # sync: rate limits (primary resets in 2 s, secondary says 1 s), a 5xx burst, a reset
        c.rate_limit(listing, reset_in=2, method="GET")
        c.secondary_rate_limit(listing, retry_after=1, method="GET")
        c.fail(listing, status=502, count=2, method="GET")
        c.reset_connection(listing, method="GET")
        # everywhere: latency
        c.delay("*", delay_ms=200, count=20)
        # implement: a 5xx and a reset on opening PRs (POSTs are not replayed: the step fails,
        # transiently, and a later cycle must open exactly one PR), a 5xx on git push
        c.fail(f"/repos/{REPO}/pulls", status=502, method="POST")
        c.reset_connection(f"/repos/{REPO}/pulls", method="POST")
        c.fail(f"/{REPO}.git/git-receive-pack", status=500, method="POST")
        # implement's lookup by head and review's diff: 5xx/secondary limits, retried in place
        c.fail(f"/repos/{REPO}/pulls", status=503, method="GET", count=2)
        c.secondary_rate_limit(f"/repos/{REPO}/pulls/*", retry_after=1, status=429, method="GET")
        # review: the comment POST fails once; the comment must still be posted exactly once
        c.fail(f"/repos/{REPO}/issues/*/comments", status=502, method="POST")
        started = time.monotonic()
        figures = _finish(site, hub, numbers)
        hits = _fault_hits(hub)
        left = c.faults()
        assert not [f for f in left if f["kind"] != "latency"], f"faults never fired: {left}"
        waits = [e for e in site.events() if e["type"] == "RateLimitWait"]
        reasons = Counter(json.loads(e["payload"])["reason"] for e in waits)
        assert reasons["primary"] >= 1 and reasons["secondary"] >= 1, reasons
        hits["latency"] = 20 - sum(f["count"] for f in left if f["kind"] == "latency")
        figures.update(
            faults=sum(hits.values()),
            by_kind=dict(hits),
            rate_limit_waits=len(waits),
            seconds=round(time.monotonic() - started, 1),
        )
        print(f"\nfault injection: {figures}")
        assert figures["faults"] >= 12


def test_rel_faults_primary_rate_limit_is_recorded_and_honoured_after_restart(
    tmp_path: Path,
) -> None:
    """A primary limit met during sync is a RateLimitWait event before the wait starts; ghw killed
    mid-wait and restarted reads it and does not call GitHub before the reset (guard: the
    on_rate_limit_wait hook of ghw/github/core.py and the not_before of ghw/runtime.py)."""
    import os
    import signal

    with FakeHub.start(data_dir=tmp_path / "hub") as hub:
        site, _ = _setup(tmp_path, hub, 1)
        hub.control.rate_limit(f"/repos/{REPO}/issues", reset_in=40, method="GET")
        proc = site.popen("sync", log=tmp_path / "sync.log")
        try:
            deadline = time.monotonic() + 20
            waits: list[dict[str, Any]] = []
            while time.monotonic() < deadline and not waits:
                time.sleep(0.2)
                if site.ledger_path.exists():
                    waits = [e for e in site.events() if e["type"] == "RateLimitWait"]
            assert waits, (
                "no RateLimitWait recorded while waiting:\n" + (tmp_path / "sync.log").read_text()
            )
            assert proc.poll() is None, "sync did not wait"
        finally:
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
        # restarted with a shorter max wait than what is left: it fails without a request
        site.write_config(**{**site.settings, "github.max_rate_wait": "5s"})
        hub.control.clear_requests()
        res = site.ghw("sync")
        assert res.returncode == 1, res.stdout + res.stderr
        assert "rate limit" in (res.stdout + res.stderr).lower()
        api = [r for r in hub.control.requests() if not r.get("git")]
        assert api == [], f"called GitHub during a recorded rate-limit wait: {api}"


def test_rel_faults_rate_limit_in_implement_is_recorded(tmp_path: Path) -> None:
    with FakeHub.start(data_dir=tmp_path / "hub") as hub:
        site, numbers = _setup(tmp_path, hub, 1)
        assert site.ghw("cycle", "--phases", "sync,plan").returncode == 0
        hub.control.rate_limit(f"/repos/{REPO}/pulls", reset_in=1, method="POST")
        site.ghw("cycle", "--phases", "implement")
        assert site.states()[f"{REPO}#{numbers[0]}"] == "implemented"
        waits = [e for e in site.events() if e["type"] == "RateLimitWait"]
        assert waits, "the rate-limit wait of implement was not recorded"
