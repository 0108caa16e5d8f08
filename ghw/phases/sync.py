"""The sync phase (§4.1): GitHub issues -> ledger events, with exactly the allowed requests.

Per repository one conditional ``GET /repos/{o}/{r}/issues`` (``state=all``, ``per_page=100``,
``since`` from ``--since`` or the stored cursor, ``If-None-Match`` from the stored ETag), following
``Link`` pages. New issues get ``IssueSynced``, edits ``IssueChanged``, state changes
``IssueClosed`` / ``IssueReopened``, policy changes ``EligibilityChanged``. Only an unfiltered sync
stores the cursor and ETag (``RepositorySynced``), so a filtered run never hides an update.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ghw.errors import GhwError
from ghw.github.models import Issue, RateLimitWait
from ghw.ledger.records import AppendRequest
from ghw.ledger.store import format_ts
from ghw.logs import get_logger
from ghw.machine import events as ev
from ghw.machine.view import IssueView
from ghw.phases.context import Filters, PhaseContext
from ghw.phases.eligibility import Policy, content_hash, decide
from ghw.phases.files import issue_dir, render_issue_md, write_text_atomic
from ghw.phases.repos import resolve_repos

__all__ = ["RepoSync", "SyncResult", "plan_issue_events", "run_sync"]

_BATCH = 250


@dataclass
class RepoSync:
    repo: str
    ok: bool = True
    error: str | None = None
    requests: int = 0
    not_modified: bool = False
    seen: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    planned: list[str] = field(default_factory=list)  # dry run: what would be written


@dataclass
class SyncResult:
    repos: list[RepoSync] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and all(r.ok for r in self.repos)

    def counts(self) -> dict[str, int]:
        total: dict[str, int] = {}
        for r in self.repos:
            for k, v in r.counts.items():
                total[k] = total.get(k, 0) + v
        return total


def plan_issue_events(
    issue: Issue, view: IssueView | None, repo: str, policy: Policy
) -> list[ev.Event]:
    """The events that bring the ledger's view of one issue up to date with GitHub. Pure."""
    labels = list(issue.labels)
    eligible, reason = decide(issue.author_association, labels, policy)
    digest = content_hash(issue.title, issue.body, labels)
    closed = issue.state == "closed"
    if view is None:
        out: list[ev.Event] = [
            ev.IssueSynced(
                repo=repo,
                number=issue.number,
                title=issue.title,
                body=issue.body or "",
                labels=labels,
                author=issue.user_login or "",
                association=issue.author_association or "",
                gh_state=issue.state,
                created_at=issue.created_at,
                updated_at=issue.updated_at,
                html_url=issue.html_url,
                content_hash=digest,
                eligible=eligible,
                reason=reason,
            )
        ]
        if closed:
            out.append(ev.IssueClosed(closed_at=issue.closed_at, updated_at=issue.updated_at))
        return out
    out = []
    was_closed = view.state == "closed"
    if was_closed and not closed:
        out.append(ev.IssueReopened(updated_at=issue.updated_at, eligible=eligible, reason=reason))
    if digest != view.content_hash:
        changed = [
            name
            for name, differs in (
                ("title", issue.title != view.title),
                ("labels", sorted(labels) != sorted(view.labels)),
            )
            if differs
        ] or ["body"]  # the ledger keeps no body copy: same title and labels means the body
        out.append(
            ev.IssueChanged(
                title=issue.title,
                body=issue.body or "",
                labels=labels,
                author=issue.user_login or "",
                association=issue.author_association or "",
                updated_at=issue.updated_at,
                content_hash=digest,
                changed=changed,
                eligible=eligible,
                reason=reason,
            )
        )
    elif eligible != view.eligible and not (was_closed and not closed):
        out.append(ev.EligibilityChanged(eligible=eligible, reason=reason))
    if closed and not was_closed:
        out.append(ev.IssueClosed(closed_at=issue.closed_at, updated_at=issue.updated_at))
    return out


def _iso(epoch: float) -> str:
    return format_ts(datetime.fromtimestamp(epoch, UTC))


async def run_sync(ctx: PhaseContext, filters: Filters) -> SyncResult:
    log = get_logger(phase="sync", cycle_id=ctx.cycle_id)
    result = SyncResult()
    try:
        repos = await resolve_repos(ctx, filters)
    except GhwError as exc:
        log.error("sync failed", error=str(exc))
        result.error = str(exc)
        return result
    log.info("sync starting", repos=len(repos))
    policy = Policy.from_config(ctx.config)
    for repo in repos:
        outcome = RepoSync(repo)
        try:
            await _sync_repo(ctx, repo, filters, policy, outcome)
        except GhwError as exc:
            outcome.ok = False
            outcome.error = str(exc)
            log.warning("repository sync failed", repo=repo, error=str(exc))
            ctx.reporter.line(f"  {repo}: FAILED: {exc}")
        else:
            summary = (
                ", ".join(f"{k} {v}" for k, v in sorted(outcome.counts.items())) or "no change"
            )
            if outcome.not_modified:
                summary = "unchanged (304)"
            log.info(
                "repository synced",
                repo=repo,
                issues=outcome.seen,
                requests=outcome.requests,
                **outcome.counts,
            )
            ctx.reporter.line(f"  {repo}: {outcome.seen} issues seen, {summary}")
            for line in outcome.planned:
                ctx.reporter.line(f"    would {line}")
        result.repos.append(outcome)
    log.info(
        "sync finished",
        repos=len(repos),
        issues=sum(r.seen for r in result.repos),
        failed=sum(not r.ok for r in result.repos),
    )
    return result


async def _sync_repo(
    ctx: PhaseContext, repo: str, filters: Filters, policy: Policy, outcome: RepoSync
) -> None:
    owner, name = repo.split("/", 1)
    repo_view = await ctx.ledger.view(repo)
    cursor = repo_view.cursor if repo_view is not None else None
    since = filters.since or cursor
    # the stored ETag belongs to the cursor's URL; a --since request is another URL
    etag = repo_view.etag if (repo_view is not None and not filters.since) else None

    async def record_wait(wait: RateLimitWait) -> None:
        if ctx.dry_run:
            return
        until = _iso(wait.until)
        await ctx.ledger.append(
            repo, None, [ev.RateLimitWait(until=until, reason=wait.reason, path=wait.path)]
        )
        ctx.reporter.line(f"  {repo}: rate limited ({wait.reason}); waiting until {until}")

    previous = getattr(ctx.github, "on_rate_limit_wait", None)
    ctx.github.on_rate_limit_wait = record_wait
    try:
        listing = await ctx.github.iter_issues(
            owner, name, since=since, etag=etag, state="all", per_page=100
        )
    finally:
        ctx.github.on_rate_limit_wait = previous
    outcome.requests = listing.requests
    outcome.not_modified = listing.not_modified
    issues = [i for i in listing.items if not i.is_pull_request]
    wanted = [
        i for i in issues if filters.matches_number(i.number) and filters.matches_labels(i.labels)
    ]
    outcome.seen = len(wanted)
    views: dict[int, IssueView] = {}
    for v in await ctx.ledger.issues(repo=repo):
        views[v.number] = v
    requests: list[AppendRequest] = []
    files: list[tuple[Any, str]] = []
    for issue in wanted:
        view = views.get(issue.number)
        events = plan_issue_events(issue, view, repo, policy)
        if not events:
            continue
        for e in events:
            key = {
                "IssueSynced": "new",
                "IssueChanged": "changed",
                "IssueClosed": "closed",
                "IssueReopened": "reopened",
                "EligibilityChanged": "eligibility",
            }[e.TYPE]
            if e.TYPE == "IssueSynced" and not e.eligible:  # type: ignore[attr-defined]
                outcome.counts["skipped"] = outcome.counts.get("skipped", 0) + 1
            outcome.counts[key] = outcome.counts.get(key, 0) + 1
        sid = f"{repo}#{issue.number}"
        if ctx.dry_run:
            outcome.planned.append(f"append {' + '.join(e.TYPE for e in events)} to {sid}")
            continue
        requests.append(AppendRequest(sid, view.version if view else 0, events))
        eligible, reason = decide(issue.author_association, issue.labels, policy)
        files.append(
            (
                issue_dir(ctx.issues_path, repo, issue.number) / "issue.md",
                render_issue_md(
                    repo=repo,
                    number=issue.number,
                    title=issue.title,
                    body=issue.body,
                    state=issue.state,
                    author=issue.user_login,
                    association=issue.author_association,
                    labels=issue.labels,
                    url=issue.html_url,
                    updated_at=issue.updated_at,
                    eligible=eligible,
                    reason=reason,
                ),
            )
        )
    if ctx.dry_run:
        return
    # the ledger first (the truth), then the readable files
    for start in range(0, len(requests), _BATCH):
        await ctx.ledger.append_batch(requests[start : start + _BATCH], cycle_id=ctx.cycle_id)
    if files:
        await asyncio.to_thread(_write_files, files)
    if not filters.narrowing:
        seen_updates = [i.updated_at for i in issues if i.updated_at]
        new_cursor = max([*seen_updates, *([cursor] if cursor else [])], default=None)
        await ctx.ledger.append(
            repo,
            None,
            [
                ev.RepositorySynced(
                    cursor=new_cursor,
                    etag=listing.etag or etag,
                    issues=len(issues),
                    requests=listing.requests,
                    not_modified=listing.not_modified,
                )
            ],
            cycle_id=ctx.cycle_id,
        )


def _write_files(files: list[tuple[Any, str]]) -> None:
    for path, text in files:
        write_text_atomic(path, text)
