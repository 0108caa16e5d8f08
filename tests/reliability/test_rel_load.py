"""Load: 500 issues across 10 repositories through sync and plan, then 50 of them through
implement and review, with a zero-time in-process agent and no new-work cap. The bigger run
(2,000 issues, time and peak RSS per 1,000) is `python scripts/bench.py load`."""

from __future__ import annotations

import io
import sys
import time
from pathlib import Path

import pytest
from rel_helpers import ROOT, GitHubView, Site, check_github, check_ledger, verify_replay

from ghw.fakehub import FakeHubProcess
from ghw.orchestrator import WorkOrchestrator

sys.path.insert(0, str(ROOT / "scripts"))
import instant_agent

REPOS = [f"load/r{i}" for i in range(10)]
PER_REPO = 50


@pytest.mark.slow
async def test_rel_load_500_issues_sync_plan_and_50_full(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    instant_agent.install(monkeypatch.setattr)
    # fakehub in its own process: on 2 cores it must not share ghw's GIL
    with FakeHubProcess.launch(data_dir=tmp_path / "hub") as hub:
        for repo in REPOS:
            hub.control.create_repo(repo, files={"README.md": f"# {repo}\n"})
            hub.control.bulk_create_issues(
                repo,
                [{"title": f"Load {i}", "body": f"Issue {i} of {repo}"} for i in range(PER_REPO)],
            )
        site = Site(
            tmp_path / "site",
            hub.base_url,
            settings={
                "repos": REPOS,
                "policy.max_new_per_cycle": None,
                "plan.parallelism": 8,
                "implement.parallelism": 4,
                "review.parallelism": 4,
                "review.comment": True,
            },
        )
        env = site.env()

        async def cycle(phases: list[str], numbers: list[str] | None = None) -> float:
            orch = WorkOrchestrator(
                site.config_path,
                phases=phases,
                issue_numbers=numbers,
                environ=env,
                stdout=io.StringIO(),
            )
            started = time.perf_counter()
            result = await orch.run_cycle()
            took = time.perf_counter() - started
            assert result.ok, result.errors
            return took

        t_sync_plan = await cycle(["sync", "plan"])
        states = site.states()
        assert len(states) == 500
        assert set(states.values()) == {"planned"}, set(states.values())
        for n in (1, 25, 50):
            assert (site.issues_path / "load" / "r3" / str(n) / "issue.md").exists()
        t_full = await cycle(["implement", "review"], ["1-5"])
        states = site.states()
        reviewed = sorted(k for k, v in states.items() if v == "reviewed")
        assert len(reviewed) == 50, len(reviewed)
        figures = check_ledger(site.ledger_path)
        verify_replay(site)
        view = GitHubView(hub.base_url)
        try:
            for repo in REPOS:
                check_github(view, repo, [1, 2, 3, 4, 5])
        finally:
            view.close()
        print(
            f"\nload: 500 issues sync+plan {t_sync_plan:.1f}s, 50 implement+review "
            f"{t_full:.1f}s, {figures['events']} events"
        )
