"""Smoke test of `scripts/bench.py sync --quick`: it runs, and its figures hang together."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_bench_sync_quick_reports_its_figures() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "bench.py"), "sync", "--quick"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    sync = json.loads(proc.stdout)["sync"]
    assert sync["issues"] == 1000 and sync["pages"] == 10
    assert sync["sync_seconds"] > 0 and sync["bare_seconds"] > 0
    assert sync["ratio"] == pytest.approx(sync["sync_seconds"] / sync["bare_seconds"], rel=0.01)
    assert 20 < sync["peak_rss_mb"] < 150
    assert sync["unchanged_resync_requests"] == 1
    assert sync["unchanged_resync_statuses"][-1] == [304]
