"""Watching ghw's pull requests (§12): the sync's look at each open PR ghw opened or adopted.

The issues listing the sync already makes returns the PRs too, with their ``updated_at``. A PR
whose ``updated_at`` moved since the last look (or that was never looked at) is read:
``GET /pulls/{n}``, its reviews, review comments and comments, and its CI (check runs and the
combined status of the head) when the head moved or CI was still pending. A PR that did not move
but whose CI is pending gets the two CI reads only, with the ETags of the last look (GitHub does
not move a PR when a check on its head reports). Anything else costs nothing: an unchanged
repository with settled CI still costs the listing's one ``304``.

Each look appends, in one append to the issue stream, ``PullRequestWatched`` (what it saw) and a
``FeedbackReceived`` per item not recorded before, decided by :mod:`ghw.phases.feedback`; a merged
PR gets ``PullRequestMerged``, one closed without merge ``Held{pr_closed}``. None of these is a
lease holder's event, so they are legal while a step runs. Another writer may append first: the
stream and its history are then read again and only what is still new is appended.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from ghw.errors import ConcurrencyError, DuplicateFeedbackError, GhwError
from ghw.logs import get_logger
from ghw.machine import events as ev
from ghw.machine.states import State
from ghw.machine.view import IssueView
from ghw.phases.context import Filters, PhaseContext
from ghw.phases.eligibility import Policy
from ghw.phases.feedback import (
    Trust,
    ci_state,
    decide_checks,
    decide_comment,
    decide_conflict,
    decide_review,
    decide_review_comment,
    describe,
)

if TYPE_CHECKING:  # start-up time: ghw.github loads httpx; the CLI reads the phase table early
    from ghw.github.models import (
        CheckRunsListing,
        CombinedStatus,
        Comment,
        Fetched,
        Issue,
        PullRequest,
        Review,
        ReviewComment,
    )
    from ghw.ledger.records import StoredEvent

__all__ = ["WatchReport", "WatchSink", "is_watched", "past_max_age", "plan_look", "watch_repo"]

# how often one look's append is planned again after another writer appended first
_REPLANS = 5
# what a watched issue cannot be: its PR is done with
_DONE = frozenset({State.CLOSED, State.MERGED})
# CI results a PR that did not change head is not read again for
_SETTLED = frozenset({"success", "failure"})


class WatchSink(Protocol):
    """Where a look's events go: the ledger, or a dry run's list (the sync's sink). ``append``
    raises ConcurrencyError / DuplicateFeedbackError when another writer appended first."""

    async def append_now(
        self, stream_id: str, version: int, events: Sequence[ev.Event]
    ) -> None: ...


@dataclass
class WatchReport:
    """What the watch of one repository did."""

    requests: int = 0
    looked: int = 0  # PRs read (fully or CI only)
    lines: list[str] = field(default_factory=list)  # one per PR with something new
    # A look that could not be recorded as done (mergeable still being computed, a failed read):
    # the next listing must not be a 304, so that it lists the PR again.
    relist: bool = False
    # the oldest updated_at of those PRs: a cursor past it would leave them out of the listing
    relist_since: str | None = None
    merged: int = 0  # PRs found merged by this watch (their base moved)

    def again(self, updated_at: str | None) -> None:
        """A PR the next listing must return (its look is not done)."""
        self.relist = True
        if updated_at and (self.relist_since is None or updated_at < self.relist_since):
            self.relist_since = updated_at


def _parse_ts(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def past_max_age(view: IssueView, config: Any, now: datetime) -> bool:
    """The PR is older than ``followup.max_age``, counted from when ghw opened or adopted it:
    it is no longer watched, and a round waiting on it is held (``revise.revise_guard``)."""
    opened = _parse_ts(view.pr_opened_ts) if view.pr_opened_ts else None
    return opened is not None and now - opened >= config["followup.max_age"]


def is_watched(view: IssueView, config: Any, now: datetime) -> bool:
    """Whether the issue's PR is watched: it has one, the issue is not done with it, follow-up
    is on, and the PR is younger than ``followup.max_age``."""
    if view.pr_number is None or view.state in _DONE or not config["followup.enabled"]:
        return False
    return not past_max_age(view, config, now)


@dataclass
class _Look:
    """What one look read. ``None`` for a read not made (CI when it was not due) or answered
    ``304`` (nothing new since the last look: its items were decided then)."""

    pull: PullRequest | None  # None: a CI-only look
    reviews: Sequence[Review] | None = None
    review_comments: Sequence[ReviewComment] | None = None
    comments: Sequence[Comment] | None = None
    ci_read: bool = False
    checks: CheckRunsListing | None = None
    status: Fetched[CombinedStatus] | None = None
    etags: dict[str, str] = field(default_factory=dict)


@dataclass
class _Watcher:
    ctx: PhaseContext
    repo: str
    sink: WatchSink
    trust_associations: tuple[str, ...]
    report: WatchReport

    @property
    def owner_name(self) -> tuple[str, str]:
        owner, name = self.repo.split("/", 1)
        return owner, name

    async def trust(self) -> Trust:
        """The associations and the token's login, read once per run (``GET /user``) and only
        when a PR is read at all, so an idle repository costs no more than its listing."""
        caches = self.ctx.caches
        if caches.own_login is None:
            try:
                user = await self.ctx.github.get_authenticated_user()
                caches.own_login = user.value.login if user.value is not None else ""
            except GhwError as exc:  # (GitHubError: not imported, it loads httpx)
                # an app token may not read /user: ghw's markers still tell its own words
                get_logger(phase="sync").warning("GET /user failed", error=str(exc))
                caches.own_login = ""
            self.report.requests += 1
        return Trust(self.trust_associations, caches.own_login or None)

    async def look(self, view: IssueView, item: Issue | None, *, force: bool = False) -> bool:
        """Look at the PR if it is due; True when it was read whole. ``force``: read it whole
        even though it did not move (the base branch moved under it)."""
        full = (
            force
            or not view.pr_seen_updated_at
            or (item is not None and item.updated_at != view.pr_seen_updated_at)
        )
        if not full and view.ci != "pending":
            return False
        history = await self.ctx.ledger.history(view.stream_id)
        last = _last_watched(history)
        self.report.looked += 1
        if full:
            look = await self._read_pull(view, last)
        else:
            # the PR's own reads are not made: their ETags stay what the last look stored
            look = _Look(pull=None, etags={k: str(v) for k, v in (last.get("etags") or {}).items()})
            await self._read_ci(look, view.pr_head_sha, last)
        trust = await self.trust() if full else Trust(self.trust_associations)
        await self._record(view, history, look, trust, item)
        return full

    async def _read_pull(self, view: IssueView, last: Mapping[str, Any]) -> _Look:
        owner, name = self.owner_name
        gh = self.ctx.github
        number = view.pr_number
        assert number is not None
        fetched = await gh.fetch_pull(owner, name, number)
        self.report.requests += 1
        pull = fetched.value
        look = _Look(pull=pull)
        if pull is None or pull.state != "open":
            return look  # merged or closed: its feedback no longer matters
        etags: dict[str, str] = dict(last.get("etags") or {})
        reviews, review_comments, comments = await asyncio.gather(
            gh.list_reviews(owner, name, number, etag=etags.get("reviews")),
            gh.list_review_comments(owner, name, number, etag=etags.get("review_comments")),
            gh.fetch_issue_comments(owner, name, number, etag=etags.get("comments")),
        )
        for key, listing in (
            ("reviews", reviews),
            ("review_comments", review_comments),
            ("comments", comments),
        ):
            self.report.requests += listing.requests
            if listing.etag:
                look.etags[key] = listing.etag
        look.reviews = None if reviews.not_modified else reviews.items
        look.review_comments = None if review_comments.not_modified else review_comments.items
        look.comments = None if comments.not_modified else comments.items
        head = pull.head_sha or ""
        # settled: a result on this head that only a new head changes; no CI yet ("") or one a
        # person must approve may still report, and a moved PR is the moment to ask (ETags)
        if head and (head != view.pr_head_sha or view.ci not in _SETTLED):
            await self._read_ci(look, head, last)
        else:
            _keep_ci(look, last)
        return look

    async def _read_ci(self, look: _Look, sha: str, last: Mapping[str, Any]) -> None:
        """The head's check runs and combined status, conditionally when the last look read the
        same commit (an ETag belongs to its URL, which holds the sha)."""
        owner, name = self.owner_name
        gh = self.ctx.github
        etags: dict[str, str] = dict(last.get("etags") or {})
        same = etags.get("sha") == sha
        checks, status = await asyncio.gather(
            gh.list_check_runs(owner, name, sha, etag=etags.get("check_runs") if same else None),
            gh.get_combined_status(owner, name, sha, etag=etags.get("status") if same else None),
        )
        self.report.requests += checks.requests + 1
        look.ci_read = True
        look.checks = None if checks.not_modified else checks
        look.status = None if status.not_modified else status
        look.etags["sha"] = sha
        for key, answer, part in (
            ("check_runs", checks, "check_runs.ci"),
            ("status", status, "status.ci"),
        ):
            if answer.etag:
                look.etags[key] = answer.etag
            if answer.not_modified and same and part in etags:
                look.etags[part] = etags[part]  # unchanged since the last look: its part holds

    async def _record(
        self,
        view: IssueView,
        history: list[StoredEvent],
        look: _Look,
        trust: Trust,
        item: Issue | None,
    ) -> None:
        log = get_logger(phase="sync", cycle_id=self.ctx.cycle_id, repo=self.repo)
        for attempt in range(_REPLANS + 1):
            events, unsettled = plan_look(view, history, look, trust, item)
            if not events:
                return
            try:
                await self.sink.append_now(view.stream_id, view.version, events)
            except (ConcurrencyError, DuplicateFeedbackError) as exc:
                if attempt == _REPLANS:
                    raise
                log.info("another writer appended first: planning the look again", error=str(exc))
                fresh = await self.ctx.ledger.issue(view.stream_id)
                if fresh is None:
                    return
                view, history = fresh, await self.ctx.ledger.history(view.stream_id)
                continue
            if unsettled:
                pull = look.pull
                self.report.again(
                    (item.updated_at if item is not None else None)
                    or (pull.updated_at if pull is not None else None)
                )
            if any(isinstance(e, ev.PullRequestMerged) for e in events):
                self.report.merged += 1
            line = _line(view, events)
            if line:
                self.report.lines.append(line)
            return


def _last_watched(history: Sequence[StoredEvent]) -> Mapping[str, Any]:
    for event in reversed(history):
        if event.type == ev.PullRequestWatched.TYPE:
            return event.payload
    return {}


def _keep_ci(look: _Look, last: Mapping[str, Any]) -> None:
    """CI not read (the head did not move and it was settled): the last look's parts hold."""
    etags = last.get("etags") or {}
    for key in ("sha", "check_runs", "status", "check_runs.ci", "status.ci"):
        if key in etags:
            look.etags[key] = str(etags[key])


def _recorded(history: Sequence[StoredEvent]) -> set[str]:
    return {
        f"{e.payload.get('source')}:{e.payload.get('github_id')}"
        for e in history
        if e.type == ev.FeedbackReceived.TYPE
    }


def _decide(look: _Look, head: str, trust: Trust) -> tuple[list[ev.FeedbackReceived], str | None]:
    """Every item the look read, decided, and the CI it saw (None: CI not read, or unchanged)."""
    found: list[ev.FeedbackReceived] = []
    for review in look.reviews or ():
        decided = decide_review(review, head, trust)
        if decided is not None:
            found.append(decided)
    found += [decide_review_comment(c, head, trust) for c in look.review_comments or ()]
    found += [decide_comment(c, head, trust) for c in look.comments or ()]
    ci: str | None = None
    if look.ci_read:
        runs = look.checks.items if look.checks is not None else ()
        status = look.status.value if look.status is not None else None
        checks_found, checks_ci = decide_checks(runs, None, head)
        status_found, status_ci = decide_checks((), status, head)
        found += checks_found + status_found
        if look.checks is not None:
            look.etags["check_runs.ci"] = checks_ci
        if look.status is not None:
            look.etags["status.ci"] = status_ci
        parts = [look.etags.get("check_runs.ci", ""), look.etags.get("status.ci", "")]
        ci = ci_state(p for p in parts if p)
    if look.pull is not None:
        conflict = decide_conflict(look.pull)
        if conflict is not None:
            found.append(conflict)
    return found, ci


def plan_look(
    view: IssueView,
    history: Sequence[StoredEvent],
    look: _Look,
    trust: Trust,
    item: Issue | None = None,
) -> tuple[list[ev.Event], bool]:
    """(the events one look calls for against this view and history, whether the look left the
    PR unsettled so the next sync must list it again). Pure, so it is planned again as is."""
    if view.state in _DONE:
        return [], False
    pull = look.pull
    number = view.pr_number or 0
    if pull is None:  # CI only: the PR did not move
        head = view.pr_head_sha
        feedback, ci = _decide(look, head, trust)
        fresh = _new(feedback, history)
        last = _last_watched(history)
        ci = view.ci if ci is None else ci
        if not fresh and ci == view.ci and look.etags == dict(last.get("etags") or {}):
            return [], False  # nothing new: no event for a look that saw what the last one did
        watched = ev.PullRequestWatched(
            number=number,
            head_sha=head,
            ci=ci,
            mergeable_state=str(last.get("mergeable_state") or ""),
            etags=look.etags,
        )
        return [watched, *fresh], False
    head = pull.head_sha or ""
    updated = pull.updated_at or (item.updated_at if item is not None else "") or ""
    if pull.merged:
        return [
            ev.PullRequestWatched(number=number, updated_at=updated, head_sha=head, ci=view.ci),
            ev.PullRequestMerged(
                number=number,
                merged_at=pull.merged_at or "",
                merged_by=_merged_by(pull),
                head_sha=head,
            ),
        ], False
    if pull.state != "open":
        closed: list[ev.Event] = [
            ev.PullRequestWatched(number=number, updated_at=updated, head_sha=head, ci=view.ci)
        ]
        if view.state != State.HELD:
            closed.append(ev.Held(reason="pr_closed", by="ghw"))
        return closed, False
    feedback, ci = _decide(look, head, trust)
    # GitHub answers mergeable null while it computes it: the conflict is unknown, so the look
    # is not recorded as done (no updated_at) and the next listing returns the PR again
    unsettled = pull.mergeable is None
    watched = ev.PullRequestWatched(
        number=number,
        updated_at="" if unsettled else updated,
        head_sha=head,
        ci=view.ci if ci is None else ci,
        mergeable_state=pull.mergeable_state or "",
        etags=look.etags,
    )
    return [watched, *_new(feedback, history)], unsettled


def _new(
    feedback: Sequence[ev.FeedbackReceived], history: Sequence[StoredEvent]
) -> list[ev.FeedbackReceived]:
    """The items not recorded for the issue yet, each once (the ledger refuses a second)."""
    seen = _recorded(history)
    out = []
    for item in feedback:
        if item.feedback_id not in seen:
            seen.add(item.feedback_id)
            out.append(item)
    return out


def _merged_by(pull: PullRequest) -> str:
    merged_by = pull.raw.get("merged_by") if isinstance(pull.raw, Mapping) else None
    login = merged_by.get("login") if isinstance(merged_by, Mapping) else None
    return login if isinstance(login, str) else ""


def _line(view: IssueView, events: Sequence[ev.Event]) -> str:
    """``  o/r#3: PR #7: 1 review (acted on), 1 comment ignored (bot)``, or "" if nothing new."""
    prefix = f"  {view.stream_id}: PR #{view.pr_number}"
    feedback = [e for e in events if isinstance(e, ev.FeedbackReceived)]
    if any(isinstance(e, ev.PullRequestMerged) for e in events):
        return f"{prefix} merged"
    if any(isinstance(e, ev.Held) for e in events):
        return f"{prefix} closed without merge: held (pr_closed)"
    if feedback:
        return f"{prefix}: {describe(feedback)}"
    return ""


async def watch_repo(
    ctx: PhaseContext,
    repo: str,
    views: Mapping[int, IssueView],
    pulls: Mapping[int, Issue],
    filters: Filters,
    sink: WatchSink,
) -> WatchReport:
    """Look at the watched PRs of one repository (``pulls``: the PR items the listing returned,
    by number; empty after a ``304``)."""
    report = WatchReport()
    now = ctx.clock()
    read: set[int] = set()  # issues whose PR was read whole in this pass
    watcher = _Watcher(ctx, repo, sink, Policy.from_config(ctx.config).trusted_associations, report)
    log = get_logger(phase="sync", cycle_id=ctx.cycle_id, repo=repo)
    for view in sorted(views.values(), key=lambda v: v.number):
        if not (
            is_watched(view, ctx.config, now)
            and filters.matches_number(view.number)
            and filters.matches_labels(view.labels)
        ):
            continue
        assert view.pr_number is not None
        try:
            if await watcher.look(view, pulls.get(view.pr_number)):
                read.add(view.number)
        except GhwError as exc:
            # one PR that cannot be read fails alone; nothing was recorded, so the next sync
            # (listing again, not a 304) reads it again
            log.warning("watching the PR failed", issue=view.number, error=str(exc))
            report.lines.append(f"  {view.stream_id}: PR #{view.pr_number}: FAILED: {exc}")
            item = pulls.get(view.pr_number)
            report.again(item.updated_at if item is not None else None)
    if report.merged:
        # A merge moved the base branch, and GitHub does not move the other PRs' updated_at for
        # that: read them whole once, so a conflict it caused is seen now (ADR 0070).
        for view in sorted(views.values(), key=lambda v: v.number):
            if view.number in read or view.pr_number is None:
                continue
            fresh = await ctx.ledger.issue(view.stream_id)
            if fresh is None or not is_watched(fresh, ctx.config, now):
                continue
            if not (filters.matches_number(view.number) and filters.matches_labels(view.labels)):
                continue
            try:
                await watcher.look(fresh, pulls.get(view.pr_number), force=True)
            except GhwError as exc:
                log.warning("watching the PR failed", issue=view.number, error=str(exc))
                report.lines.append(f"  {view.stream_id}: PR #{view.pr_number}: FAILED: {exc}")
                item = pulls.get(view.pr_number)
                report.again(item.updated_at if item is not None else None)
    if report.looked:
        log.info("pull requests watched", looked=report.looked, requests=report.requests)
    return report
