#!/usr/bin/env python3
"""The ``load`` section of scripts/bench.py: N issues across 10 repositories through the full
cycle (sync → plan → implement → review, PR comments on) with a zero-time in-process agent
(scripts/instant_agent.py) against fakehub in its own process, so what is measured is ghw:
ledger, GitHub calls, git mirrors, workspaces, pushes.

Each measurement runs in a fresh child process so that its peak RSS (``ru_maxrss``) is its own.
The baseline, measured in the same run, is the same issues through ``sync`` alone: ``ratio`` is
full-cycle time ÷ sync-only time (how much the agent phases cost around the cheapest phase).

    python scripts/bench_load.py --issues 2000 [--phases sync,plan,implement,review]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

REPOS = 10


def _config(path: Path, issues_path: Path, api_url: str, repos: list[str]) -> None:
    import yaml

    path.write_text(
        yaml.safe_dump(
            {
                "issues_path": str(issues_path),
                "repos": repos,
                "github": {"api_url": api_url, "write_interval": "0s"},
                "agent": {"default": "scripted"},
                "policy": {"max_new_per_cycle": None},
                "plan": {"parallelism": 8},
                "implement": {"parallelism": 8},
                "review": {"parallelism": 8, "comment": True},
            }
        )
    )


async def _run(config: Path, phases: list[str]) -> dict[str, Any]:
    import instant_agent

    from ghw.orchestrator import WorkOrchestrator

    instant_agent.install()
    env = {**os.environ, "GITHUB_TOKEN": "bench-token"}
    orch = WorkOrchestrator(config, phases=phases, environ=env, stdout=io.StringIO())
    started = time.perf_counter()
    result = await orch.run_cycle()
    return {"seconds": time.perf_counter() - started, "ok": result.ok, "counts": result.counts}


def child(issues: int, phases: list[str]) -> dict[str, Any]:
    """Seed a fresh fakehub and ledger, run one cycle of ``phases``; report time and peak RSS."""
    import logging

    import structlog

    from ghw.fakehub import FakeHubProcess

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        with FakeHubProcess.launch(data_dir=tmpdir / "hub") as hub:
            repos = [f"load/r{i}" for i in range(REPOS)]
            per_repo = [issues // REPOS + (1 if i < issues % REPOS else 0) for i in range(REPOS)]
            for repo, n in zip(repos, per_repo, strict=True):
                hub.control.create_repo(repo, files={"README.md": f"# {repo}\n"})
                hub.control.bulk_create_issues(
                    repo, [{"title": f"Load {i}", "body": f"Issue {i}"} for i in range(n)]
                )
            config = tmpdir / "config.yaml"
            _config(config, tmpdir / "issues", hub.base_url, repos)
            rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            out = asyncio.run(_run(config, phases))
            out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            out["rss_before_mb"] = rss_before / 1024
    out["issues"] = issues
    return out


def _in_child(issues: int, phases: list[str]) -> dict[str, Any]:
    res = subprocess.run(
        [sys.executable, __file__, "--issues", str(issues), "--phases", ",".join(phases)],
        capture_output=True,
        text=True,
        check=False,
    )
    if res.returncode != 0:
        raise RuntimeError(f"load child failed ({res.returncode}):\n{res.stderr[-4000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def bench_load(quick: bool) -> dict[str, Any]:
    issues = 200 if quick else 2000
    full = _in_child(issues, ["sync", "plan", "implement", "review"])
    base = _in_child(issues, ["sync"])
    per_k = 1000 / issues
    reviewed = full["counts"].get("review.completed", 0)
    return {
        "issues": issues,
        "repos": REPOS,
        "reviewed": reviewed,
        "ok": full["ok"] and reviewed == issues,
        "seconds": round(full["seconds"], 2),
        "seconds_per_1000_issues": round(full["seconds"] * per_k, 2),
        "peak_rss_mb": round(full["peak_rss_mb"], 1),
        "peak_rss_mb_per_1000_issues": round(full["peak_rss_mb"] * per_k, 1),
        "baseline_sync_only_seconds": round(base["seconds"], 2),
        "baseline_sync_only_peak_rss_mb": round(base["peak_rss_mb"], 1),
        "ratio": round(full["seconds"] / base["seconds"], 2),
        "ratio_meaning": "full-cycle time / sync-only time, same issues",
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--issues", type=int, default=2000)
    ap.add_argument("--phases", default="sync,plan,implement,review")
    args = ap.parse_args()
    print(json.dumps(child(args.issues, args.phases.split(","))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
