"""Pull-request logic that needs git: GitHub's 422 checks on create, live shas, close and merge."""

from __future__ import annotations

import re
from typing import Any

from ghw.fakehub.checks import ci_unsettled_or_failing
from ghw.fakehub.context import HubContext
from ghw.fakehub.errors import ApiError, validation_failed
from ghw.fakehub.model import Issue, Repo

__all__ = [
    "CREATE_DOCS",
    "association_for",
    "close_pull",
    "closing_references",
    "create_pull",
    "live_shas",
    "merge_pull",
    "mergeable_state",
    "pull_diff",
    "pull_stats",
]

CREATE_DOCS = "https://docs.github.com/rest/pulls/pulls#create-a-pull-request"
# GitHub's closing keywords ("Fixes #3", "closes: acme/widgets#4"), one keyword per issue.
_CLOSING = re.compile(
    r"\b(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?):?\s+(?:([\w.-]+/[\w.-]+))?#(\d+)\b",
    re.IGNORECASE,
)


def association_for(repo: Repo, login: str) -> str:
    """The token's account owns the repo or, having push access, is a collaborator."""
    return "OWNER" if login.lower() == repo.owner.lower() else "COLLABORATOR"


def _invalid(field: str) -> ApiError:
    return validation_failed(
        {"resource": "PullRequest", "field": field, "code": "invalid"},
        documentation_url=CREATE_DOCS,
    )


def create_pull(ctx: HubContext, repo: Repo, data: dict[str, Any]) -> Issue:
    """``POST /repos/{o}/{r}/pulls`` with GitHub's validation, in GitHub's order."""
    for name in ("head", "base"):
        if not isinstance(data.get(name), str) or not data.get(name):
            raise validation_failed(
                {"resource": "PullRequest", "code": "missing_field", "field": name},
                documentation_url=CREATE_DOCS,
            )
    title = data.get("title")
    if not isinstance(title, str) or not title.strip():
        raise validation_failed(
            {"resource": "PullRequest", "code": "missing_field", "field": "title"},
            documentation_url=CREATE_DOCS,
        )
    head: str = data["head"]
    base: str = data["base"]
    if ":" in head:
        head_owner, _, head = head.partition(":")
        if head_owner.lower() != repo.owner.lower():
            raise _invalid("head")
    git = ctx.store.git(repo)
    head_sha = git.branch_sha(head)
    if head_sha is None:
        raise _invalid("head")
    base_sha = git.branch_sha(base)
    if base_sha is None:
        raise _invalid("base")
    refuse = ctx.refuse_duplicate_pulls
    with ctx.store.lock:
        existing = ctx.store.open_pull_for_head(repo, head) if refuse else None
        if existing is None and git.count_commits(base_sha, head_sha) == 0:
            raise validation_failed(
                {
                    "resource": "PullRequest",
                    "code": "custom",
                    "message": f"No commits between {base} and {head}",
                },
                documentation_url=CREATE_DOCS,
            )
        return ctx.store.create_pull(
            repo,
            title=title,
            body=data.get("body"),
            head_ref=head,
            base_ref=base,
            head_sha=head_sha,
            base_sha=base_sha,
            draft=bool(data.get("draft", False)),
            author=ctx.api_login,
            association=association_for(repo, ctx.api_login),
            refuse_duplicate=refuse,
        )


def live_shas(issue: Issue, branches: dict[str, str]) -> tuple[str, str]:
    """(head sha, base sha): open PRs follow their branches; closed ones keep what they had."""
    pull = issue.pull
    assert pull is not None
    if pull.merged:
        return pull.head_sha, branches.get(pull.base_ref, pull.base_sha)
    head = branches.get(pull.head_ref, pull.head_sha) if issue.state == "open" else pull.head_sha
    return head, branches.get(pull.base_ref, pull.base_sha)


def _diff_range(ctx: HubContext, repo: Repo, issue: Issue) -> tuple[str, str]:
    pull = issue.pull
    assert pull is not None
    if pull.merged:
        return pull.base_sha, pull.head_sha
    head, base = live_shas(issue, ctx.store.git(repo).branches())
    return base, head


def pull_diff(ctx: HubContext, repo: Repo, issue: Issue, *, patch: bool = False) -> str:
    base, head = _diff_range(ctx, repo, issue)
    git = ctx.store.git(repo)
    return git.patch(base, head) if patch else git.diff(base, head)


def pull_stats(ctx: HubContext, repo: Repo, issue: Issue) -> dict[str, Any]:
    """The extra numbers of a single pull request (commits, additions, mergeability)."""
    base, head = _diff_range(ctx, repo, issue)
    git = ctx.store.git(repo)
    files, adds, dels = git.shortstat(base, head)
    stats: dict[str, Any] = {
        "commits": git.count_commits(base, head),
        "additions": adds,
        "deletions": dels,
        "changed_files": files,
        "mergeable": None,
        "mergeable_state": "unknown",
    }
    if issue.state == "open":
        clean = git.can_merge(base, head)
        stats["mergeable"] = clean
        stats["mergeable_state"] = mergeable_state(repo, issue, head, clean=clean)
    return stats


def mergeable_state(repo: Repo, issue: Issue, head: str, *, clean: bool) -> str:
    """GitHub's ``mergeable_state`` of an open PR, most pressing first: ``dirty`` (conflicts),
    ``draft``, ``unstable`` (a check or status on the head pending or not passing), ``clean``."""
    assert issue.pull is not None
    if not clean:
        return "dirty"
    if issue.pull.draft:
        return "draft"
    return "unstable" if ci_unsettled_or_failing(repo, head) else "clean"


def closing_references(repo: Repo, body: str | None) -> list[int]:
    """Issue numbers of this repository that ``body`` says the PR closes, in order."""
    numbers: list[int] = []
    for match in _CLOSING.finditer(body or ""):
        other = match.group(1)
        if other is not None and other.lower() != repo.full_name.lower():
            continue  # another repository's issue: fakehub has no cross-repository closing
        number = int(match.group(2))
        if number not in numbers:
            numbers.append(number)
    return numbers


def _close_fixed_issues(ctx: HubContext, repo: Repo, pull: Issue, actor: str) -> None:
    """What GitHub does on merging into the default branch: close the open issues (not PRs) the
    PR's body references with a closing keyword, as completed, by whoever merged."""
    assert pull.pull is not None
    if pull.pull.base_ref != repo.default_branch:
        return
    for number in closing_references(repo, pull.body):
        target = repo.issues.get(number)
        if target is None or target.pull is not None or target.state != "open":
            continue
        ctx.store.update_issue(
            repo, target, {"state": "closed", "state_reason": "completed"}, actor=actor
        )


def close_pull(ctx: HubContext, repo: Repo, issue: Issue, actor: str) -> Issue:
    if issue.pull is None:
        raise ApiError(404, "Not Found")
    if issue.state == "closed":
        return issue
    head = ctx.store.git(repo).branch_sha(issue.pull.head_ref)
    return ctx.store.close_pull(repo, issue, actor=actor, head_sha=head)


def merge_pull(ctx: HubContext, repo: Repo, issue: Issue, actor: str) -> Issue:
    """Merge with a real merge commit on the base branch; 405 when closed or conflicting."""
    pull = issue.pull
    if pull is None:
        raise ApiError(404, "Not Found")
    if issue.state != "open":
        raise ApiError(405, "Pull Request is not mergeable")
    git = ctx.store.git(repo)
    with ctx.store.lock:
        head = git.branch_sha(pull.head_ref) or pull.head_sha
        base = git.branch_sha(pull.base_ref) or pull.base_sha
        sha = git.merge(
            pull.base_ref,
            pull.head_ref,
            message=f"Merge pull request #{issue.number} from {repo.owner}/{pull.head_ref}",
            when=ctx.clock.now_int(),
            author=(actor, f"{actor}@users.noreply.127.0.0.1"),
        )
        if sha is None:
            raise ApiError(405, "Pull Request is not mergeable")
        merged = ctx.store.mark_merged(
            repo, issue, sha=sha, head_sha=head, base_sha=base, actor=actor
        )
        _close_fixed_issues(ctx, repo, merged, actor)
        return merged
