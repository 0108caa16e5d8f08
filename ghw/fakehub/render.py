"""GitHub's JSON shapes for fakehub's records (REST API version 2022-11-28).

Field sets follow the examples in GitHub's OpenAPI description (``issue``, ``issue-comment``,
``pull-request``, ``pull-request-simple``, ``full-repository``, ``simple-user``, ``public-user``,
``label``, ``pull-request-review``, ``pull-request-review-comment``, ``check-run``,
``combined-commit-status``).
API and web URLs share one base: ``{base}/repos/o/r/issues/1`` and ``{base}/o/r/issues/1``.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from ghw.fakehub.clock import format_ts
from ghw.fakehub.model import (
    CheckRun,
    Comment,
    CommitStatus,
    Issue,
    Owner,
    Repo,
    Review,
    ReviewComment,
)
from ghw.fakehub.store import Store

__all__ = [
    "REPO_URL_TEMPLATES",
    "Renderer",
    "dumps",
]


# (field prefix, path under the repository's API URL) for full-repository's URL templates.
REPO_URL_TEMPLATES = (
    ("forks", "forks"),
    ("keys", "keys{/key_id}"),
    ("collaborators", "collaborators{/collaborator}"),
    ("teams", "teams"),
    ("hooks", "hooks"),
    ("issue_events", "issues/events{/number}"),
    ("events", "events"),
    ("assignees", "assignees{/user}"),
    ("branches", "branches{/branch}"),
    ("tags", "tags"),
    ("blobs", "git/blobs{/sha}"),
    ("git_tags", "git/tags{/sha}"),
    ("git_refs", "git/refs{/sha}"),
    ("trees", "git/trees{/sha}"),
    ("statuses", "statuses/{sha}"),
    ("languages", "languages"),
    ("stargazers", "stargazers"),
    ("contributors", "contributors"),
    ("subscribers", "subscribers"),
    ("subscription", "subscription"),
    ("commits", "commits{/sha}"),
    ("git_commits", "git/commits{/sha}"),
    ("comments", "comments{/number}"),
    ("issue_comment", "issues/comments{/number}"),
    ("contents", "contents/{+path}"),
    ("compare", "compare/{base}...{head}"),
    ("merges", "merges"),
    ("archive", "{archive_format}{/ref}"),
    ("downloads", "downloads"),
    ("issues", "issues{/number}"),
    ("pulls", "pulls{/number}"),
    ("milestones", "milestones{/number}"),
    ("notifications", "notifications{?since,all,participating}"),
    ("labels", "labels{/name}"),
    ("releases", "releases{/id}"),
    ("deployments", "deployments"),
)


def dumps(data: Any) -> bytes:
    """Compact JSON, as GitHub sends it."""
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()


def _node_id(kind: str, ident: int) -> str:
    return base64.b64encode(f"0{len(kind)}:{kind}{ident}".encode()).decode()


class Renderer:
    """Renders records for one server (one ``base_url``)."""

    def __init__(self, store: Store, base_url: str) -> None:
        self.store = store
        self.base = base_url.rstrip("/")
        # full_name -> (repository version, JSON): a PR list renders the repo twice per item.
        self._repo_cache: dict[str, tuple[int, dict[str, Any]]] = {}
        # (login, kind, id) -> JSON; an account's JSON only changes if its kind does.
        self._user_cache: dict[tuple[str, str, int], dict[str, Any]] = {}

    # ---------------------------------------------------------------- accounts and repos

    def user(self, login: str | None) -> dict[str, Any] | None:
        if login is None:
            return None
        owner = self.store.owner(login) or Owner(login=login, id=0)
        key = (owner.login, owner.kind, owner.id)
        cached = self._user_cache.get(key)
        if cached is None:
            cached = self._user(owner)
            self._user_cache[key] = cached
        return cached

    def _user(self, owner: Owner) -> dict[str, Any]:
        kind = {"org": "Organization", "bot": "Bot"}.get(owner.kind, "User")
        api = f"{self.base}/users/{owner.login}"
        return {
            "login": owner.login,
            "id": owner.id,
            "node_id": _node_id(kind, owner.id),
            "avatar_url": f"{self.base}/avatars/{owner.login}",
            "gravatar_id": "",
            "url": api,
            "html_url": f"{self.base}/{owner.login}",
            "followers_url": f"{api}/followers",
            "following_url": f"{api}/following{{/other_user}}",
            "gists_url": f"{api}/gists{{/gist_id}}",
            "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{api}/subscriptions",
            "organizations_url": f"{api}/orgs",
            "repos_url": f"{api}/repos",
            "events_url": f"{api}/events{{/privacy}}",
            "received_events_url": f"{api}/received_events",
            "type": kind,
            "user_view_type": "public",
            "site_admin": False,
        }

    def authenticated_user(self, login: str) -> dict[str, Any]:
        """``GET /user``: the token's account as ``public-user`` (GitHub's shape for a token
        without the ``user`` scope)."""
        owner = self.store.owner(login) or Owner(login=login, id=0)
        ts = format_ts(0)
        return {
            **self._user(owner),
            "name": None,
            "company": None,
            "blog": "",
            "location": None,
            "email": None,
            "hireable": None,
            "bio": None,
            "twitter_username": None,
            "public_repos": len(self.store.repos_of(owner.login)),
            "public_gists": 0,
            "followers": 0,
            "following": 0,
            "created_at": ts,
            "updated_at": ts,
        }

    def repo_api(self, repo: Repo) -> str:
        return f"{self.base}/repos/{repo.full_name}"

    def clone_url(self, repo: Repo) -> str:
        return f"{self.base}/{repo.full_name}.git"

    def repo(self, repo: Repo) -> dict[str, Any]:
        cached = self._repo_cache.get(repo.full_name)
        if cached is not None and cached[0] == repo.version:
            return cached[1]
        data = self._repo(repo)
        self._repo_cache[repo.full_name] = (repo.version, data)
        return data

    def _repo(self, repo: Repo) -> dict[str, Any]:
        api = self.repo_api(repo)
        ts = format_ts(repo.created_at)
        open_count = sum(1 for i in repo.issues.values() if i.state == "open")
        return {
            "id": repo.id,
            "node_id": _node_id("Repository", repo.id),
            "name": repo.name,
            "full_name": repo.full_name,
            "private": repo.private,
            "owner": self.user(repo.owner),
            "html_url": f"{self.base}/{repo.full_name}",
            "description": repo.description,
            "fork": False,
            "url": api,
            **{f"{name}_url": f"{api}/{path}" for name, path in REPO_URL_TEMPLATES},
            "git_url": self.clone_url(repo),
            "ssh_url": f"git@127.0.0.1:{repo.full_name}.git",
            "clone_url": self.clone_url(repo),
            "svn_url": f"{self.base}/{repo.full_name}",
            "mirror_url": None,
            "homepage": None,
            "size": 0,
            "stargazers_count": 0,
            "watchers_count": 0,
            "language": None,
            "has_issues": True,
            "has_projects": False,
            "has_downloads": True,
            "has_wiki": False,
            "has_pages": False,
            "has_discussions": False,
            "forks_count": 0,
            "archived": False,
            "disabled": False,
            "open_issues_count": open_count,
            "license": None,
            "allow_forking": True,
            "is_template": False,
            "topics": [],
            "visibility": "private" if repo.private else "public",
            "forks": 0,
            "open_issues": open_count,
            "watchers": 0,
            "network_count": 0,
            "subscribers_count": 0,
            "web_commit_signoff_required": False,
            "default_branch": repo.default_branch,
            "created_at": ts,
            "updated_at": ts,
            "pushed_at": ts,
            "permissions": {
                "admin": True,
                "maintain": True,
                "push": True,
                "triage": True,
                "pull": True,
            },
        }

    # ---------------------------------------------------------------- issues and comments

    def label(self, repo: Repo, name: str) -> dict[str, Any]:
        ident, color = repo.labels.get(name, [0, "ededed"])
        return {
            "id": ident,
            "node_id": _node_id("Label", ident),
            "url": f"{self.repo_api(repo)}/labels/{name}",
            "name": name,
            "color": color,
            "default": False,
            "description": None,
        }

    def issue(self, repo: Repo, issue: Issue) -> dict[str, Any]:
        api = f"{self.repo_api(repo)}/issues/{issue.number}"
        kind = "pull" if issue.pull else "issues"
        data: dict[str, Any] = {
            "url": api,
            "repository_url": self.repo_api(repo),
            "labels_url": f"{api}/labels{{/name}}",
            "comments_url": f"{api}/comments",
            "events_url": f"{api}/events",
            "html_url": f"{self.base}/{repo.full_name}/{kind}/{issue.number}",
            "id": issue.id,
            "node_id": _node_id("Issue", issue.id),
            "number": issue.number,
            "title": issue.title,
            "user": self.user(issue.author),
            "labels": [self.label(repo, x) for x in issue.labels],
            "state": issue.state,
            "locked": issue.locked,
            "assignee": None,
            "assignees": [],
            "milestone": None,
            "comments": len(issue.comments),
            "created_at": format_ts(issue.created_at),
            "updated_at": format_ts(issue.updated_at),
            "closed_at": format_ts(issue.closed_at),
            "author_association": issue.author_association,
            "type": None,
            "active_lock_reason": None,
            "sub_issues_summary": {"total": 0, "completed": 0, "percent_completed": 0},
            "body": issue.body,
            "closed_by": self.user(issue.closed_by),
            "reactions": self._reactions(f"{api}/reactions"),
            "timeline_url": f"{api}/timeline",
            "performed_via_github_app": None,
            "state_reason": issue.state_reason,
        }
        if issue.pull is not None:
            pulls = f"{self.repo_api(repo)}/pulls/{issue.number}"
            html = f"{self.base}/{repo.full_name}/pull/{issue.number}"
            data["draft"] = issue.pull.draft
            data["pull_request"] = {
                "url": pulls,
                "html_url": html,
                "diff_url": f"{html}.diff",
                "patch_url": f"{html}.patch",
                "merged_at": format_ts(issue.pull.merged_at),
            }
        return data

    def warm(self, repo: Repo, issues: list[Issue], batch: int = 200) -> None:
        """Render ``issues`` ahead of the first list request, a batch per lock hold, so the
        first sync of a freshly bulk-seeded repository is as fast as later ones."""
        for start in range(0, len(issues), batch):
            with self.store.lock:
                for issue in issues[start : start + batch]:
                    if issue.cached_json is None:
                        self.issue_bytes(repo, issue)

    def issue_bytes(self, repo: Repo, issue: Issue) -> bytes:
        """The issue's JSON, cached on the record until it next changes."""
        cached = issue.cached_json
        if cached is None:
            cached = dumps(self.issue(repo, issue))
            issue.cached_json = cached
        return cached

    @staticmethod
    def _reactions(url: str) -> dict[str, Any]:
        return {
            "url": url,
            "total_count": 0,
            "+1": 0,
            "-1": 0,
            "laugh": 0,
            "hooray": 0,
            "confused": 0,
            "heart": 0,
            "rocket": 0,
            "eyes": 0,
        }

    def comment(self, repo: Repo, issue: Issue, comment: Comment) -> dict[str, Any]:
        kind = "pull" if issue.pull else "issues"
        url = f"{self.repo_api(repo)}/issues/comments/{comment.id}"
        return {
            "id": comment.id,
            "node_id": _node_id("IssueComment", comment.id),
            "url": url,
            "html_url": f"{self.base}/{repo.full_name}/{kind}/{issue.number}"
            f"#issuecomment-{comment.id}",
            "body": comment.body,
            "user": self.user(comment.author),
            "created_at": format_ts(comment.created_at),
            "updated_at": format_ts(comment.updated_at),
            "issue_url": f"{self.repo_api(repo)}/issues/{issue.number}",
            "author_association": comment.author_association,
            "performed_via_github_app": None,
            "reactions": self._reactions(f"{url}/reactions"),
        }

    # ---------------------------------------------------------------- pull requests

    def _branch(self, repo: Repo, ref: str, sha: str) -> dict[str, Any]:
        return {
            "label": f"{repo.owner}:{ref}",
            "ref": ref,
            "sha": sha,
            "user": self.user(repo.owner),
            "repo": self.repo(repo),
        }

    def pull(
        self,
        repo: Repo,
        issue: Issue,
        *,
        head_sha: str,
        base_sha: str,
        stats: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """``pull-request-simple`` (lists), or ``pull-request`` when ``stats`` is given."""
        pull = issue.pull
        assert pull is not None
        api = f"{self.repo_api(repo)}/pulls/{issue.number}"
        issue_api = f"{self.repo_api(repo)}/issues/{issue.number}"
        html = f"{self.base}/{repo.full_name}/pull/{issue.number}"
        data: dict[str, Any] = {
            "url": api,
            "id": pull.id,
            "node_id": _node_id("PullRequest", pull.id),
            "html_url": html,
            "diff_url": f"{html}.diff",
            "patch_url": f"{html}.patch",
            "issue_url": issue_api,
            "commits_url": f"{api}/commits",
            "review_comments_url": f"{api}/comments",
            "review_comment_url": f"{self.repo_api(repo)}/pulls/comments{{/number}}",
            "comments_url": f"{issue_api}/comments",
            "statuses_url": f"{self.repo_api(repo)}/statuses/{head_sha}",
            "number": issue.number,
            "state": issue.state,
            "locked": issue.locked,
            "title": issue.title,
            "user": self.user(issue.author),
            "body": issue.body,
            "labels": [self.label(repo, x) for x in issue.labels],
            "milestone": None,
            "active_lock_reason": None,
            "created_at": format_ts(issue.created_at),
            "updated_at": format_ts(issue.updated_at),
            "closed_at": format_ts(issue.closed_at),
            "merged_at": format_ts(pull.merged_at),
            "merge_commit_sha": pull.merge_commit_sha,
            "assignee": None,
            "assignees": [],
            "requested_reviewers": [],
            "requested_teams": [],
            "head": self._branch(repo, pull.head_ref, head_sha),
            "base": self._branch(repo, pull.base_ref, base_sha),
            "_links": {
                "self": {"href": api},
                "html": {"href": html},
                "issue": {"href": issue_api},
                "comments": {"href": f"{issue_api}/comments"},
                "review_comments": {"href": f"{api}/comments"},
                "review_comment": {"href": f"{self.repo_api(repo)}/pulls/comments{{/number}}"},
                "commits": {"href": f"{api}/commits"},
                "statuses": {"href": f"{self.repo_api(repo)}/statuses/{head_sha}"},
            },
            "author_association": issue.author_association,
            "auto_merge": None,
            "draft": pull.draft,
        }
        if stats is not None:
            data.update(
                {
                    "merged": pull.merged,
                    "mergeable": stats.get("mergeable"),
                    "rebaseable": stats.get("mergeable"),
                    "mergeable_state": stats.get("mergeable_state", "unknown"),
                    "merged_by": self.user(pull.merged_by),
                    "comments": len(issue.comments),
                    "review_comments": len(pull.review_comments),
                    "maintainer_can_modify": False,
                    "commits": stats.get("commits", 0),
                    "additions": stats.get("additions", 0),
                    "deletions": stats.get("deletions", 0),
                    "changed_files": stats.get("changed_files", 0),
                }
            )
        return data

    # ---------------------------------------------------------------- reviews

    def review(self, repo: Repo, issue: Issue, review: Review) -> dict[str, Any]:
        html = f"{self.base}/{repo.full_name}/pull/{issue.number}#pullrequestreview-{review.id}"
        pull_api = f"{self.repo_api(repo)}/pulls/{issue.number}"
        data: dict[str, Any] = {
            "id": review.id,
            "node_id": _node_id("PullRequestReview", review.id),
            "user": self.user(review.author),
            "body": review.body,
            "state": review.state,
            "html_url": html,
            "pull_request_url": pull_api,
            "author_association": review.author_association,
            "_links": {"html": {"href": html}, "pull_request": {"href": pull_api}},
            "commit_id": review.commit_id,
        }
        if review.submitted_at is not None:  # GitHub omits it on a PENDING review
            data["submitted_at"] = format_ts(review.submitted_at)
        return data

    def review_comment(
        self,
        repo: Repo,
        issue: Issue,
        comment: ReviewComment,
        position: tuple[int | None, str] | None = None,
    ) -> dict[str, Any]:
        """``position`` is (line, commit_id) on the PR's head now (``reviews.comment_positions``);
        a None line is an outdated comment. Without it: where the comment was made."""
        line, commit_id = position or (comment.line, comment.commit_id)
        url = f"{self.repo_api(repo)}/pulls/comments/{comment.id}"
        html = f"{self.base}/{repo.full_name}/pull/{issue.number}#discussion_r{comment.id}"
        pull_api = f"{self.repo_api(repo)}/pulls/{issue.number}"
        return {
            "url": url,
            "pull_request_review_id": comment.review_id,
            "id": comment.id,
            "node_id": _node_id("PullRequestReviewComment", comment.id),
            "diff_hunk": comment.diff_hunk,
            "path": comment.path,
            "commit_id": commit_id,
            "original_commit_id": comment.commit_id,
            "user": self.user(comment.author),
            "body": comment.body,
            "created_at": format_ts(comment.created_at),
            "updated_at": format_ts(comment.updated_at),
            "html_url": html,
            "pull_request_url": pull_api,
            "author_association": comment.author_association,
            "_links": {
                "self": {"href": url},
                "html": {"href": html},
                "pull_request": {"href": pull_api},
            },
            "reactions": self._reactions(f"{url}/reactions"),
            "start_line": None,
            "original_start_line": None,
            "start_side": None,
            "line": line,
            "original_line": comment.line,
            "side": "RIGHT",
            "subject_type": "line",
        }

    # ---------------------------------------------------------------- checks and statuses

    def _ci_app(self, repo: Repo) -> dict[str, Any]:
        """The GitHub App every fakehub check run belongs to (GitHub's runs always have one)."""
        ts = format_ts(repo.created_at)
        return {
            "id": 1,
            "slug": "fakehub-ci",
            "node_id": _node_id("Integration", 1),
            "client_id": "Iv1.fakehubci",
            "owner": self.user(repo.owner),
            "name": "fakehub CI",
            "description": "Check runs reported through fakehub's control API",
            "external_url": f"{self.base}/_fakehub",
            "html_url": f"{self.base}/apps/fakehub-ci",
            "created_at": ts,
            "updated_at": ts,
            "permissions": {"checks": "write", "metadata": "read", "statuses": "write"},
            "events": ["check_run", "check_suite"],
        }

    def check_run(self, repo: Repo, run: CheckRun, pulls: list[Issue]) -> dict[str, Any]:
        """``check-run``; ``pulls`` are the open PRs whose head is the run's commit."""
        api = self.repo_api(repo)
        html = f"{self.base}/{repo.full_name}/runs/{run.id}"
        url = f"{api}/check-runs/{run.id}"
        return {
            "id": run.id,
            "head_sha": run.head_sha,
            "node_id": _node_id("CheckRun", run.id),
            "external_id": "",
            "url": url,
            "html_url": html,
            "details_url": html,
            "status": run.status,
            "conclusion": run.conclusion,
            "started_at": format_ts(run.started_at),
            "completed_at": format_ts(run.completed_at),
            "output": {
                "title": run.title,
                "summary": run.summary,
                "text": run.text,
                "annotations_count": 0,
                "annotations_url": f"{url}/annotations",
            },
            "name": run.name,
            "check_suite": {"id": run.suite_id},
            "app": self._ci_app(repo),
            "pull_requests": [self._pull_minimal(repo, p, run.head_sha) for p in pulls],
        }

    def _pull_minimal(self, repo: Repo, issue: Issue, head_sha: str) -> dict[str, Any]:
        pull = issue.pull
        assert pull is not None
        ref = {"id": repo.id, "url": self.repo_api(repo), "name": repo.name}
        return {
            "id": pull.id,
            "number": issue.number,
            "url": f"{self.repo_api(repo)}/pulls/{issue.number}",
            "head": {"ref": pull.head_ref, "sha": head_sha, "repo": ref},
            "base": {"ref": pull.base_ref, "sha": pull.base_sha, "repo": ref},
        }

    def commit_status(self, repo: Repo, sha: str, status: CommitStatus) -> dict[str, Any]:
        return {
            "url": f"{self.repo_api(repo)}/statuses/{sha}",
            "avatar_url": f"{self.base}/avatars/{repo.owner}",
            "id": status.id,
            "node_id": _node_id("StatusContext", status.id),
            "state": status.state,
            "description": status.description,
            "target_url": status.target_url,
            "context": status.context,
            "created_at": format_ts(status.created_at),
            "updated_at": format_ts(status.updated_at),
        }

    def combined_status(
        self, repo: Repo, sha: str, state: str, total: int, statuses: list[CommitStatus]
    ) -> dict[str, Any]:
        """``combined-commit-status``: ``statuses`` is the page asked for, ``total`` all."""
        api = self.repo_api(repo)
        return {
            "state": state,
            "statuses": [self.commit_status(repo, sha, s) for s in statuses],
            "sha": sha,
            "total_count": total,
            "repository": self.repo(repo),
            "commit_url": f"{api}/commits/{sha}",
            "url": f"{api}/commits/{sha}/status",
        }
