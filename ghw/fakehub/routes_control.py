"""The control API under ``/_fakehub/``: faults, request log, clock, settings, and writing any
state.

No credentials are needed and control calls are neither logged nor subject to faults, so a test
can arrange a scenario without disturbing what it then observes. Documented in docs/fakehub.md.
"""

from __future__ import annotations

import threading
from typing import Any

from ghw.fakehub.checks import pulls_at, report_check_run, report_status, resolve_commit
from ghw.fakehub.clock import format_ts, parse_ts
from ghw.fakehub.context import HubContext
from ghw.fakehub.errors import ApiError, not_found, validation_failed
from ghw.fakehub.gitrepo import GitError
from ghw.fakehub.http_util import Request, Response, Router, json_response
from ghw.fakehub.model import Issue, Repo
from ghw.fakehub.pulls import close_pull, merge_pull
from ghw.fakehub.reviews import REVIEW_STATES, ReviewSpec, add_review, line_comments
from ghw.fakehub.store import IssueSpec

__all__ = [
    "PREFIX",
    "SETTINGS",
    "add_comment",
    "add_fault",
    "add_labels",
    "add_review_route",
    "build_control_router",
    "bulk_create_issues",
    "check_run_route",
    "clear_faults",
    "clear_requests",
    "close_issue",
    "close_pull_route",
    "create_issue",
    "create_owner",
    "create_repo",
    "delete_fault",
    "edit_issue",
    "get_clock",
    "get_settings",
    "health",
    "list_faults",
    "list_requests",
    "merge_pull_route",
    "push_files",
    "remove_label",
    "reopen_issue",
    "set_api_user",
    "set_clock",
    "set_settings",
    "status_route",
]

PREFIX = "/_fakehub"


def _repo(ctx: HubContext, req: Request) -> Repo:
    repo = ctx.store.repo(req.params["owner"], req.params["repo"])
    if repo is None:
        raise not_found()
    return repo


def _issue(ctx: HubContext, req: Request) -> tuple[Repo, Issue]:
    repo = _repo(ctx, req)
    issue = repo.issues.get(int(req.params["number"]))
    if issue is None:
        raise not_found()
    return repo, issue


def _issue_json(ctx: HubContext, repo: Repo, issue: Issue) -> Response:
    with ctx.store.lock:
        return json_response(ctx.render.issue(repo, issue))


# ---------------------------------------------------------------- health, faults, log, clock


def health(ctx: HubContext, req: Request) -> Response:
    return json_response(
        {"ok": True, "base_url": ctx.base_url, "data_dir": str(ctx.store.data_dir)}
    )


def list_faults(ctx: HubContext, req: Request) -> Response:
    return json_response([f.to_dict() for f in ctx.faults.list()])


def add_fault(ctx: HubContext, req: Request) -> Response:
    data = req.json()
    specs = data if isinstance(data, list) else [data]
    added = [ctx.faults.add(spec).to_dict() for spec in specs]
    return json_response(added if isinstance(data, list) else added[0], 201)


def clear_faults(ctx: HubContext, req: Request) -> Response:
    ctx.faults.clear()
    return Response(status=204)


def delete_fault(ctx: HubContext, req: Request) -> Response:
    if not ctx.faults.remove(int(req.params["id"])):
        raise not_found()
    return Response(status=204)


def list_requests(ctx: HubContext, req: Request) -> Response:
    after = int(req.arg("after") or 0)
    return json_response(ctx.log.entries(after))


def clear_requests(ctx: HubContext, req: Request) -> Response:
    ctx.log.clear()
    return Response(status=204)


def get_clock(ctx: HubContext, req: Request) -> Response:
    now = ctx.clock.now_int()
    return json_response({"now": format_ts(now), "epoch": now, "offset": ctx.clock.offset})


def set_clock(ctx: HubContext, req: Request) -> Response:
    """``{"offset": seconds}`` or ``{"now": "2030-01-01T00:00:00Z"}`` (time keeps running)."""
    data = req.json_object()
    if "now" in data:
        try:
            ctx.clock.set_now(parse_ts(data["now"]))
        except (TypeError, ValueError) as exc:
            raise validation_failed(
                {"resource": "Clock", "code": "invalid", "field": "now"}
            ) from exc
    elif "offset" in data:
        ctx.clock.set_offset(float(data["offset"]))
    else:
        raise validation_failed({"resource": "Clock", "code": "missing_field", "field": "offset"})
    ctx.store.save_meta()
    return get_clock(ctx, req)


def set_api_user(ctx: HubContext, req: Request) -> Response:
    """Which account API tokens act as (the author of PRs and comments made through the API,
    and what ``GET /user`` answers): ``{"login", "type": "User"|"Bot"}`` (type optional)."""
    data = req.json_object()
    login = data.get("login")
    if not isinstance(login, str) or not login:
        raise validation_failed({"resource": "User", "code": "missing_field", "field": "login"})
    owner = ctx.store.ensure_owner(login, _author_kind(data, "type"))
    ctx.api_login = owner.login
    return json_response({"login": owner.login, "type": _TYPES[owner.kind]})


_KINDS = {"User": "user", "Bot": "bot"}
_TYPES = {"user": "User", "bot": "Bot", "org": "Organization"}


def _author_kind(data: dict[str, Any], key: str = "author_type") -> str | None:
    """``"User"``/``"Bot"`` → the account kind; absent → None (a ``name[bot]`` login is a bot
    anyway, any other account keeps its kind)."""
    value = data.get(key)
    if value is None:
        return None
    if value not in _KINDS:
        raise validation_failed({"resource": "User", "code": "invalid", "field": key})
    return _KINDS[str(value)]


SETTINGS = ("refuse_duplicate_pulls",)


def get_settings(ctx: HubContext, req: Request) -> Response:
    """Switches of fakehub's GitHub behaviour (in memory, like faults; reset on restart)."""
    return json_response({name: getattr(ctx, name) for name in SETTINGS})


def set_settings(ctx: HubContext, req: Request) -> Response:
    """``{"refuse_duplicate_pulls": false}``: change some switches; unknown ones answer 422."""
    data = req.json_object()
    for name, value in data.items():
        if name not in SETTINGS:
            raise validation_failed({"resource": "Settings", "code": "invalid", "field": name})
        if not isinstance(value, bool):
            raise validation_failed({"resource": "Settings", "code": "invalid", "field": name})
    for name, value in data.items():
        setattr(ctx, name, value)
    return get_settings(ctx, req)


# ---------------------------------------------------------------- owners and repositories


def create_owner(ctx: HubContext, req: Request) -> Response:
    data = req.json_object()
    owner = ctx.store.ensure_owner(str(data.get("login") or ""), data.get("kind") or "user")
    return json_response({"login": owner.login, "id": owner.id, "kind": owner.kind}, 201)


def create_repo(ctx: HubContext, req: Request) -> Response:
    """``{"owner", "name", "default_branch", "description", "private", "files", "owner_kind"}``;
    ``name`` may be ``owner/name``."""
    data = req.json_object()
    name = str(data.get("name") or "")
    owner = data.get("owner")
    if "/" in name and not owner:
        owner, _, name = name.partition("/")
    if not owner:
        raise validation_failed(
            {"resource": "Repository", "code": "missing_field", "field": "owner"}
        )
    files = data.get("files") or {}
    if not isinstance(files, dict):
        raise validation_failed({"resource": "Repository", "code": "invalid", "field": "files"})
    try:
        repo = ctx.store.create_repo(
            str(owner),
            name,
            default_branch=str(data.get("default_branch") or "main"),
            description=data.get("description"),
            private=bool(data.get("private", False)),
            files={str(k): str(v) for k, v in files.items()},
            owner_kind=data.get("owner_kind"),
        )
    except GitError as exc:
        raise ApiError(500, f"git failed: {exc}") from exc
    return json_response(ctx.render.repo(repo), 201)


def push_files(ctx: HubContext, req: Request) -> Response:
    """Commit files onto a branch without a git client: ``{"branch", "files": {path: text|null},
    "message", "from"}``; a new branch starts at ``from`` (default: the default branch)."""
    repo = _repo(ctx, req)
    data = req.json_object()
    branch = data.get("branch")
    files = data.get("files")
    if not isinstance(branch, str) or not branch or not isinstance(files, dict):
        raise validation_failed({"resource": "Commit", "code": "missing_field", "field": "branch"})
    git = ctx.store.git(repo)
    with ctx.store.lock:
        parent = git.branch_sha(branch) or git.branch_sha(
            str(data.get("from") or repo.default_branch)
        )
        try:
            sha = git.commit_files(
                branch,
                files,
                message=str(data.get("message") or f"Update {branch}"),
                parent=parent,
                when=ctx.clock.now_int(),
            )
        except GitError as exc:
            raise validation_failed(
                {"resource": "Commit", "code": "invalid", "message": str(exc)}
            ) from exc
        ctx.store.touch_pulls_with_heads(repo, [branch])
    return json_response({"branch": branch, "sha": sha}, 201)


# ---------------------------------------------------------------- issues, comments, pulls


def create_issue(ctx: HubContext, req: Request) -> Response:
    repo = _repo(ctx, req)
    issue = ctx.store.create_issue(repo, IssueSpec.from_mapping(req.json_object()))
    response = _issue_json(ctx, repo, issue)
    response.status = 201
    return response


def bulk_create_issues(ctx: HubContext, req: Request) -> Response:
    """``{"issues": [spec, ...]}`` (or a bare list) → ``{"numbers": [...]}`` in one write."""
    repo = _repo(ctx, req)
    data = req.json()
    items = data.get("issues") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise validation_failed({"resource": "Issue", "code": "missing_field", "field": "issues"})
    specs = [IssueSpec.from_mapping(x) for x in items]
    created = ctx.store.bulk_create(repo, specs)
    threading.Thread(
        target=ctx.render.warm, args=(repo, created), name="fakehub-warm", daemon=True
    ).start()
    return json_response({"numbers": [i.number for i in created]}, 201)


def edit_issue(ctx: HubContext, req: Request) -> Response:
    repo, issue = _issue(ctx, req)
    ctx.store.update_issue(repo, issue, req.json_object())
    return _issue_json(ctx, repo, issue)


def add_labels(ctx: HubContext, req: Request) -> Response:
    repo, issue = _issue(ctx, req)
    data = req.json()
    labels = data.get("labels") if isinstance(data, dict) else data
    if not isinstance(labels, list):
        raise validation_failed({"resource": "Label", "code": "missing_field", "field": "labels"})
    ctx.store.update_issue(repo, issue, {"add_labels": labels})
    return _issue_json(ctx, repo, issue)


def remove_label(ctx: HubContext, req: Request) -> Response:
    repo, issue = _issue(ctx, req)
    ctx.store.update_issue(repo, issue, {"remove_labels": [req.params["name"]]})
    return _issue_json(ctx, repo, issue)


def _actor(req: Request, issue: Issue) -> str:
    data = req.json() if req.body else {}
    return str((data or {}).get("actor") or issue.author)


def close_issue(ctx: HubContext, req: Request) -> Response:
    repo, issue = _issue(ctx, req)
    data = req.json_object() if req.body else {}
    changes: dict[str, Any] = {"state": "closed", "state_reason": data.get("state_reason")}
    ctx.store.update_issue(repo, issue, changes, actor=_actor(req, issue))
    return _issue_json(ctx, repo, issue)


def reopen_issue(ctx: HubContext, req: Request) -> Response:
    repo, issue = _issue(ctx, req)
    ctx.store.update_issue(repo, issue, {"state": "open"}, actor=_actor(req, issue))
    return _issue_json(ctx, repo, issue)


def add_comment(ctx: HubContext, req: Request) -> Response:
    """``{"body", "author", "author_association", "author_type", "created_at"}``, on an issue
    or a PR."""
    repo, issue = _issue(ctx, req)
    data = req.json_object()
    created = data.get("created_at")
    kind = _author_kind(data)
    if kind is not None:
        ctx.store.ensure_owner(str(data.get("author") or "octocat"), kind)
    comment = ctx.store.add_comment(
        repo,
        issue,
        body=data.get("body"),  # type: ignore[arg-type]
        author=str(data.get("author") or "octocat"),
        association=str(data.get("author_association") or "NONE"),
        created_at=parse_ts(created) if created else None,
    )
    with ctx.store.lock:
        return json_response(ctx.render.comment(repo, issue, comment), 201)


def close_pull_route(ctx: HubContext, req: Request) -> Response:
    repo, issue = _issue(ctx, req)
    close_pull(ctx, repo, issue, _actor(req, issue))
    return _issue_json(ctx, repo, issue)


def merge_pull_route(ctx: HubContext, req: Request) -> Response:
    repo, issue = _issue(ctx, req)
    merged = merge_pull(ctx, repo, issue, _actor(req, issue))
    assert merged.pull is not None
    return json_response(
        {
            "sha": merged.pull.merge_commit_sha,
            "merged": True,
            "message": "Pull Request successfully merged",
        }
    )


def add_review_route(ctx: HubContext, req: Request) -> Response:
    """``{"state": "CHANGES_REQUESTED"|"APPROVED"|"COMMENTED", "body", "author",
    "author_association", "author_type": "User"|"Bot", "comments": [{"path", "line", "body"}]}``
    → the review as ``GET …/reviews`` shows it, with ``comments``: its line comments."""
    repo, issue = _issue(ctx, req)
    if issue.pull is None:
        raise not_found()
    data = req.json_object()
    state = data.get("state")
    if state not in REVIEW_STATES:
        raise validation_failed(
            {"resource": "PullRequestReview", "code": "invalid", "field": "state"}
        )
    body = data.get("body") or ""
    if not isinstance(body, str):
        raise validation_failed(
            {"resource": "PullRequestReview", "code": "invalid", "field": "body"}
        )
    spec = ReviewSpec(
        state=str(state),
        body=body,
        author=str(data.get("author") or "octocat"),
        association=str(data.get("author_association") or "NONE"),
        author_kind=_author_kind(data),
        comments=tuple(line_comments(data.get("comments"))),
    )
    review = add_review(ctx, repo, issue, spec)
    assert issue.pull is not None
    with ctx.store.lock:
        rendered = ctx.render.review(repo, issue, review)
        rendered["comments"] = [
            ctx.render.review_comment(repo, issue, c)
            for c in issue.pull.review_comments
            if c.review_id == review.id
        ]
    return json_response(rendered, 201)


def check_run_route(ctx: HubContext, req: Request) -> Response:
    """``{"name", "status", "conclusion", "output": {"title", "summary", "text"}}`` on a commit
    (sha or branch); the same name on the same commit updates that run."""
    repo = _repo(ctx, req)
    run = report_check_run(ctx, repo, req.params["sha"], req.json_object())
    pulls = pulls_at(ctx, repo, run.head_sha)
    with ctx.store.lock:
        return json_response(ctx.render.check_run(repo, run, pulls), 201)


def status_route(ctx: HubContext, req: Request) -> Response:
    """``{"state": "error"|"failure"|"pending"|"success", "context", "description",
    "target_url"}`` on a commit (sha or branch)."""
    repo = _repo(ctx, req)
    status = report_status(ctx, repo, req.params["sha"], req.json_object())
    sha = resolve_commit(ctx, repo, req.params["sha"]) or req.params["sha"]
    with ctx.store.lock:
        return json_response(ctx.render.commit_status(repo, sha, status), 201)


def build_control_router() -> Router:
    router = Router()
    p = PREFIX
    repo = f"{p}/repos/{{owner}}/{{repo}}"
    issue = f"{repo}/issues/{{number:int}}"
    router.add("GET", f"{p}/health", health)
    router.add("GET", f"{p}/faults", list_faults)
    router.add("POST", f"{p}/faults", add_fault)
    router.add("DELETE", f"{p}/faults", clear_faults)
    router.add("DELETE", f"{p}/faults/{{id:int}}", delete_fault)
    router.add("GET", f"{p}/requests", list_requests)
    router.add("DELETE", f"{p}/requests", clear_requests)
    router.add("GET", f"{p}/clock", get_clock)
    router.add("POST", f"{p}/clock", set_clock)
    router.add("PUT", f"{p}/api-user", set_api_user)
    router.add("GET", f"{p}/settings", get_settings)
    router.add("PATCH", f"{p}/settings", set_settings)
    router.add("POST", f"{p}/owners", create_owner)
    router.add("POST", f"{p}/repos", create_repo)
    router.add("POST", f"{repo}/commits", push_files)
    router.add("POST", f"{repo}/issues", create_issue)
    router.add("POST", f"{repo}/issues/bulk", bulk_create_issues)
    router.add("PATCH", issue, edit_issue)
    router.add("POST", f"{issue}/labels", add_labels)
    router.add("DELETE", f"{issue}/labels/{{name}}", remove_label)
    router.add("POST", f"{issue}/close", close_issue)
    router.add("POST", f"{issue}/reopen", reopen_issue)
    router.add("POST", f"{issue}/comments", add_comment)
    router.add("POST", f"{repo}/pulls/{{number:int}}/close", close_pull_route)
    router.add("POST", f"{repo}/pulls/{{number:int}}/merge", merge_pull_route)
    router.add("POST", f"{repo}/pulls/{{number:int}}/reviews", add_review_route)
    router.add("POST", f"{repo}/commits/{{sha}}/check-runs", check_run_route)
    router.add("POST", f"{repo}/commits/{{sha}}/statuses", status_route)
    return router
