"""Contract check: every field GitHub's OpenAPI description marks required is present."""

from __future__ import annotations

import httpx

from ghw.fakehub import FakeHub

# `required` lists of the 2022-11-28 schemas (components/schemas/...).
SIMPLE_USER = {
    "avatar_url", "events_url", "followers_url", "following_url", "gists_url", "gravatar_id",
    "html_url", "id", "node_id", "login", "organizations_url", "received_events_url",
    "repos_url", "site_admin", "starred_url", "subscriptions_url", "type", "url",
}  # fmt: skip
LABEL = {"id", "node_id", "url", "name", "description", "color", "default"}
ISSUE = {
    "assignee", "closed_at", "comments", "comments_url", "events_url", "html_url", "id",
    "node_id", "labels", "labels_url", "milestone", "number", "repository_url", "state",
    "locked", "title", "url", "user", "author_association", "created_at", "updated_at",
}  # fmt: skip
ISSUE_COMMENT = {
    "id", "node_id", "html_url", "issue_url", "author_association", "user", "url",
    "created_at", "updated_at",
}  # fmt: skip
PULL_SIMPLE = {
    "_links", "assignee", "labels", "base", "body", "closed_at", "comments_url", "commits_url",
    "created_at", "diff_url", "head", "html_url", "id", "node_id", "issue_url",
    "merge_commit_sha", "locked", "merged_at", "milestone", "number", "patch_url",
    "review_comment_url", "review_comments_url", "statuses_url", "state", "title",
    "updated_at", "url", "user", "author_association", "auto_merge",
}  # fmt: skip
PULL = PULL_SIMPLE | {
    "additions", "changed_files", "comments", "commits", "deletions", "mergeable",
    "mergeable_state", "merged", "maintainer_can_modify", "merged_by", "review_comments",
}  # fmt: skip
BRANCH = {"label", "ref", "repo", "sha", "user"}
REPO = {
    "archive_url", "assignees_url", "blobs_url", "branches_url", "collaborators_url",
    "comments_url", "commits_url", "compare_url", "contents_url", "contributors_url",
    "deployments_url", "description", "downloads_url", "events_url", "fork", "forks_url",
    "full_name", "git_commits_url", "git_refs_url", "git_tags_url", "hooks_url", "html_url",
    "id", "node_id", "issue_comment_url", "issue_events_url", "issues_url", "keys_url",
    "labels_url", "languages_url", "merges_url", "milestones_url", "name",
    "notifications_url", "owner", "private", "pulls_url", "releases_url", "stargazers_url",
    "statuses_url", "subscribers_url", "subscription_url", "tags_url", "teams_url",
    "trees_url", "url", "clone_url", "default_branch", "forks", "forks_count", "git_url",
    "has_downloads", "has_issues", "has_projects", "has_wiki", "has_pages", "homepage",
    "language", "archived", "disabled", "mirror_url", "open_issues", "open_issues_count",
    "stargazers_count", "subscribers_count", "network_count", "size", "ssh_url",
    "svn_url", "watchers", "watchers_count", "created_at", "updated_at", "pushed_at",
    "license",
}  # fmt: skip


def _missing(data: dict[str, object], required: set[str]) -> set[str]:
    return required - set(data)


def test_shapes_have_github_required_fields(api: httpx.Client, hub: FakeHub) -> None:
    repo = api.get("/repos/demo/calc").json()
    assert _missing(repo, REPO) == set()
    assert _missing(repo["owner"], SIMPLE_USER) == set()
    issue = api.get("/repos/demo/calc/issues/1").json()
    assert _missing(issue, ISSUE) == set()
    assert _missing(issue["user"], SIMPLE_USER) == set()
    assert _missing(issue["labels"][0], LABEL) == set()
    comment = api.get("/repos/demo/calc/issues/1/comments").json()[0]
    assert _missing(comment, ISSUE_COMMENT) == set()
    hub.control.push_files("demo/calc", "shape", {"s.txt": "s\n"})
    created = api.post(
        "/repos/demo/calc/pulls", json={"title": "Shape", "head": "shape", "base": "main"}
    ).json()
    assert _missing(created, PULL) == set()
    assert _missing(created["head"], BRANCH) == set()
    assert _missing(created["base"], BRANCH) == set()
    listed = api.get("/repos/demo/calc/pulls").json()[0]
    assert _missing(listed, PULL_SIMPLE) == set()
    assert "merged" not in listed  # pull-request-simple has no merged flag
    assert _missing(api.get("/repos/demo/calc/pulls/5").json(), PULL) == set()
