"""Plan, implement and review (§4.1), each one :class:`~ghw.phases.worker.StepSpec`.

Effects on GitHub are exactly-once: the intent (``PullRequestRequested`` / ``CommentRequested``)
is committed before the API call, and every retry first looks for what a crashed attempt may
already have made (the PR by its head branch, the comment by its hidden marker).
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from ghw.agents import AgentMode, AgentResult, AgentSettings
from ghw.machine import events as ev
from ghw.machine import history
from ghw.machine.states import State
from ghw.phases.context import Filters, PhaseContext
from ghw.phases.crashpoints import crashpoint
from ghw.phases.feedback import decide_self_review
from ghw.phases.files import issue_dir, visible_line, visible_text, write_text_atomic
from ghw.phases.outcome import PhaseOutcome
from ghw.phases.transitions import consumed_by
from ghw.phases.worker import (
    StepContext,
    StepResult,
    StepSpec,
    failure_event,
    run_fields,
    run_step_phase,
)
from ghw.prompts import quote

__all__ = [
    "IMPLEMENT",
    "PLAN",
    "REVIEW",
    "VERDICTS",
    "RepoInfo",
    "agent_failed",
    "fill_prompt",
    "git_token",
    "parse_verdict",
    "pr_key",
    "prepared_workspace",
    "previous_error",
    "prompt_template",
    "push_branch",
    "record_failure",
    "repo_info",
    "run_implement",
    "run_plan",
    "run_review",
    "started_event_of",
    "write_readable",
]

VERDICTS = ("approve", "request_changes", "comment")


# --- shared helpers -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RepoInfo:
    default_branch: str
    clone_url: str
    owner: str


async def repo_info(ctx: PhaseContext, repo: str) -> RepoInfo:
    cache: dict[str, RepoInfo] = ctx.caches.repo_info
    if repo not in cache:
        owner, name = repo.split("/", 1)
        info = await ctx.github.get_repo(owner, name)
        cache[repo] = RepoInfo(info.default_branch, info.clone_url, owner)
    return cache[repo]


def git_token(ctx: PhaseContext) -> str | None:
    return ctx.token


def _workspace(ctx: PhaseContext, repo: str, number: int, *, keep: bool = False) -> Any:
    # start-up: ghw.git loads only when a step needs a workspace
    from ghw.git import Mirror, Workspace

    owner, name = repo.split("/", 1)
    mirrors: dict[str, Any] = ctx.caches.mirrors
    if repo not in mirrors:
        mirrors[repo] = Mirror(ctx.issues_path / owner / name, repo, lambda: git_token(ctx))
    return Workspace(
        issue_dir(ctx.issues_path, repo, number) / "workspace", mirrors[repo], keep=keep
    )


async def prepared_workspace(step: StepContext, base: str, branch: str | None = None) -> Any:
    ctx = step.ctx
    info = await repo_info(ctx, step.repo)
    workspace = _workspace(
        ctx, step.repo, step.number, keep=bool(ctx.config["implement.keep_workspace"])
    )
    await _fetched(ctx, step.repo, workspace.mirror, info.clone_url)
    await workspace.prepare(base, branch)
    return workspace


async def _fetched(ctx: PhaseContext, repo: str, mirror: Any, clone_url: str) -> None:
    """Clone or fetch the mirror once per repository per phase run, shared by its steps.

    Every step of the run needs only what was on GitHub when the phase started (its own pushes
    go through the mirror), and one fetch per step would queue each step behind the others on
    the mirror's lock. A failed fetch is not remembered: the next step tries again.
    """

    fetches: dict[str, asyncio.Future[None]] = ctx.caches.mirror_fetches
    fetch = fetches.get(repo)
    if fetch is None or (fetch.done() and (fetch.cancelled() or fetch.exception() is not None)):
        fetch = fetches[repo] = asyncio.ensure_future(mirror.ensure(clone_url))
    await asyncio.shield(fetch)


def prompt_template(ctx: PhaseContext, phase: str) -> str:
    custom = ctx.config[f"prompts.{phase}"]
    if custom is not None:
        return Path(custom).read_text(encoding="utf-8")
    return resources.files("ghw.prompts").joinpath(f"{phase}.md").read_text(encoding="utf-8")


class _Blank(dict):  # type: ignore[type-arg]
    def __missing__(self, key: str) -> str:
        return ""


def fill_prompt(template: str, **values: Any) -> str:
    return template.format_map(_Blank(**{k: "" if v is None else v for k, v in values.items()}))


async def _issue_body(step: StepContext) -> str:
    return history.issue_body(await step.ctx.ledger.history(step.claim.stream_id))


async def previous_error(step: StepContext) -> str:
    if step.view.attempts and step.view.last_error:
        return f"\nA previous attempt failed with: {quote(step.view.last_error)}\nAvoid that this time.\n"
    return ""


async def _plan_text(step: StepContext) -> str | None:
    if step.view.plan_seq is None:
        return None
    return history.plan_text(
        await step.ctx.ledger.history(step.claim.stream_id), step.view.plan_seq
    )


def agent_failed(step: StepContext, cls: type[ev.Event], result: AgentResult) -> ev.Event:
    return failure_event(
        step,
        cls,
        result.error or f"agent {result.agent} failed ({result.error_kind})",
        transient=result.transient,
        error_kind=result.error_kind or "agent_error",
        result=result,
    )


async def record_failure(
    step: StepContext, event: ev.Event, result: AgentResult | None = None
) -> StepResult:
    await step.append([event])
    cost = float(result.cost_usd or 0.0) if result else 0.0
    retry = getattr(event, "next_retry_at", None)
    detail = f"{getattr(event, 'error', '')}" + (
        f" (retry at {retry})" if retry else " (waits for `ghw retry`)"
    )
    return StepResult("failed", cost_usd=cost, detail=detail)


# --- plan ---------------------------------------------------------------------------------------


def started_event_of(cls: type[ev.Event]) -> Callable[[AgentSettings], ev.Event]:
    """The step's ``*Started`` event for an agent; the claim adds the attempt and branch."""

    def build(settings: AgentSettings) -> ev.Event:
        return cls(agent=settings.name, model=settings.model)  # type: ignore[call-arg]

    return build


async def _trusted_comments(step: StepContext) -> str:
    owner, name = step.repo.split("/", 1)
    trusted = {a.upper() for a in step.ctx.config["policy.trusted_associations"]}
    comments = await step.ctx.github.list_issue_comments(owner, name, step.number)
    kept = [c for c in comments if (c.author_association or "NONE").upper() in trusted]
    if not kept:
        return ""
    parts = ["", "Comments by trusted members (also data):"]
    for c in kept:
        login = quote(c.user_login, line=True)
        parts.append(f"<<<COMMENT by {login}\n{quote(c.body)}\nCOMMENT>>>")
    return "\n".join(parts) + "\n"


async def _plan_step(step: StepContext) -> StepResult:
    ctx = step.ctx
    info = await repo_info(ctx, step.repo)
    prompt = fill_prompt(
        prompt_template(ctx, "plan"),
        repo=step.repo,
        number=step.number,
        base=info.default_branch,
        title=quote(step.view.title, line=True),
        labels=quote(", ".join(step.view.labels), line=True) or "(none)",
        author=quote(step.view.author, line=True),
        association=quote(step.view.association, line=True),
        body=quote(await _issue_body(step)),
        comments=await _trusted_comments(step),
        previous_error=await previous_error(step),
    )
    workspace = await prepared_workspace(step, info.default_branch)
    try:
        result = await step.run_agent(prompt, workspace.path, AgentMode.READ_ONLY)
        discarded = await workspace.discard_changes()
    finally:
        await workspace.remove()
    if step.stop.is_set() and not result.success:
        return StepResult("interrupted", detail="stopped")
    if not result.success:
        return await record_failure(step, agent_failed(step, ev.PlanFailed, result), result)
    if not result.text.strip():
        event = failure_event(
            step,
            ev.PlanFailed,
            "the agent returned an empty plan",
            transient=True,
            error_kind="empty_result",
            result=result,
        )
        return await record_failure(step, event, result)
    events: list[ev.Event] = [
        ev.PlanCompleted(text=result.text, discarded_changes=discarded, **run_fields(result))
    ]
    current = await ctx.ledger.issue(step.claim.stream_id)
    if current is not None and current.changed_since_plan:
        events.append(ev.PlanInvalidated(reason="the issue changed while it was being planned"))
    await step.append(events)
    note = f"\n\n<!-- discarded changes: {', '.join(discarded)} -->\n" if discarded else "\n"
    await write_readable(
        ctx,
        step,
        "plan.md",
        f"# Plan for {step.claim.stream_id}: {visible_line(step.view.title)}\n\n"
        f"{result.text}{note}",
    )
    detail = "stale: re-planned next cycle" if len(events) > 1 else ""
    if discarded:
        detail = (
            detail + "; " if detail else ""
        ) + f"discarded changes to {len(discarded)} file(s)"
    return StepResult("completed", cost_usd=float(result.cost_usd or 0.0), detail=detail)


async def write_readable(ctx: PhaseContext, step: StepContext, name: str, text: str) -> None:
    """A readable view (the event has the text as the agent gave it): control characters the
    agent echoed, say from the issue, are shown as \\xNN so `cat` cannot drive a terminal."""

    path = issue_dir(ctx.issues_path, step.repo, step.number) / name
    await asyncio.to_thread(write_text_atomic, path, visible_text(text))


PLAN = StepSpec(
    phase="plan",
    from_states=consumed_by(ev.PlanStarted),
    started=started_event_of(ev.PlanStarted),
    run=_plan_step,
    new_from=State.SYNCED,
    verb="plan",
)


async def run_plan(ctx: PhaseContext, filters: Filters) -> PhaseOutcome:
    return await run_step_phase(ctx, filters, PLAN)


# --- implement ----------------------------------------------------------------------------------


def pr_key(stream_id: str, branch: str) -> str:
    return hashlib.sha256(f"{stream_id}|{branch}".encode()).hexdigest()[:16]


async def _pushed_since_failure(step: StepContext, branch: str) -> str | None:
    """The sha of a BranchPushed of ``branch`` since the step last failed (or was reset)."""
    return history.pushed_since_failure(await step.ctx.ledger.history(step.claim.stream_id), branch)


async def push_branch(
    workspace: Any,
    branch: str,
    clone_url: str,
    token: str | None,
    sha: str,
    *,
    expected: str | None = None,
) -> str:
    """Push ``sha`` on ``branch``; a failed push whose commit is on GitHub anyway counts as done.
    ``expected``: the remote head the push must replace (``--force-with-lease``); by default
    what the mirror last saw.

    A push can land and its answer be lost (a connection dropped after the refs were updated);
    git's HTTP layer then sends it again, and that retry is refused because the ref already
    moved. What GitHub holds decides, not git's exit code.
    """
    # start-up: ghw.git loads only when a step needs a workspace
    from ghw.git import GitError

    try:
        lease: dict[str, Any] = {"expected": expected} if expected else {}
        return await workspace.push(branch, clone_url, token, **lease)
    except GitError:
        try:
            await workspace.mirror.ensure(clone_url)
            landed = await workspace.mirror.branch_sha(branch) == sha
        except GitError:
            landed = False
        if not landed:
            raise
        return sha


async def _branch_on_github(step: StepContext, info: RepoInfo, branch: str) -> bool:
    history_says = any(
        e.type in (ev.BranchPushed.TYPE, ev.PullRequestRequested.TYPE)
        and e.payload.get("branch") == branch
        for e in await step.ctx.ledger.history(step.claim.stream_id)
    )
    if history_says:
        return True
    workspace = _workspace(step.ctx, step.repo, step.number)
    await _fetched(step.ctx, step.repo, workspace.mirror, info.clone_url)
    return await workspace.mirror.branch_sha(branch) is not None


async def _implement_step(step: StepContext) -> StepResult:
    # start-up time: ghw.github loads httpx (~65 ms), and every `ghw` command reads the phase
    # table (registry.py, so this module) at start-up; a step has the GitHub client already
    from ghw.github.errors import GitHubError, ValidationFailedError

    ctx = step.ctx
    owner, name = step.repo.split("/", 1)
    branch = step.view.branch()
    info = await repo_info(ctx, step.repo)
    # 1. reconcile: a PR for this head may exist (ours from a crashed run, or opened by hand).
    # Only a branch that is on GitHub can have one, and the mirror (fetched once per phase
    # run, over git) knows: a first attempt on a new branch costs no REST request here.
    existing = []
    if await _branch_on_github(step, info, branch):
        existing = await ctx.github.list_pulls_by_head(owner, name, owner, branch, state="all")
    if existing:
        pr = sorted(existing, key=lambda p: p.number)[-1]
        if pr.state == "open":
            key = pr_key(step.claim.stream_id, branch)
            opened = (
                ev.PullRequestOpened(
                    number=pr.number, url=pr.html_url or "", branch=branch, key=key
                )
                if f"key={key}" in (pr.body or "")
                else ev.PullRequestAdopted(number=pr.number, url=pr.html_url or "", branch=branch)
            )
            await step.append(
                [
                    opened,
                    ev.ImplementCompleted(
                        pr_number=pr.number, pr_url=pr.html_url or "", branch=branch
                    ),
                ]
            )
            return StepResult(
                "completed",
                pr_url=pr.html_url,
                detail=f"PR #{pr.number} already open ({opened.TYPE})",
            )
        reason = "pr_merged" if pr.merged else "pr_closed"
        await ctx.ledger.append(
            step.claim.stream_id, None, [ev.Held(reason=reason, by="ghw")], cycle_id=ctx.cycle_id
        )
        return StepResult(
            "held",
            detail=f"PR #{pr.number} was {'merged' if pr.merged else 'closed'}; `ghw retry` works on a new branch",
        )
    # 2. run the agent, unless this step already pushed the branch
    cost = 0.0
    result: AgentResult | None = None
    if await _pushed_since_failure(step, branch) is None:
        plan = await _plan_text(step) or "(no plan: work from the issue)"
        prompt = fill_prompt(
            prompt_template(ctx, "implement"),
            repo=step.repo,
            number=step.number,
            branch=branch,
            title=quote(step.view.title, line=True),
            labels=quote(", ".join(step.view.labels), line=True) or "(none)",
            body=quote(await _issue_body(step)),
            plan=quote(plan),
            previous_error=await previous_error(step),
        )
        workspace = await prepared_workspace(step, info.default_branch, branch)
        try:
            result = await step.run_agent(prompt, workspace.path, AgentMode.WRITE)
            cost = float(result.cost_usd or 0.0)
            if step.stop.is_set() and not result.success:
                return StepResult("interrupted", cost_usd=cost, detail="stopped")
            if not result.success:
                return await record_failure(
                    step, agent_failed(step, ev.ImplementFailed, result), result
                )
            message = f"{step.view.title} (#{step.number})\n\nFixes #{step.number}\n\nMade by ghw with {result.agent}."
            sha = await workspace.commit_all(message, ctx.config["git.author"])
            if sha is None and (await workspace.diff_against(info.default_branch)).strip():
                # An interrupted attempt already pushed this branch (killed before BranchPushed
                # was recorded) and the workspace started from it: the change is there.
                sha = await workspace.head_sha()
            if sha is None:
                event = failure_event(
                    step,
                    ev.ImplementFailed,
                    "the agent changed nothing",
                    transient=False,
                    error_kind="no_changes",
                    result=result,
                )
                return await record_failure(step, event, result)
            pushed = await push_branch(workspace, branch, info.clone_url, git_token(ctx), sha)
            await step.append([ev.BranchPushed(branch=branch, sha=pushed)])
            crashpoint(ctx.environ, "after_push")
        finally:
            await workspace.remove()
    # 3. open the PR: intent first, so a crash between the call and its event is reconciled
    key = pr_key(step.claim.stream_id, branch)
    title = f"{step.view.title} (#{step.number})"
    plan = await _plan_text(step)
    summary = _summary(plan)
    body = (
        f"Fixes #{step.number}\n\n"
        + (f"## Plan\n\n{summary}\n\n" if summary else "")
        + f"Opened by ghw for {step.claim.stream_id}.\n\n<!-- ghw:issue={step.number} key={key} -->\n"
    )
    await step.append([ev.PullRequestRequested(key=key, branch=branch, title=title)])
    try:
        pr = await ctx.github.create_pull(
            owner,
            name,
            title=title,
            head=branch,
            base=info.default_branch,
            body=body,
            draft=bool(ctx.config["implement.draft"]),
        )
    except ValidationFailedError as exc:
        event = failure_event(
            step,
            ev.ImplementFailed,
            f"GitHub refused the pull request: {exc}",
            transient=False,
            error_kind="github_422",
            result=result,
        )
        return await record_failure(step, event, result)
    except GitHubError as exc:
        event = failure_event(
            step,
            ev.ImplementFailed,
            f"opening the pull request failed: {exc}",
            transient=exc.transient,
            error_kind=type(exc).__name__,
            result=result,
        )
        return await record_failure(step, event, result)
    crashpoint(ctx.environ, "after_pr_call")
    opened: ev.Event
    if getattr(pr, "existing", False):
        opened = ev.PullRequestAdopted(number=pr.number, url=pr.html_url or "", branch=branch)
    else:
        opened = ev.PullRequestOpened(
            number=pr.number, url=pr.html_url or "", branch=branch, key=key
        )
    await step.append(
        [
            opened,
            ev.ImplementCompleted(
                pr_number=pr.number,
                pr_url=pr.html_url or "",
                branch=branch,
                text=(result.text if result else "")[:4000],
                **run_fields(result),
            ),
        ]
    )
    ctx.reporter.line(f"  PR opened: {pr.html_url}")
    return StepResult("completed", cost_usd=cost, pr_url=pr.html_url, detail=f"PR #{pr.number}")


def _summary(plan: str | None, limit: int = 1500) -> str:
    if not plan:
        return ""
    text = plan.strip()
    return text if len(text) <= limit else text[:limit].rstrip() + "\n\n…"


IMPLEMENT = StepSpec(
    phase="implement",
    from_states=consumed_by(ev.ImplementStarted),
    started=started_event_of(ev.ImplementStarted),
    run=_implement_step,
    verb="implement",
)


async def run_implement(ctx: PhaseContext, filters: Filters) -> PhaseOutcome:
    return await run_step_phase(ctx, filters, IMPLEMENT)


# --- review -------------------------------------------------------------------------------------


def parse_verdict(text: str) -> str | None:
    """The verdict of the last non-empty line ``VERDICT: approve|request_changes|comment``."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return None
    match = re.fullmatch(r"\**VERDICT:\s*([a-z_]+)\**\.?", lines[-1], flags=re.IGNORECASE)
    if match is None:
        return None
    verdict = match.group(1).lower()
    return verdict if verdict in VERDICTS else None


async def _review_step(step: StepContext) -> StepResult:
    ctx = step.ctx
    owner, name = step.repo.split("/", 1)
    pr_number = step.view.pr_number
    if pr_number is None:
        event = failure_event(
            step,
            ev.ReviewFailed,
            "no pull request recorded for this issue",
            transient=False,
            error_kind="no_pr",
        )
        return await record_failure(step, event)
    pr = await ctx.github.get_pull(owner, name, pr_number)
    info = await repo_info(ctx, step.repo)
    workspace = await prepared_workspace(step, pr.base_ref or info.default_branch, pr.head_ref)
    # the diff as the PR shows it, from git (the workspace holds both sides): no second request
    diff = await workspace.diff_against(pr.base_ref or info.default_branch)
    plan = await _plan_text(step)
    prompt = fill_prompt(
        prompt_template(ctx, "review"),
        repo=step.repo,
        number=step.number,
        pr_number=pr_number,
        pr_title=quote(pr.title, line=True),
        pr_body=quote(pr.body),
        title=quote(step.view.title, line=True),
        body=quote(await _issue_body(step)),
        plan=f"\nThe plan it followed:\n\n{quote(plan)}\n" if plan else "",
        diff=quote(diff[:200_000]),
        previous_error=await previous_error(step),
    )
    head = await workspace.head_sha()
    if pr.head_sha and head != pr.head_sha:
        # never review other code than the PR's: the mirror may lag behind a fresh push
        await workspace.remove()
        event = failure_event(
            step,
            ev.ReviewFailed,
            f"the workspace is at {head[:12]}, not the PR head {pr.head_sha[:12]}; retrying after a fetch",
            transient=True,
            error_kind="head_mismatch",
        )
        return await record_failure(step, event)
    try:
        result = await step.run_agent(prompt, workspace.path, AgentMode.READ_ONLY)
        await workspace.discard_changes()
    finally:
        await workspace.remove()
    if step.stop.is_set() and not result.success:
        return StepResult("interrupted", detail="stopped")
    if not result.success:
        return await record_failure(step, agent_failed(step, ev.ReviewFailed, result), result)
    verdict = parse_verdict(result.text)
    if verdict is None:
        event = failure_event(
            step,
            ev.ReviewFailed,
            "the review has no last line `VERDICT: approve|request_changes|comment`",
            transient=False,
            error_kind="missing_verdict",
            result=result,
        )
        return await record_failure(step, event, result)
    comment_url = None
    if ctx.config["review.comment"]:
        head = getattr(pr, "head_sha", None) or "head"
        key = hashlib.sha256(
            f"{step.claim.stream_id}|review|{pr_number}|{head}".encode()
        ).hexdigest()[:16]
        marker = f"<!-- ghw:key={key} -->"
        await step.append([ev.CommentRequested(key=key, pr_number=pr_number)])
        comment, _posted = await ctx.github.create_comment_once(
            owner,
            name,
            pr_number,
            f"**ghw review** (verdict: `{verdict}`)\n\n{result.text}\n\n{marker}",
            marker,
        )
        crashpoint(ctx.environ, "after_comment_call")
        comment_url = comment.html_url
        await step.append(
            [ev.CommentPosted(key=key, comment_id=comment.id, url=comment.html_url or "")]
        )
    completed = ev.ReviewCompleted(
        verdict=verdict,
        text=result.text,
        pr_number=pr_number,
        comment_url=comment_url,
        **run_fields(result),
    )
    feedback = _self_review(ctx, verdict, result.text, pr_number, pr)
    if feedback:
        # the same head reviewed again (a person released it): that request is already recorded
        past = await ctx.ledger.history(step.claim.stream_id)
        seen = {e.payload.get("github_id") for e in past if e.type == ev.FeedbackReceived.TYPE}
        feedback = [f for f in feedback if f.github_id not in seen]  # type: ignore[attr-defined]
    await step.append([completed, *feedback])
    await write_readable(
        ctx,
        step,
        "review.md",
        f"# Review of PR #{pr_number} ({step.claim.stream_id})\n\nVerdict: {verdict}\n\n{result.text}\n",
    )
    return StepResult(
        "completed", cost_usd=float(result.cost_usd or 0.0), detail=f"verdict {verdict}"
    )


def _self_review(
    ctx: PhaseContext, verdict: str, text: str, pr_number: int, pr: Any
) -> list[ev.Event]:
    """ghw's own ``request_changes`` is feedback on its PR (§12)."""
    if verdict != "request_changes":
        return []
    head = getattr(pr, "head_sha", None) or ""
    url = getattr(pr, "html_url", None) or ""
    enabled = bool(ctx.config["followup.enabled"])
    return [decide_self_review(text, pr_number, head, url, enabled=enabled)]


REVIEW = StepSpec(
    phase="review",
    from_states=consumed_by(ev.ReviewStarted),
    started=started_event_of(ev.ReviewStarted),
    run=_review_step,
    verb="review",
)


async def run_review(ctx: PhaseContext, filters: Filters) -> PhaseOutcome:
    return await run_step_phase(ctx, filters, REVIEW)
