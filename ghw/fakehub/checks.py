"""CI results per commit: check runs (one per name and sha) and commit statuses.

GitHub keeps both on the commit, not on the pull request: a PR shows those of its head sha, and a
report on a PR's head moves that PR's ``updated_at`` (so a sync sees the PR as changed). Reports
come only through the control API, as a CI system's would; the REST API reads them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ghw.fakehub.context import HubContext
from ghw.fakehub.errors import ApiError, validation_failed
from ghw.fakehub.model import CheckRun, CommitStatus, Issue, Repo

__all__ = [
    "CHECK_CONCLUSIONS",
    "CHECK_STATUSES",
    "STATUS_STATES",
    "ci_unsettled_or_failing",
    "combined_state",
    "latest_statuses",
    "pulls_at",
    "report_check_run",
    "report_status",
    "resolve_commit",
]

# The values GitHub's description allows (waiting/requested/pending are Actions-only, kept).
CHECK_STATUSES = ("queued", "in_progress", "completed", "waiting", "requested", "pending")
CHECK_CONCLUSIONS = (
    "success",
    "failure",
    "neutral",
    "cancelled",
    "skipped",
    "timed_out",
    "action_required",
)
STATUS_STATES = ("error", "failure", "pending", "success")


def resolve_commit(ctx: HubContext, repo: Repo, ref: str) -> str | None:
    """The full sha ``ref`` (a sha or a branch) names in the repository, or None."""
    return ctx.store.git(repo).resolve_commit(ref)


def _commit_or_422(ctx: HubContext, repo: Repo, ref: str) -> str:
    sha = resolve_commit(ctx, repo, ref)
    if sha is None:
        raise ApiError(422, f"No commit found for SHA: {ref}")
    return sha


def pulls_at(ctx: HubContext, repo: Repo, sha: str) -> list[Issue]:
    """Open pull requests whose head is ``sha`` now (a check on them is a check on the PR)."""
    branches = ctx.store.git(repo).branches()
    # An open PR's head is its branch tip (pulls.live_shas; not imported: pulls imports us).
    return [
        issue
        for issue in repo.issues.values()
        if issue.pull is not None
        and issue.state == "open"
        and branches.get(issue.pull.head_ref, issue.pull.head_sha) == sha
    ]


def _bump(ctx: HubContext, repo: Repo, sha: str) -> None:
    now = ctx.clock.now_int()
    for issue in pulls_at(ctx, repo, sha):
        ctx.store.touch(issue, max(now, issue.updated_at))


def _opt_str(data: Mapping[str, Any], key: str, resource: str) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise validation_failed({"resource": resource, "code": "invalid", "field": key})
    return value


def _check_fields(data: Mapping[str, Any]) -> tuple[str, str | None, dict[str, str | None]]:
    """(status, conclusion, output) from a report, GitHub's way: a conclusion means completed."""
    resource = "CheckRun"
    conclusion = _opt_str(data, "conclusion", resource)
    if conclusion is not None and conclusion not in CHECK_CONCLUSIONS:
        raise validation_failed({"resource": resource, "code": "invalid", "field": "conclusion"})
    status = _opt_str(data, "status", resource) or ("completed" if conclusion else "queued")
    if status not in CHECK_STATUSES:
        raise validation_failed({"resource": resource, "code": "invalid", "field": "status"})
    if conclusion is not None:
        status = "completed"
    if status == "completed" and conclusion is None:
        raise validation_failed(
            {"resource": resource, "code": "missing_field", "field": "conclusion"}
        )
    raw_output = data.get("output") or {}
    if not isinstance(raw_output, Mapping):
        raise validation_failed({"resource": resource, "code": "invalid", "field": "output"})
    output = {k: _opt_str(raw_output, k, resource) for k in ("title", "summary", "text")}
    return status, conclusion, output


def report_check_run(ctx: HubContext, repo: Repo, ref: str, data: Mapping[str, Any]) -> CheckRun:
    """``{"name", "status", "conclusion", "output"}`` on a commit; the same name updates the run
    (status, conclusion, and the output fields given), as a CI system re-reporting does."""
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise validation_failed({"resource": "CheckRun", "code": "missing_field", "field": "name"})
    status, conclusion, output = _check_fields(data)
    sha = _commit_or_422(ctx, repo, ref)
    store = ctx.store
    with store.lock:
        now = ctx.clock.now_int()
        runs = repo.check_runs.setdefault(sha, [])
        run = next((r for r in runs if r.name == name), None)
        if run is None:
            suite = runs[0].suite_id if runs else store.next_id("check_suite")
            run = CheckRun(
                id=store.next_id("check_run"),
                suite_id=suite,
                name=name,
                head_sha=sha,
                status=status,
                conclusion=None,
                title=None,
                summary=None,
                text=None,
                started_at=now,
                completed_at=None,
            )
            runs.append(run)
        run.status = status
        run.conclusion = conclusion
        given = data.get("output") or {}
        for key, value in output.items():
            if key in given:
                setattr(run, key, value)
        run.completed_at = (run.completed_at or now) if status == "completed" else None
        _bump(ctx, repo, sha)
        store.save_repo(repo)
        return run


def report_status(ctx: HubContext, repo: Repo, ref: str, data: Mapping[str, Any]) -> CommitStatus:
    """``{"state", "context", "description", "target_url"}``: a new status on the commit (the
    combined status keeps the latest per context)."""
    resource = "Status"
    state = data.get("state")
    if state not in STATUS_STATES:
        raise validation_failed({"resource": resource, "code": "invalid", "field": "state"})
    context = _opt_str(data, "context", resource) or "default"
    description = _opt_str(data, "description", resource)
    target_url = _opt_str(data, "target_url", resource)
    sha = _commit_or_422(ctx, repo, ref)
    store = ctx.store
    with store.lock:
        now = ctx.clock.now_int()
        status = CommitStatus(
            id=store.next_id("status"),
            state=str(state),
            context=context,
            description=description,
            target_url=target_url,
            created_at=now,
            updated_at=now,
        )
        repo.statuses.setdefault(sha, []).append(status)
        _bump(ctx, repo, sha)
        store.save_repo(repo)
        return status


def latest_statuses(repo: Repo, sha: str) -> list[CommitStatus]:
    """The newest status of each context, newest first (the combined status's ``statuses``)."""
    latest: dict[str, CommitStatus] = {}
    for status in repo.statuses.get(sha, ()):
        latest[status.context] = status
    return sorted(latest.values(), key=lambda s: s.id, reverse=True)


def combined_state(statuses: list[CommitStatus]) -> str:
    """GitHub's rule: failure if any context failed or errored, pending if none reported yet or
    any is pending, else success."""
    states = {s.state for s in statuses}
    if states & {"error", "failure"}:
        return "failure"
    if not states or "pending" in states:
        return "pending"
    return "success"


def ci_unsettled_or_failing(repo: Repo, sha: str) -> bool:
    """Whether any check or status on ``sha`` is pending or not passing: GitHub then calls a
    mergeable PR ``unstable`` instead of ``clean``."""
    passing = {"success", "neutral", "skipped"}
    runs = repo.check_runs.get(sha, ())
    if any(r.status != "completed" or r.conclusion not in passing for r in runs):
        return True
    return any(s.state != "success" for s in latest_statuses(repo, sha))
