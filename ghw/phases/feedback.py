"""Which of a PR's reviews, comments, checks and conflicts ghw acts on, and why not (§12). Pure.

The watch (:mod:`ghw.phases.watch`) reads a pull request; this module turns what it read into
``FeedbackReceived`` events with the decision written in (``actionable``, ``reason``), so the fold
never reads today's configuration. Nothing here does I/O: the inputs are the GitHub client's
models (read through their attributes only, so this module does not load ``httpx``).

Acted on only when the author is trusted (the §4.2 associations), is not a bot and is not ghw
itself (its ``<!-- ghw:`` markers, or the token's own login); for CI only completed failing runs
and statuses on the head. Ignored feedback is still recorded, with its reason; only a pending
review, an empty ``COMMENTED`` review (its line comments speak for it) and unsettled CI are not.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ghw.machine import events as ev

if TYPE_CHECKING:  # start-up time: ghw.github.models loads httpx; only the attributes are read
    from ghw.github.models import (
        CheckRun,
        CombinedStatus,
        Comment,
        PullRequest,
        Review,
        ReviewComment,
    )

__all__ = [
    "BODY_CAP",
    "GHW_MARKER",
    "Trust",
    "ci_state",
    "decide_checks",
    "decide_comment",
    "decide_conflict",
    "decide_review",
    "decide_review_comment",
    "decide_self_review",
    "describe",
    "ignore_reason",
    "is_bot",
    "sha256",
]

# what ghw writes into every PR body and comment it posts (steps.py: ``<!-- ghw:issue=… -->``,
# ``<!-- ghw:key=… -->``, ``<!-- ghw:revision=… -->``)
GHW_MARKER = "<!-- ghw:"
# a stored body is quoted into the revision prompt: long CI logs are cut, the hash keeps it all
BODY_CAP = 8000
_SUMMARY_CAP = 120
_FAILING_CHECKS = frozenset({"failure", "timed_out", "startup_failure"})
_UNSETTLED_CHECKS = frozenset({"queued", "in_progress", "waiting", "requested", "pending"})
_FAILING_STATUSES = frozenset({"failure", "error"})


@dataclass(frozen=True)
class Trust:
    """Whose feedback ghw acts on: ``associations`` upper-case (``Policy.trusted_associations``),
    ``own_login`` the token's account (``GET /user``; None when it could not be read)."""

    associations: tuple[str, ...] = ("OWNER", "MEMBER", "COLLABORATOR")
    own_login: str | None = None


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()


def is_bot(login: str | None, user_type: str | None) -> bool:
    """GitHub's two marks of a bot: ``type == "Bot"`` or a GitHub App's ``name[bot]`` login
    (the same rule as ``ghw.github.models.is_bot_account``, without loading the client)."""
    return (user_type or "").casefold() == "bot" or (login or "").casefold().endswith("[bot]")


def ignore_reason(
    author: str | None, association: str | None, author_type: str | None, body: str, trust: Trust
) -> str:
    """Why a person's item is not acted on ("" when it is): ghw itself first (its own words must
    never start a round, whoever's account posted them), then bots, then untrusted authors."""
    own = (trust.own_login or "").casefold()
    if GHW_MARKER in body or (own and (author or "").casefold() == own):
        return "ghw itself"
    if is_bot(author, author_type):
        return "bot"
    assoc = (association or "").strip().upper() or "NONE"
    if assoc not in {a.strip().upper() for a in trust.associations}:
        return f"untrusted author ({assoc})"
    return ""


def _cap(text: str, limit: int = BODY_CAP) -> str:
    return text if len(text) <= limit else text[: limit - 14] + "\n… (truncated)"


def _first_line(text: str) -> str:
    line = next((part.strip() for part in text.splitlines() if part.strip()), "")
    return line if len(line) <= _SUMMARY_CAP else line[: _SUMMARY_CAP - 1] + "…"


def _person(
    source: str,
    github_id: str,
    *,
    author: str | None,
    association: str | None,
    author_type: str | None,
    body: str,
    head_sha: str,
    url: str | None,
    summary: str,
    trust: Trust,
    reason: str = "",
) -> ev.FeedbackReceived:
    """An item written by an account: acted on unless ``ignore_reason`` (or ``reason``) says why
    not. Only an acted-on item keeps its body (the prompt quotes it); every one keeps its hash."""
    reason = ignore_reason(author, association, author_type, body, trust) or reason
    actionable = not reason
    return ev.FeedbackReceived(
        source=source,
        github_id=github_id,
        author=author or "",
        association=(association or "").upper() or "NONE",
        author_type=author_type or "",
        head_sha=head_sha,
        url=url or "",
        summary=summary,
        body=_cap(body) if actionable else "",
        body_sha256=sha256(body),
        actionable=actionable,
        reason=reason,
    )


def decide_review(review: Review, head_sha: str, trust: Trust) -> ev.FeedbackReceived | None:
    """A submitted review: ``CHANGES_REQUESTED`` and a ``COMMENTED`` one with a body are acted on;
    an approval and a dismissed review are recorded only. A pending review (not submitted) and an
    empty ``COMMENTED`` one (the container of line comments, recorded one by one) are not."""
    state = review.state.upper()
    body = review.body or ""
    if state == "PENDING" or (state == "COMMENTED" and not body.strip()):
        return None
    reason = {"APPROVED": "approval", "DISMISSED": "dismissed"}.get(state, "")
    if state not in ("CHANGES_REQUESTED", "COMMENTED", "APPROVED", "DISMISSED"):
        reason = f"review state {state}"
    words = state.lower().replace("_", " ")
    return _person(
        "review",
        str(review.id),
        author=review.user_login,
        association=review.author_association,
        author_type=review.user_type,
        body=body,
        head_sha=review.commit_id or head_sha,
        url=review.html_url,
        summary=f"{words} by {review.user_login or '?'}: {_first_line(body)}".rstrip(": "),
        trust=trust,
        reason=reason,
    )


def decide_self_review(
    text: str, pr_number: int, head_sha: str, url: str, *, enabled: bool
) -> ev.FeedbackReceived:
    """ghw's own ``request_changes`` verdict (source ``self_review``): once per reviewed head,
    acted on while the follow-up is on."""
    return ev.FeedbackReceived(
        source="self_review",
        github_id=f"{pr_number}@{head_sha or 'head'}",
        author="ghw",
        head_sha=head_sha,
        url=url,
        summary=_first_line(text),
        body=_cap(text) if enabled else "",
        body_sha256=sha256(text),
        actionable=enabled,
        reason="" if enabled else "followup.enabled is false",
    )


def decide_review_comment(
    comment: ReviewComment, head_sha: str, trust: Trust
) -> ev.FeedbackReceived:
    where = f"{comment.path}:{comment.line if comment.line is not None else comment.original_line}"
    return _person(
        "review_comment",
        str(comment.id),
        author=comment.user_login,
        association=comment.author_association,
        author_type=comment.user_type,
        body=comment.body or "",
        head_sha=comment.commit_id or head_sha,
        url=comment.html_url,
        summary=f"{where} ({comment.user_login or '?'}): {_first_line(comment.body or '')}",
        trust=trust,
    )


def decide_comment(comment: Comment, head_sha: str, trust: Trust) -> ev.FeedbackReceived:
    return _person(
        "comment",
        str(comment.id),
        author=comment.user_login,
        association=comment.author_association,
        author_type=comment.user_type,
        body=comment.body or "",
        head_sha=head_sha,
        url=comment.html_url,
        summary=f"comment by {comment.user_login or '?'}: {_first_line(comment.body or '')}",
        trust=trust,
    )


def _ci(
    github_id: str,
    head_sha: str,
    url: str | None,
    summary: str,
    body: str,
    author: str,
    reason: str,
) -> ev.FeedbackReceived:
    # CI speaks for the repository's own checks: no author to trust, so only its result counts
    return ev.FeedbackReceived(
        source="ci",
        github_id=github_id,
        author=author,
        author_type="CI",
        head_sha=head_sha,
        url=url or "",
        summary=summary,
        body=_cap(body) if not reason else "",
        body_sha256=sha256(body),
        actionable=not reason,
        reason=reason,
    )


def _check_state(run: CheckRun) -> str:
    """pending | failure | action_required | success (neutral, skipped, cancelled, stale…)."""
    if run.status != "completed":
        return "pending"
    if run.conclusion in _FAILING_CHECKS:
        return "failure"
    if run.conclusion == "action_required":
        return "action_required"
    return "success"


def ci_state(states: Iterable[str]) -> str:
    """The PR's CI in one word: pending if anything is, else failure, else action_required, else
    success; "" when the head has no checks and no statuses at all."""
    seen = set(states)
    for state in ("pending", "failure", "action_required", "success"):
        if state in seen:
            return state
    return ""


def decide_checks(
    runs: Sequence[CheckRun], status: CombinedStatus | None, head_sha: str
) -> tuple[list[ev.FeedbackReceived], str]:
    """(feedback, ci) from the head's check runs and commit statuses. A completed failing run or a
    failing status is acted on; ``action_required`` is recorded only (a person must approve the
    run: looping on it would never end); anything pending records nothing and makes ci pending."""
    out: list[ev.FeedbackReceived] = []
    states: list[str] = []
    for run in runs:
        if run.head_sha and head_sha and run.head_sha != head_sha:
            continue  # another commit's run: not the head's CI
        state = _check_state(run)
        states.append(state)
        if state not in ("failure", "action_required"):
            continue
        body = "\n\n".join(part for part in (run.summary, run.text) if part)
        out.append(
            _ci(
                str(run.id),
                head_sha,
                run.html_url or run.details_url,
                f"{run.name}: {run.title or run.conclusion}",
                body,
                run.app_slug or "",
                "" if state == "failure" else "action_required: a person must approve the run",
            )
        )
    for commit_status in status.statuses if status is not None else ():
        if commit_status.state == "pending":
            states.append("pending")
        elif commit_status.state in _FAILING_STATUSES:
            states.append("failure")
            description = commit_status.description or commit_status.state
            out.append(
                _ci(
                    f"status:{commit_status.context}:{head_sha}",
                    head_sha,
                    commit_status.target_url,
                    f"{commit_status.context}: {description}",
                    description,
                    "",
                    "",
                )
            )
        else:
            states.append("success")
    return out, ci_state(states)


def decide_conflict(pull: PullRequest) -> ev.FeedbackReceived | None:
    """A PR that no longer merges (``mergeable_state`` dirty) is acted on, once per (head, base):
    the same conflict is not reported twice, a new base or head may conflict anew."""
    if pull.mergeable_state != "dirty":
        return None
    head, base = pull.head_sha or "", pull.base_sha or ""
    branch = pull.base_ref or "the base branch"
    body = f"merge {branch} ({base[:12]}) into this branch"
    return ev.FeedbackReceived(
        source="conflict",
        github_id=f"{head}:{base}",
        head_sha=head,
        url=pull.html_url or "",
        summary=f"conflicts with {branch}",
        body=body,
        body_sha256=sha256(body),
        actionable=True,
    )


_NOUNS = {
    "review": "review",
    "review_comment": "review comment",
    "comment": "comment",
    "ci": "CI failure",
    "conflict": "conflict",
    "self_review": "self-review",
}


def describe(feedback: Sequence[ev.FeedbackReceived]) -> str:
    """``1 review (acted on), 1 comment ignored (bot)``: what a look recorded, for the console."""
    groups: dict[tuple[str, bool, str], int] = {}
    for item in feedback:
        key = (item.source, item.actionable, item.reason)
        groups[key] = groups.get(key, 0) + 1
    parts = []
    for (source, actionable, reason), n in groups.items():
        noun = _NOUNS.get(source, source)
        if source == "ci" and not actionable:
            noun = "CI result"
        words = f"{n} {noun}{'s' if n != 1 else ''}"
        parts.append(f"{words} (acted on)" if actionable else f"{words} ignored ({reason})")
    return ", ".join(parts)
