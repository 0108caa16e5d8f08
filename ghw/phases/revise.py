"""The revise step (§12): one round of changes on a pull request ghw opened, for the feedback
waiting on it (trusted reviews and comments, failing CI, a conflict with the base).

ghw, never the agent, commits, pushes to the same branch (``--force-with-lease`` against the
head it read) and replies once on the PR. Every effect is exactly-once across crashes: a round's
push is recorded (``BranchPushed``) before the reply, a retry of the round that finds it skips
the agent, and the reply carries a hidden marker the retry looks for first.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from pathlib import Path

from ghw.agents import AgentMode
from ghw.durations import format_duration
from ghw.machine import events as ev
from ghw.machine import history
from ghw.machine.view import IssueView
from ghw.phases.context import Filters, PhaseContext
from ghw.phases.crashpoints import crashpoint
from ghw.phases.outcome import PhaseOutcome
from ghw.phases.steps import (
    agent_failed,
    fill_prompt,
    git_token,
    prepared_workspace,
    previous_error,
    prompt_template,
    push_branch,
    record_failure,
    repo_info,
    started_event_of,
    write_readable,
)
from ghw.phases.transitions import consumed_by
from ghw.phases.watch import past_max_age
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
    "REVISE",
    "conflict_marker_lines",
    "revise_guard",
    "revision_key",
    "run_revise",
]

# A line git writes around a conflict: the markers a resolved file no longer holds.
_MARKER = re.compile(r"^(<{7}|>{7})( |$)|^={7}$", re.MULTILINE)


def conflict_marker_lines(text: str) -> list[int]:
    """1-based line numbers of conflict markers left in ``text``."""
    return [text.count("\n", 0, m.start()) + 1 for m in _MARKER.finditer(text)]


def revision_key(stream_id: str, pr_number: int, round_number: int) -> str:
    return hashlib.sha256(f"{stream_id}|revision|{pr_number}|{round_number}".encode()).hexdigest()[
        :16
    ]


def revise_guard(ctx: PhaseContext, view: IssueView) -> str | None:
    """Why a PR waiting for a revision is held before its round starts (only a person lifts
    it): its rounds are used up, or it is older than ``followup.max_age``."""
    max_rounds = int(ctx.config["followup.max_rounds"])
    if view.rounds - view.rounds_base >= max_rounds:
        return f"max_rounds: {view.rounds - view.rounds_base} rounds of {max_rounds} done"
    if past_max_age(view, ctx.config, ctx.clock()):
        age = format_duration(ctx.config["followup.max_age"])
        return f"max_age: PR opened {view.pr_opened_ts}, more than {age} ago"
    return None


def _feedback_block(items: list[ev.FeedbackReceived]) -> str:
    out: list[str] = []
    for item in items:
        who = item.author or "?"
        head = f"- feedback {item.feedback_id} ({item.source}) by {quote(who, line=True)}"
        if item.summary:
            head += f": {quote(item.summary, line=True)}"
        out.append(head)
        if item.url:
            out.append(f"  {quote(item.url, line=True)}")
        if item.body:
            out.append(quote(item.body[:8000]))
        out.append("")
    return "\n".join(out).rstrip()


async def _reply(
    step: StepContext, pr_number: int, items: list[ev.FeedbackReceived], text: str, sha: str
) -> str | None:
    """The one reply comment of this round (intent first; the marker finds a crashed call's)."""
    ctx = step.ctx
    owner, name = step.repo.split("/", 1)
    round_number = step.view.rounds + 1
    key = revision_key(step.claim.stream_id, pr_number, round_number)
    marker = f"<!-- ghw:revision={round_number} key={key} -->"
    listed = "\n".join(
        f"- {item.source}: {quote(item.summary or item.feedback_id, line=True)}" for item in items
    )
    body = (
        f"**ghw revision {round_number}** ({sha[:10]})\n\nAddressed:\n{listed}\n\n"
        f"{text.strip()[:6000]}\n\n{marker}\n"
    )
    await step.append([ev.CommentRequested(key=key, pr_number=pr_number)])
    comment, _posted = await ctx.github.create_comment_once(owner, name, pr_number, body, marker)
    crashpoint(ctx.environ, "after_reply_call")
    await step.append(
        [ev.CommentPosted(key=key, comment_id=comment.id, url=comment.html_url or "")]
    )
    return comment.html_url


async def _revise_step(step: StepContext) -> StepResult:
    ctx = step.ctx
    owner, name = step.repo.split("/", 1)
    pr_number = step.view.pr_number
    if pr_number is None:
        event = failure_event(
            step, ev.RevisionFailed, "no pull request recorded", transient=False, error_kind="no_pr"
        )
        return await record_failure(step, event)
    past = await ctx.ledger.history(step.claim.stream_id)
    items = history.feedback_items(past, step.view.feedback_waiting)
    pr = await ctx.github.get_pull(owner, name, pr_number)
    branch = pr.head_ref or step.view.branch()
    info = await repo_info(ctx, step.repo)
    base = pr.base_ref or info.default_branch
    pushed = history.revision_pushed(past, branch)
    text = ""
    result = None
    cost = 0.0
    if pushed is None:
        # 1. the workspace is the PR's branch at the head GitHub has; a conflict merges the base
        workspace = await prepared_workspace(step, base, branch)
        try:
            head = await workspace.head_sha()
            if pr.head_sha and head != pr.head_sha:
                event = failure_event(
                    step,
                    ev.RevisionFailed,
                    f"the workspace is at {head[:12]}, not the PR head {pr.head_sha[:12]}; "
                    "retrying after a fetch",
                    transient=True,
                    error_kind="head_mismatch",
                )
                return await record_failure(step, event)
            conflict = ""
            if any(item.source == "conflict" for item in items):
                conflicted = await workspace.merge_base(base, ctx.config["git.author"])
                if conflicted:
                    files = ", ".join(conflicted)
                    conflict = (
                        f"\nghw merged `{base}` into this branch and git left conflicts in: "
                        f"{files}. Resolve them (keep both sides' intent) and remove every "
                        "conflict marker.\n"
                    )
            prompt = fill_prompt(
                prompt_template(ctx, "revise"),
                repo=step.repo,
                number=step.number,
                pr_number=pr_number,
                branch=branch,
                title=quote(step.view.title, line=True),
                feedback=_feedback_block(items) or "(no details recorded)",
                conflict=conflict,
                previous_error=await previous_error(step),
            )
            result = await step.run_agent(prompt, workspace.path, AgentMode.WRITE)
            cost = float(result.cost_usd or 0.0)
            text = result.text or ""
            if step.stop.is_set() and not result.success:
                return StepResult("interrupted", cost_usd=cost, detail="stopped")
            if not result.success:
                return await record_failure(
                    step, agent_failed(step, ev.RevisionFailed, result), result
                )
            # 2. never push a conflict marker: the round fails, the branch is untouched
            changed = await workspace.changed_files()
            # files read on a thread: the event loop keeps renewing the lease meanwhile
            markers = await asyncio.to_thread(_files_with_markers, workspace.path, changed)
            if markers:
                event = failure_event(
                    step,
                    ev.RevisionFailed,
                    "conflict markers left in " + ", ".join(markers) + "; nothing was pushed",
                    transient=True,
                    error_kind="conflict_markers",
                    result=result,
                )
                return await record_failure(step, event, result)
            round_number = step.view.rounds + 1
            message = (
                f"Revise #{step.number}: round {round_number}\n\n"
                f"Addresses {', '.join(i.feedback_id for i in items) or 'the review'} on PR "
                f"#{pr_number}.\n\nMade by ghw with {result.agent}."
            )
            sha = await workspace.commit_all(message, ctx.config["git.author"])
            if sha is None:
                # 3. a round that changes nothing would repeat forever: a person decides
                await ctx.ledger.append(
                    step.claim.stream_id,
                    None,
                    [ev.Held(reason="no_progress: the round changed nothing", by="ghw")],
                    cycle_id=ctx.cycle_id,
                )
                return StepResult("held", cost_usd=cost, detail="no progress: nothing changed")
            expected = pr.head_sha or None
            pushed = await push_branch(
                workspace, branch, info.clone_url, git_token(ctx), sha, expected=expected
            )
            await step.append([ev.BranchPushed(branch=branch, sha=pushed)])
            crashpoint(ctx.environ, "after_revision_push")
        finally:
            await workspace.remove()
    # 4. one reply, then the round is done: review runs again on the new head
    comment_url = await _reply(step, pr_number, items, text or "(changes pushed)", pushed)
    await step.append(
        [
            ev.RevisionCompleted(
                round=step.view.rounds + 1,
                head_sha=pushed,
                addressed=[item.feedback_id for item in items],
                text=text[:4000],
                pr_number=pr_number,
                comment_url=comment_url,
                **run_fields(result),
            )
        ]
    )
    await write_readable(
        ctx,
        step,
        f"revision-{step.view.rounds + 1}.md",
        f"# Revision {step.view.rounds + 1} of PR #{pr_number} ({step.claim.stream_id})\n\n{text}\n",
    )
    return StepResult("completed", cost_usd=cost, detail=f"round {step.view.rounds + 1}")


def _files_with_markers(root: Path, paths: list[str]) -> list[str]:
    out: list[str] = []
    for rel in paths:
        path = root / rel
        try:
            if not path.is_file() or path.stat().st_size > 5_000_000:
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        if conflict_marker_lines(text):
            out.append(rel)
    return out


REVISE = StepSpec(
    phase="revise",
    from_states=consumed_by(ev.RevisionStarted),
    started=started_event_of(ev.RevisionStarted),
    run=_revise_step,
    verb="revise",
    guard=revise_guard,
)


async def run_revise(ctx: PhaseContext, filters: Filters) -> PhaseOutcome:
    if not ctx.config["followup.enabled"]:
        return PhaseOutcome("revise")  # off: nothing is watched, nothing waits for a round
    return await run_step_phase(ctx, filters, REVISE)
