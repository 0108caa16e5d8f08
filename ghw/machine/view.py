"""The read model of one issue: what the fold of its events yields."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

__all__ = ["VIEW_FIELDS", "IssueView", "parse_issue_stream"]


def parse_issue_stream(stream_id: str) -> tuple[str, int]:
    """``owner/repo#42`` -> (``owner/repo``, 42)."""
    repo, _, number = stream_id.rpartition("#")
    return repo, int(number)


@dataclass(slots=True)
class IssueView:
    """Everything ``status``, claims and phases need to know about an issue, derived from events.

    Mutable only inside the fold, which copies before changing; treat instances as values.
    """

    stream_id: str
    repo: str
    number: int
    state: str
    version: int = 0
    last_seq: int = 0
    updated_ts: str = ""
    title: str = ""
    labels: list[str] = field(default_factory=list)
    author: str = ""
    association: str = ""
    html_url: str = ""
    gh_created_at: str = ""
    gh_updated_at: str = ""
    content_hash: str = ""
    eligible: bool = True
    skip_reason: str = ""
    attempts: int = 0
    next_retry_at: str | None = None
    claimed_from: str | None = None
    held_from: str | None = None
    held_reason: str | None = None
    changed_since_plan: bool = False
    pr_number: int | None = None
    pr_url: str | None = None
    branch_gen: int = 0
    last_error: str | None = None
    last_error_kind: str | None = None
    cost_usd: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    plan_seq: int | None = None
    verdict: str | None = None
    agent: str | None = None
    # follow-up (§12): the PR as last looked at, feedback waiting and handled, revision rounds
    pr_opened_ts: str = ""  # when ghw opened or adopted the PR (followup.max_age counts from it)
    pr_seen_updated_at: str = ""  # the PR's updated_at at the last look (read again when it moves)
    pr_head_sha: str = ""
    ci: str = ""  # CI on the head as last read: "" | pending | success | failure | action_required
    feedback_waiting: list[str] = field(default_factory=list)  # actionable, not yet addressed
    feedback_handled: int = 0  # feedback items a revision addressed
    feedback_ignored: int = 0  # recorded but not acted on (with their reasons, in the history)
    rounds: int = 0  # revision rounds completed on the PR
    rounds_base: int = 0  # rounds already counted when a person last lifted a max_rounds hold
    pr_merged_at: str = ""

    def clone(self) -> IssueView:
        new = object.__new__(IssueView)
        for name in VIEW_FIELDS:
            setattr(new, name, getattr(self, name))
        new.labels = list(self.labels)
        new.feedback_waiting = list(self.feedback_waiting)
        return new

    def branch(self) -> str:
        """The head branch ghw works on: ``ghw/issue-N``, or ``ghw/issue-N-k`` after a closed PR."""
        base = f"ghw/issue-{self.number}"
        return base if self.branch_gen == 0 else f"{base}-{self.branch_gen}"


VIEW_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(IssueView))
