"""The sync phase (§4.1): GitHub issues -> ledger events, with exactly the allowed requests.

Per repository one conditional ``GET /repos/{o}/{r}/issues`` (``state=all``, ``per_page=100``,
``since`` from ``--since`` or the stored cursor, ``If-None-Match`` from the stored ETag), following
``Link`` pages. New issues get ``IssueSynced``, edits ``IssueChanged``, state changes
``IssueClosed`` / ``IssueReopened``, policy changes ``EligibilityChanged``. Only an unfiltered sync
stores the cursor and ETag (``RepositorySynced``), so a filtered run never hides an update.

Eligibility (§4.2) is decided from what GitHub says in this sync, and each decision records the
facts it was made from (association, labels). An issue the listing did not return (unchanged, or
a ``304``) is re-checked from its recorded facts, which may be old: GitHub does not touch an issue
when its author's association changes. Such a re-check may only narrow. When today's policy would
change an issue's eligibility, the request is shaped so that GitHub lists it again (no ETag, and
no ``since`` if the issue lies before the cursor), and the change is decided from that answer.

An overlapping sync may append the same facts first: on a ConcurrencyError the page's streams are
read again and its events planned again against them, so only what is still new is appended.

The PRs the listing returns are handed to the watch (:mod:`ghw.phases.watch`, §12), which looks at
the open PRs ghw opened or adopted. The listing's own events for an issue whose PR is watched land
after that look, so a merge is recorded before the close it caused.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import sqlite3
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from ghw.errors import ConcurrencyError, GhwError
from ghw.ledger.records import AppendRequest
from ghw.logs import get_logger
from ghw.machine import events as ev
from ghw.machine.view import IssueView
from ghw.phases.context import Filters, PhaseContext
from ghw.phases.eligibility import Policy, content_hash, decide
from ghw.phases.files import render_issue_md
from ghw.phases.outcome import PhaseOutcome
from ghw.phases.repos import expand_repos
from ghw.phases.watch import is_watched, watch_repo

if TYPE_CHECKING:  # start-up time: ghw.github loads httpx; the CLI reads the phase table early
    from ghw.github.models import Issue, IssuesListing

__all__ = [
    "Facts",
    "RepoSync",
    "SyncResult",
    "plan_issue_events",
    "recheck_events",
    "run_sync",
    "run_sync_phase",
]

_BATCH = 250
# how often one page's appends are planned again after another writer appended first
_REPLANS = 5
# the facts an eligibility decision is made from: (association, labels)
Facts = tuple[str, list[str]]
_DECISIONS = ("IssueSynced", "IssueChanged", "EligibilityChanged", "IssueReopened")
# an issue.md to write: (path, its text or how to render it, how: _NEW / _UPDATE / _IF_MISSING)
_FileJob = tuple[str, str | Callable[[], str], int]


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
    watch_requests: int = 0  # the watch's reads of PRs (``requests`` counts the listing's pages)
    notes: list[str] = field(default_factory=list)  # one line per PR with something new


@dataclass
class SyncResult:
    """What :func:`run_sync` did per repository; :meth:`outcome` is the phase's outcome."""

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

    def outcome(self) -> PhaseOutcome:
        """The :class:`PhaseOutcome` every phase returns: the phase is fatal only when it could
        not run at all; failed repositories make it not ok."""
        outcome = PhaseOutcome("sync", ok=self.ok, counts=self.counts())
        if self.error:
            outcome.error = self.error
            outcome.fatal = True
            outcome.failures.append(f"sync: {self.error}")
        outcome.failures.extend(f"sync {r.repo}: {r.error}" for r in self.repos if not r.ok)
        if not outcome.ok and not outcome.error:
            outcome.error = f"{sum(not r.ok for r in self.repos)} repositories failed"
        return outcome


def plan_issue_events(
    issue: Issue,
    view: IssueView | None,
    repo: str,
    policy: Policy,
    recorded: Facts | None = None,
) -> list[ev.Event]:
    """The events that bring the ledger's view of one issue up to date with GitHub. Pure.

    ``recorded``: the facts the view's eligibility was decided from, when they differ from the
    view's own (see :func:`_recorded_facts`); the view's association and labels otherwise.
    """
    labels = list(issue.labels)
    association = issue.author_association or ""
    eligible, reason = decide(association, labels, policy)
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
                association=association,
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
    reopened = was_closed and not closed
    # Facts are recorded as listed; a missing association as NONE, what decide() reads it as
    # (and what the fold does not mistake for "not recorded").
    listed_as = association or "NONE"
    if reopened:
        out.append(
            ev.IssueReopened(
                updated_at=issue.updated_at,
                eligible=eligible,
                reason=reason,
                association=listed_as,
                labels=labels,
            )
        )
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
                association=listed_as,
                updated_at=issue.updated_at,
                content_hash=digest,
                changed=changed,
                eligible=eligible,
                reason=reason,
            )
        )
    elif not reopened:
        before = recorded if recorded is not None else (view.association, view.labels)
        # Decided again from what GitHub says now: a change of eligibility (the policy or the
        # association changed), or facts that differ from the recorded ones enough that a
        # re-check from the recorded ones would change it (so they are recorded now).
        if eligible != view.eligible or decide(*before, policy)[0] != view.eligible:
            out.append(
                ev.EligibilityChanged(
                    eligible=eligible, reason=reason, association=listed_as, labels=labels
                )
            )
    if closed and not was_closed:
        out.append(ev.IssueClosed(closed_at=issue.closed_at, updated_at=issue.updated_at))
    return out


def recheck_events(
    view: IssueView, policy: Policy, recorded: Facts | None = None
) -> list[ev.Event]:
    """Eligibility decided again for an issue GitHub did not list, from its recorded facts. Pure.

    Those facts may be old (an association changes without any change to the issue), so the
    re-check only narrows: an issue it would make eligible stays as it is until GitHub lists it.
    """
    association, labels = recorded if recorded is not None else (view.association, view.labels)
    eligible, reason = decide(association, labels, policy)
    if eligible or not view.eligible:
        return []
    return [
        ev.EligibilityChanged(
            eligible=False,
            reason=reason,
            association=association or "NONE",
            labels=list(labels),
        )
    ]


async def _recorded_facts(ctx: PhaseContext, view: IssueView) -> Facts:
    """The association and labels of the issue's latest eligibility decision, from its events.

    The view's own may be older: a fold that does not read them from ``EligibilityChanged`` and
    ``IssueReopened`` keeps the ones of the last ``IssueSynced``/``IssueChanged``.
    """
    association, labels = view.association, list(view.labels)
    for event in await ctx.ledger.history(view.stream_id):
        if event.type in _DECISIONS:
            if event.payload.get("association") is not None:
                association = str(event.payload["association"])
            if event.payload.get("labels") is not None:
                labels = list(event.payload["labels"])
    return association, labels


async def _stale_decisions(
    ctx: PhaseContext, views: dict[int, IssueView], filters: Filters, policy: Policy
) -> tuple[dict[int, Facts], set[int]]:
    """(recorded facts where the view's own would change its eligibility under today's policy;
    the issues whose recorded facts would change it: they must be decided again from GitHub)."""
    recorded: dict[int, Facts] = {}
    changing: set[int] = set()
    for view in views.values():
        if not _view_matches(view, filters):
            continue
        if decide(view.association, view.labels, policy)[0] == view.eligible:
            continue
        facts = recorded[view.number] = await _recorded_facts(ctx, view)
        if decide(*facts, policy)[0] != view.eligible:
            changing.add(view.number)
    return recorded, changing


async def run_sync_phase(ctx: PhaseContext, filters: Filters) -> PhaseOutcome:
    """The sync phase's entry point (a :data:`~ghw.phases.outcome.PhaseRunner`)."""
    return (await run_sync(ctx, filters)).outcome()


async def run_sync(ctx: PhaseContext, filters: Filters) -> SyncResult:
    """Sync every repository of ``filters``; the per-repository detail (tests, ``bench.py``)."""
    log = get_logger(phase="sync", cycle_id=ctx.cycle_id)
    result = SyncResult()
    try:
        resolved = await expand_repos(ctx, filters)
    except GhwError as exc:
        log.error("sync failed", error=str(exc))
        result.error = str(exc)
        return result
    repos = resolved.names
    log.info("sync starting", repos=len(repos))
    for pattern, error in resolved.failed.items():
        # one pattern that cannot be expanded fails alone, as one repository does
        log.warning("repository sync failed", repo=pattern, error=error)
        ctx.reporter.line(f"  {pattern}: FAILED: {error}")
        result.repos.append(RepoSync(pattern, ok=False, error=error))
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
        except (sqlite3.Error, OSError, ValueError) as exc:
            # Data the checks above did not foresee (a file system refusing issue.md, text that
            # cannot be encoded): still one repository's failure, not the phase's. What was
            # appended before it holds: each page is its own transaction.
            outcome.ok = False
            outcome.error = f"{type(exc).__name__}: {exc}"
            log.warning("repository sync failed", repo=repo, error=outcome.error)
            ctx.reporter.line(f"  {repo}: FAILED: {outcome.error}")
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
                watch_requests=outcome.watch_requests,
                **outcome.counts,
            )
            ctx.reporter.line(f"  {repo}: {outcome.seen} issues seen, {summary}")
            for line in outcome.notes:
                ctx.reporter.line(line)
            for line in outcome.planned:
                ctx.reporter.line(f"    would {line}")
        result.repos.append(outcome)
    log.info(
        "sync finished",
        repos=len(result.repos),
        issues=sum(r.seen for r in result.repos),
        failed=sum(not r.ok for r in result.repos),
    )
    return result


async def _sync_repo(
    ctx: PhaseContext, repo: str, filters: Filters, policy: Policy, outcome: RepoSync
) -> None:
    log = get_logger(phase="sync", cycle_id=ctx.cycle_id, repo=repo)
    owner, name = repo.split("/", 1)
    repo_view = await ctx.ledger.view(repo)
    cursor = repo_view.cursor if repo_view is not None else None
    since = filters.since or cursor
    # the stored ETag belongs to the cursor's URL; a --since request is another URL
    etag = repo_view.etag if (repo_view is not None and not filters.since) else None
    views: dict[int, IssueView] = {v.number: v for v in await ctx.ledger.issues(repo=repo)}
    recorded, changing = await _stale_decisions(ctx, views, filters, policy)
    if changing:
        # Today's policy would change these issues' eligibility: decide it from what GitHub
        # says now, not from facts recorded before. A 304 lists nothing, so no ETag; and an
        # issue last updated before the cursor is listed only without `since`.
        etag = None
        if not filters.since and any(views[n].gh_updated_at < (since or "") for n in changing):
            since = None
        log.info("listing again to decide eligibility", issues=len(changing), since=since)

    # the one dry-run decision of the sync: the same plan, applied or only shown
    writer: _Sink = _PlanSink(outcome) if ctx.dry_run else _PageWriter(ctx, outcome)
    now = ctx.clock()
    watched = {n for n, v in views.items() if is_watched(v, ctx.config, now)}
    listing = _Listing(ctx, repo, filters, policy, views, outcome, recorded, watched)
    try:
        # Most recently updated first: any change puts its issue on the first page, so that
        # page's ETag speaks for the whole listing (ADR 0031). Each page is handed to the writer
        # (ledger, then issue.md files) while the next one loads.
        pages = ctx.github.iter_issue_pages(
            owner,
            name,
            since=since,
            etag=etag,
            state="all",
            per_page=100,
            sort="updated",
            direction="desc",
        )
        # closed when the loop stops, so a page loading ahead is cancelled, not left running
        async with contextlib.aclosing(pages):
            async for page in pages:
                planned, files = listing.take(page)
                if planned or files:
                    writer.submit(planned, files)
        # Issues the listing did not return (unchanged, or a 304) still follow a policy change
        # that narrows: their recorded facts are in the ledger. One it would widen was asked
        # for above; if GitHub did not return it, it stays as it is.
        planned = []
        for view in views.values():
            if view.number in listing.listed or not _view_matches(view, filters):
                continue
            facts = recorded.get(view.number)
            events = recheck_events(view, policy, facts)
            if events:
                planned.append(_Planned(view.stream_id, view.version, events, _recheck(policy)))
            elif view.number in changing and (since is None or view.gh_updated_at >= since):
                # Asked for and not returned (deleted, transferred): nothing to decide from. It
                # stays skipped, recorded with no facts, so the next sync does not ask again.
                log.info("not listed by GitHub: left skipped", issue=view.number)
                gone = ev.EligibilityChanged(
                    eligible=False, reason=_NOT_LISTED, association="", labels=[]
                )
                planned.append(
                    _Planned(view.stream_id, view.version, [gone], _unless_eligible(gone))
                )
        if planned:
            writer.submit(planned, [])
        report = await watch_repo(ctx, repo, views, listing.pulls, filters, writer)
        outcome.watch_requests = report.requests
        outcome.notes.extend(report.lines)
        await _submit_deferred(ctx, writer, listing)
    except BaseException:
        await writer.drain(quiet=True)  # what was handed over is true: let it land
        raise
    await writer.drain()
    if filters.narrowing:
        return
    new_cursor, new_etag = _next_cursor(
        outcome.not_modified, outcome.requests, listing.etag, listing.newest, cursor, etag
    )
    if report.relist:
        # a PR must be listed again (its look is not done): no 304 next time, and no cursor
        # past its updated_at (``since`` is inclusive)
        new_etag = None
        if new_cursor and report.relist_since and report.relist_since < new_cursor:
            new_cursor = report.relist_since
    await writer.finish(
        repo,
        ev.RepositorySynced(
            cursor=new_cursor,
            etag=new_etag,
            issues=len(listing.listed),
            requests=outcome.requests,
            not_modified=outcome.not_modified,
        ),
    )


async def _submit_deferred(ctx: PhaseContext, writer: _Sink, listing: _Listing) -> None:
    """The listing's events for issues whose PR was watched, planned again against their
    streams now (the watch may have appended to them: a merge, then the close it caused)."""
    if not listing.deferred:
        return
    planned = []
    for p in listing.deferred:
        view = await ctx.ledger.issue(p.stream_id)
        planned.append(_Planned(p.stream_id, view.version if view else 0, p.replan(view), p.replan))
    writer.submit(planned, listing.deferred_files)


@dataclass
class _Planned:
    """One stream's append, and how to plan it again against a newer view of the stream."""

    stream_id: str
    version: int
    events: list[ev.Event]
    replan: Callable[[IssueView | None], list[ev.Event]]


def _recheck(policy: Policy) -> Callable[[IssueView | None], list[ev.Event]]:
    return lambda view: recheck_events(view, policy) if view is not None else []


def _nothing(view: IssueView | None) -> list[ev.Event]:
    return []


def _unless_eligible(event: ev.Event) -> Callable[[IssueView | None], list[ev.Event]]:
    return lambda view: [event] if view is not None and not view.eligible else []


_NOT_LISTED = (
    "not listed by GitHub any more (deleted or transferred?): no facts to decide eligibility from"
)


class _Listing:
    """What the pages of one repository's listing said so far, and each page's events and files."""

    def __init__(
        self,
        ctx: PhaseContext,
        repo: str,
        filters: Filters,
        policy: Policy,
        views: dict[int, IssueView],
        outcome: RepoSync,
        recorded: dict[int, Facts],
        watched: set[int],
    ) -> None:
        self._ctx, self._repo, self._filters, self._policy = ctx, repo, filters, policy
        self._views, self._outcome, self._recorded = views, outcome, recorded
        self._watched = watched  # issues whose PR the watch looks at after the listing
        self.listed: set[int] = set()  # issue numbers (not PRs) the listing returned
        self.pulls: dict[int, Issue] = {}  # the PR items, by number, for the watch
        self.deferred: list[_Planned] = []  # events of watched issues: after the watch
        self.deferred_files: list[_FileJob] = []
        self.newest: str | None = None  # the largest updated_at of any item
        self.etag: str | None = None  # the first page's

    def take(self, page: IssuesListing) -> tuple[list[_Planned], list[_FileJob]]:
        """The appends and issue.md writes one page calls for (the plan; the sink applies it)."""
        ctx, repo, outcome = self._ctx, self._repo, self._outcome
        outcome.requests = page.requests
        outcome.not_modified = page.not_modified
        self.etag = page.etag
        planned: list[_Planned] = []
        files: list[_FileJob] = []
        for issue in page.items:
            if issue.updated_at and (self.newest is None or issue.updated_at > self.newest):
                self.newest = issue.updated_at
            # An issue created or updated while the pages are read shifts the later pages, so
            # an item can come twice; sorted by update, the first copy is the newest.
            if issue.is_pull_request:
                self.pulls.setdefault(issue.number, issue)
                continue
            if issue.number in self.listed:
                continue
            self.listed.add(issue.number)
            if not (
                self._filters.matches_number(issue.number)
                and self._filters.matches_labels(issue.labels)
            ):
                continue
            outcome.seen += 1
            view = self._views.get(issue.number)
            recorded = self._recorded.get(issue.number)
            events = plan_issue_events(issue, view, repo, self._policy, recorded)
            later = issue.number in self._watched
            if events:
                replan = functools.partial(
                    _replan_issue, issue=issue, repo=repo, policy=self._policy
                )
                sid = f"{repo}#{issue.number}"
                entry = _Planned(sid, view.version if view else 0, events, replan)
                (self.deferred if later else planned).append(entry)
                how = _NEW if view is None else _UPDATE
            else:
                how = _IF_MISSING  # unchanged: its issue.md only if it went missing
            job = _issue_file(ctx, repo, issue, self._policy, how)
            (self.deferred_files if later and events else files).append(job)
        return planned, files


def _replan_issue(
    view: IssueView | None, *, issue: Issue, repo: str, policy: Policy
) -> list[ev.Event]:
    return plan_issue_events(issue, view, repo, policy)


_COUNT_KEYS = {
    "IssueSynced": "new",
    "IssueChanged": "changed",
    "IssueClosed": "closed",
    "IssueReopened": "reopened",
    "EligibilityChanged": "eligibility",
    # the watch's (PullRequestWatched, what a look saw, is not counted)
    "FeedbackReceived": "feedback",
    "PullRequestMerged": "merged",
    "Held": "held",
}


def _count(outcome: RepoSync, planned: Sequence[_Planned]) -> None:
    """Count what was appended (or, in a dry run, would be)."""
    for p in planned:
        for e in p.events:
            if e.TYPE == "IssueSynced" and not e.eligible:  # type: ignore[attr-defined]
                outcome.counts["skipped"] = outcome.counts.get("skipped", 0) + 1
            key = _COUNT_KEYS.get(e.TYPE)
            if key is not None:
                outcome.counts[key] = outcome.counts.get(key, 0) + 1


class _Sink(Protocol):
    """Where the sync's plan goes: the ledger and the issue.md files (:class:`_PageWriter`), or,
    in a dry run, the outcome's list of what would be written (:class:`_PlanSink`)."""

    def submit(self, planned: list[_Planned], files: list[_FileJob]) -> None: ...

    async def drain(self, *, quiet: bool = False) -> None: ...

    async def finish(self, repo: str, event: ev.Event) -> None: ...

    async def append_now(
        self, stream_id: str, version: int, events: Sequence[ev.Event]
    ) -> None: ...


class _PlanSink:
    """A dry run: the plan is counted and listed (``would append … to …``); nothing is
    written."""

    def __init__(self, outcome: RepoSync) -> None:
        self._outcome = outcome

    def submit(self, planned: list[_Planned], files: list[_FileJob]) -> None:
        _count(self._outcome, planned)
        for p in planned:
            self._add(p.stream_id, p.events)

    async def drain(self, *, quiet: bool = False) -> None:
        return None

    async def finish(self, repo: str, event: ev.Event) -> None:
        self._add(repo, [event])

    async def append_now(self, stream_id: str, version: int, events: Sequence[ev.Event]) -> None:
        _count(self._outcome, [_Planned(stream_id, version, list(events), _nothing)])
        self._add(stream_id, events)

    def _add(self, stream_id: str, events: Sequence[ev.Event]) -> None:
        self._outcome.planned.append(f"append {' + '.join(e.TYPE for e in events)} to {stream_id}")


class _PageWriter:
    """Appends each page's events in order (one transaction per page), then writes its issue.md
    files on a worker thread, while the sync goes on reading pages."""

    def __init__(self, ctx: PhaseContext, outcome: RepoSync) -> None:
        self._ctx, self._outcome = ctx, outcome
        self._tail: asyncio.Future[None] | None = None
        self._files: list[asyncio.Future[None]] = []
        # One thread for the files: concurrent creates in one tree contend (measured slower).
        self._file_thread = ThreadPoolExecutor(1, thread_name_prefix="ghw-sync-files")

    def submit(self, planned: list[_Planned], files: list[_FileJob]) -> None:
        self._tail = asyncio.ensure_future(self._write(self._tail, planned, files))

    async def _write(
        self,
        before: asyncio.Future[None] | None,
        planned: list[_Planned],
        files: list[_FileJob],
    ) -> None:
        if before is not None:
            await before  # pages land in order; a failed one stops the ones after it
        for start in range(0, len(planned), _BATCH):
            await self._append(planned[start : start + _BATCH])
        if files:  # the ledger first (the truth), then the readable files
            loop = asyncio.get_running_loop()
            self._files.append(loop.run_in_executor(self._file_thread, _write_files, files))

    async def _append(self, planned: list[_Planned]) -> None:
        """One transaction. When another writer (an overlapping sync, a step starting) appended
        to one of these streams since its view was read, the streams are read again and their
        events planned again against what is there now: facts already appended by the other
        plan to nothing, and only what is still new is appended."""
        ledger = self._ctx.ledger
        for attempt in range(_REPLANS + 1):
            planned = [p for p in planned if p.events]
            if not planned:
                return
            requests = [AppendRequest(p.stream_id, p.version, p.events) for p in planned]
            try:
                await ledger.append_batch(requests, cycle_id=self._ctx.cycle_id)
            except ConcurrencyError as exc:
                if attempt == _REPLANS:
                    raise
                get_logger(phase="sync", cycle_id=self._ctx.cycle_id).info(
                    "another writer appended first: planning again", error=str(exc)
                )
                fresh = {p.stream_id: await ledger.issue(p.stream_id) for p in planned}
                planned = [
                    _Planned(
                        p.stream_id,
                        view.version if view is not None else 0,
                        p.replan(view),
                        p.replan,
                    )
                    for p in planned
                    for view in [fresh[p.stream_id]]
                ]
                continue
            _count(self._outcome, planned)
            return

    async def append_now(self, stream_id: str, version: int, events: Sequence[ev.Event]) -> None:
        """One stream's append now, after the pages handed over so far (the watch's look);
        ConcurrencyError / DuplicateFeedbackError reach the caller, which plans it again."""
        if self._tail is not None:
            await self._tail
        await self._ctx.ledger.append(stream_id, version, events, cycle_id=self._ctx.cycle_id)
        _count(self._outcome, [_Planned(stream_id, version, list(events), _nothing)])

    async def finish(self, repo: str, event: ev.Event) -> None:
        """The repository's own event (its cursor), after every page has landed."""
        await self._ctx.ledger.append(repo, None, [event], cycle_id=self._ctx.cycle_id)

    async def drain(self, *, quiet: bool = False) -> None:
        """Wait for everything handed over; raises the first failure unless ``quiet``."""
        pending: list[asyncio.Future[None]] = [self._tail] if self._tail is not None else []
        results = await asyncio.gather(*pending, return_exceptions=True)
        results += await asyncio.gather(*self._files, return_exceptions=True)
        self._tail, self._files = None, []
        self._file_thread.shutdown(wait=False)
        for result in results:
            if isinstance(result, BaseException) and not quiet:
                raise result


def _view_matches(view: IssueView, filters: Filters) -> bool:
    return (
        filters.matches_number(view.number)
        and filters.matches_labels(view.labels)
        and (not filters.since or view.gh_updated_at >= filters.since)
    )


def _next_cursor(
    not_modified: bool,
    pages: int,
    first_etag: str | None,
    newest: str | None,
    cursor: str | None,
    etag: str | None,
) -> tuple[str | None, str | None]:
    """The ``since`` and ETag of the next unfiltered sync (docs/adr/0031-sync-cursor-and-etag.md).

    An ETag answers only the very same URL. After a one-page answer the cursor stays where it was,
    so the next request is identical and an unchanged repository costs one ``304``. After several
    pages the cursor moves to the largest ``updated_at`` seen (GitHub's ``since`` is inclusive, so
    nothing is missed); the ETag is kept only if that left the URL as it was (more than a page of
    issues updated in the cursor's second), since it belongs to that URL.
    """
    if not_modified:
        return cursor, first_etag or etag
    if pages <= 1:
        return cursor, first_etag
    moved = max([*([newest] if newest else []), *([cursor] if cursor else [])], default=None)
    return moved, first_etag if moved == cursor else None


def _issue_file(ctx: PhaseContext, repo: str, issue: Issue, policy: Policy, how: int) -> _FileJob:
    path = f"{ctx.issues_path}/{repo}/{issue.number}/issue.md"
    if how == _IF_MISSING:  # rendered only if the writer finds it missing, as it rarely is
        return path, functools.partial(_render_issue, repo, issue, policy), how
    # rendered here: the writer's thread is a sync's slowest part, this one has time to spare
    return path, _render_issue(repo, issue, policy), how


def _render_issue(repo: str, issue: Issue, policy: Policy) -> str:
    eligible, reason = decide(issue.author_association, issue.labels, policy)
    return render_issue_md(
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
    )


def _write_files(files: list[_FileJob]) -> None:
    """Write each issue.md atomically (a temporary file beside it, then a rename), as
    ``write_text_atomic`` does, with fewer system calls: the directory is made only when missing
    and the temporary name needs no random part (one writer per process and thread). ``how``:
    ``_NEW`` for an issue new to the ledger (its directory is made before the file, not after a
    failed open), ``_UPDATE``, or ``_IF_MISSING`` for an unchanged issue whose file a failed
    earlier write (a full disk, say) may have left out."""
    suffix = f".{os.getpid()}.{threading.get_ident()}.tmp"
    for path, render, how in files:
        if how == _IF_MISSING and os.path.exists(path):
            continue
        parent, _, base = path.rpartition("/")
        tmp = f"{parent}/.{base}{suffix}"
        text = render if isinstance(render, str) else render()
        data = text.encode("utf-8", "surrogateescape")
        if how == _NEW:  # its directory is most likely missing: make it first
            try:
                os.mkdir(parent)
            except FileExistsError:
                pass
            except FileNotFoundError:
                os.makedirs(parent, exist_ok=True)
        try:
            fd = os.open(tmp, _CREATE, 0o600)
        except FileNotFoundError:
            os.makedirs(parent, exist_ok=True)
            fd = os.open(tmp, _CREATE, 0o600)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
        try:
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise


_NEW, _UPDATE, _IF_MISSING = 0, 1, 2
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0)
