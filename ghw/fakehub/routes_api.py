"""The GitHub REST endpoints fakehub serves (the ones ghw's client uses, §9 of the product spec)."""

from __future__ import annotations

from ghw.fakehub.checks import combined_state, latest_statuses, pulls_at, resolve_commit
from ghw.fakehub.clock import parse_ts
from ghw.fakehub.context import HubContext
from ghw.fakehub.errors import ApiError, not_found, validation_failed
from ghw.fakehub.http_util import Request, Response, Router, json_response, paginate
from ghw.fakehub.model import Issue, Repo
from ghw.fakehub.pulls import association_for, create_pull, live_shas, pull_diff, pull_stats
from ghw.fakehub.render import dumps
from ghw.fakehub.reviews import add_review, api_review_spec, comment_positions

__all__ = [
    "DOCS_ISSUE",
    "DOCS_ORG_REPOS",
    "DOCS_PULL",
    "DOCS_REPO",
    "DOCS_STATUS",
    "DOCS_USER_REPOS",
    "build_api_router",
    "create_comment",
    "create_review",
    "get_combined_status",
    "get_issue",
    "get_pull",
    "get_rate_limit",
    "get_repo",
    "get_user",
    "list_check_runs",
    "list_comments",
    "list_issues",
    "list_org_repos",
    "list_pulls",
    "list_review_comments",
    "list_reviews",
    "list_user_repos",
    "post_pull",
]

DOCS_REPO = "https://docs.github.com/rest/repos/repos#get-a-repository"
DOCS_ISSUE = "https://docs.github.com/rest/issues/issues#get-an-issue"
DOCS_PULL = "https://docs.github.com/rest/pulls/pulls#get-a-pull-request"
DOCS_ORG_REPOS = "https://docs.github.com/rest/repos/repos#list-organization-repositories"
DOCS_USER_REPOS = "https://docs.github.com/rest/repos/repos#list-repositories-for-a-user"
DOCS_STATUS = (
    "https://docs.github.com/rest/commits/statuses#get-the-combined-status-for-a-specific-reference"
)


def _repo(ctx: HubContext, req: Request) -> Repo:
    repo = ctx.store.repo(req.params["owner"], req.params["repo"])
    if repo is None:
        raise not_found(DOCS_REPO)
    return repo


def _issue(ctx: HubContext, req: Request, repo: Repo) -> Issue:
    issue = repo.issues.get(int(req.params["number"]))
    if issue is None:
        raise not_found(DOCS_ISSUE)
    return issue


def _choice(req: Request, name: str, allowed: tuple[str, ...], default: str) -> str:
    value = req.arg(name) or default
    if value not in allowed:
        raise validation_failed({"resource": "Search", "field": name, "code": "invalid"})
    return value


def _since(req: Request) -> int | None:
    raw = req.arg("since")
    if not raw:
        return None
    try:
        return parse_ts(raw)
    except ValueError as exc:
        raise validation_failed({"resource": "Issue", "field": "since", "code": "invalid"}) from exc


def _list_bytes(items: list[bytes]) -> bytes:
    return b"[" + b",".join(items) + b"]"


# ---------------------------------------------------------------- accounts and repositories


def get_user(ctx: HubContext, req: Request) -> Response:
    """The token's account (``PUT /_fakehub/api-user`` chooses it)."""
    ctx.store.ensure_owner(ctx.api_login)
    with ctx.store.lock:
        return json_response(ctx.render.authenticated_user(ctx.api_login))


def get_rate_limit(ctx: HubContext, req: Request) -> Response:
    headers = ctx.rate.headers(count=False)
    core = {
        "limit": int(headers["X-RateLimit-Limit"]),
        "remaining": int(headers["X-RateLimit-Remaining"]),
        "reset": int(headers["X-RateLimit-Reset"]),
        "used": int(headers["X-RateLimit-Used"]),
        "resource": "core",
    }
    return json_response({"resources": {"core": core}, "rate": core})


def get_repo(ctx: HubContext, req: Request) -> Response:
    return json_response(ctx.render.repo(_repo(ctx, req)))


def _repo_list(ctx: HubContext, req: Request, repos: list[Repo], default_sort: str) -> Response:
    sort = _choice(req, "sort", ("created", "updated", "pushed", "full_name"), default_sort)
    default_dir = "asc" if sort == "full_name" else "desc"
    direction = _choice(req, "direction", ("asc", "desc"), default_dir)
    if sort == "full_name":
        repos = sorted(repos, key=lambda r: r.full_name.lower())
    else:
        repos = sorted(repos, key=lambda r: (r.created_at, r.id))
    if direction == "desc":
        repos.reverse()
    page, link = paginate(ctx.base_url, req, repos)
    body = _list_bytes([dumps(ctx.render.repo(r)) for r in page])
    return Response(body=body, headers={"Link": link} if link else {})


def list_org_repos(ctx: HubContext, req: Request) -> Response:
    owner = ctx.store.owner(req.params["owner"])
    if owner is None or owner.kind != "org":
        raise not_found(DOCS_ORG_REPOS)
    return _repo_list(ctx, req, ctx.store.repos_of(owner.login), "created")


def list_user_repos(ctx: HubContext, req: Request) -> Response:
    # As on GitHub, /users/{login}/repos answers for organisations too; /orgs/{user} does not.
    owner = ctx.store.owner(req.params["owner"])
    if owner is None:
        raise not_found(DOCS_USER_REPOS)
    return _repo_list(ctx, req, ctx.store.repos_of(owner.login), "full_name")


# ---------------------------------------------------------------- issues


def list_issues(ctx: HubContext, req: Request) -> Response:
    repo = _repo(ctx, req)
    state = _choice(req, "state", ("open", "closed", "all"), "open")
    sort = _choice(req, "sort", ("created", "updated", "comments"), "created")
    direction = _choice(req, "direction", ("asc", "desc"), "desc")
    raw_labels = req.arg("labels") or ""
    labels = tuple(x.strip() for x in raw_labels.split(",") if x.strip())
    with ctx.store.lock:
        items = ctx.store.list_issues(
            repo, state=state, labels=labels, since=_since(req), sort=sort, direction=direction
        )
        page, link = paginate(ctx.base_url, req, items)
        body = _list_bytes([ctx.render.issue_bytes(repo, i) for i in page])
    return Response(body=body, headers={"Link": link} if link else {})


def get_issue(ctx: HubContext, req: Request) -> Response:
    repo = _repo(ctx, req)
    with ctx.store.lock:
        return Response(body=ctx.render.issue_bytes(repo, _issue(ctx, req, repo)))


def list_comments(ctx: HubContext, req: Request) -> Response:
    repo = _repo(ctx, req)
    since = _since(req)
    with ctx.store.lock:
        issue = _issue(ctx, req, repo)
        comments = [c for c in issue.comments if since is None or c.updated_at >= since]
        page, link = paginate(ctx.base_url, req, comments)
        body = _list_bytes([dumps(ctx.render.comment(repo, issue, c)) for c in page])
    return Response(body=body, headers={"Link": link} if link else {})


def create_comment(ctx: HubContext, req: Request) -> Response:
    repo = _repo(ctx, req)
    data = req.json_object()
    issue = _issue(ctx, req, repo)
    comment = ctx.store.add_comment(
        repo,
        issue,
        body=data.get("body"),  # type: ignore[arg-type]
        author=ctx.api_login,
        association=association_for(repo, ctx.api_login),
    )
    rendered = ctx.render.comment(repo, issue, comment)
    return json_response(rendered, 201, {"Location": rendered["url"]})


# ---------------------------------------------------------------- pull requests


def _pull(ctx: HubContext, req: Request, repo: Repo) -> Issue:
    issue = repo.issues.get(int(req.params["number"]))
    if issue is None or issue.pull is None:
        raise not_found(DOCS_PULL)
    return issue


def _render_pull(ctx: HubContext, repo: Repo, issue: Issue, *, full: bool) -> bytes:
    branches = ctx.store.git(repo).branches()
    head, base = live_shas(issue, branches)
    stats = pull_stats(ctx, repo, issue) if full else None
    return dumps(ctx.render.pull(repo, issue, head_sha=head, base_sha=base, stats=stats))


def post_pull(ctx: HubContext, req: Request) -> Response:
    repo = _repo(ctx, req)
    issue = create_pull(ctx, repo, req.json_object())
    url = f"{ctx.render.repo_api(repo)}/pulls/{issue.number}"
    return Response(
        status=201, body=_render_pull(ctx, repo, issue, full=True), headers={"Location": url}
    )


def list_pulls(ctx: HubContext, req: Request) -> Response:
    repo = _repo(ctx, req)
    state = _choice(req, "state", ("open", "closed", "all"), "open")
    sort = _choice(req, "sort", ("created", "updated", "popularity", "long-running"), "created")
    sort = "comments" if sort == "popularity" else sort
    direction = _choice(req, "direction", ("asc", "desc"), "desc")
    head = req.arg("head")
    head_ref: str | None = None
    if head:
        # GitHub needs owner:branch; a bare branch name is silently ignored (all PRs listed).
        owner, sep, branch = head.partition(":")
        if sep:
            head_ref = branch if owner.lower() == repo.owner.lower() else "\0no-such-branch"
    base = req.arg("base") or None
    with ctx.store.lock:
        items = ctx.store.list_issues(
            repo,
            state=state,
            sort=sort,
            direction=direction,
            pulls_only=True,
            head=head_ref,
            base=base,
        )
        page, link = paginate(ctx.base_url, req, items)
    branches = ctx.store.git(repo).branches() if page else {}
    rendered = []
    for issue in page:
        head_sha, base_sha = live_shas(issue, branches)
        rendered.append(dumps(ctx.render.pull(repo, issue, head_sha=head_sha, base_sha=base_sha)))
    return Response(body=_list_bytes(rendered), headers={"Link": link} if link else {})


def get_pull(ctx: HubContext, req: Request) -> Response:
    repo = _repo(ctx, req)
    issue = _pull(ctx, req, repo)
    accept = (req.header("Accept") or "").lower()
    if "diff" in accept or "patch" in accept:
        patch = "patch" in accept and "diff" not in accept
        text = pull_diff(ctx, repo, issue, patch=patch)
        fmt = "patch" if patch else "diff"
        return Response(
            body=text.encode(),
            content_type="text/plain; charset=utf-8",
            media_type=f"github.v3; param={fmt}; format={fmt}",
        )
    return Response(body=_render_pull(ctx, repo, issue, full=True))


# ---------------------------------------------------------------- reviews


def list_reviews(ctx: HubContext, req: Request) -> Response:
    """Submitted reviews (and the token's own pending one), in the order they were made."""
    repo = _repo(ctx, req)
    with ctx.store.lock:
        issue = _pull(ctx, req, repo)
        assert issue.pull is not None
        page, link = paginate(ctx.base_url, req, issue.pull.reviews)
        body = _list_bytes([dumps(ctx.render.review(repo, issue, r)) for r in page])
    return Response(body=body, headers={"Link": link} if link else {})


def create_review(ctx: HubContext, req: Request) -> Response:
    """A review as the token's account; GitHub answers 200 (not 201) with the review."""
    repo = _repo(ctx, req)
    issue = _pull(ctx, req, repo)
    review = add_review(ctx, repo, issue, api_review_spec(ctx, repo, issue, req.json_object()))
    with ctx.store.lock:
        return json_response(ctx.render.review(repo, issue, review))


def list_review_comments(ctx: HubContext, req: Request) -> Response:
    repo = _repo(ctx, req)
    sort = _choice(req, "sort", ("created", "updated"), "created")
    direction = _choice(req, "direction", ("asc", "desc"), "asc")
    since = _since(req)
    with ctx.store.lock:
        issue = _pull(ctx, req, repo)
        assert issue.pull is not None
        items = [c for c in issue.pull.review_comments if since is None or c.updated_at >= since]
    if sort == "updated":
        items.sort(key=lambda c: (c.updated_at, c.id))
    if direction == "desc":
        items.reverse()
    page, link = paginate(ctx.base_url, req, items)
    # git runs outside the lock: where each comment's line is on the head now
    positions = comment_positions(ctx, repo, issue, page)
    with ctx.store.lock:
        rendered = [ctx.render.review_comment(repo, issue, c, positions[c.id]) for c in page]
    return Response(
        body=_list_bytes([dumps(r) for r in rendered]), headers={"Link": link} if link else {}
    )


# ---------------------------------------------------------------- checks and statuses


def list_check_runs(ctx: HubContext, req: Request) -> Response:
    """``{"total_count", "check_runs"}`` of a commit (sha or branch), newest first, paginated."""
    repo = _repo(ctx, req)
    sha = resolve_commit(ctx, repo, req.params["ref"])
    if sha is None:
        raise ApiError(422, f"No commit found for SHA: {req.params['ref']}")
    name = req.arg("check_name")
    status = req.arg("status")
    pulls = pulls_at(ctx, repo, sha)
    with ctx.store.lock:
        runs = [
            r
            for r in reversed(repo.check_runs.get(sha, []))
            if (name is None or r.name == name) and (status is None or r.status == status)
        ]
        page, link = paginate(ctx.base_url, req, runs)
        data = {
            "total_count": len(runs),
            "check_runs": [ctx.render.check_run(repo, r, pulls) for r in page],
        }
    return Response(body=dumps(data), headers={"Link": link} if link else {})


def get_combined_status(ctx: HubContext, req: Request) -> Response:
    """The latest status per context of a commit (sha or branch) and their combined state."""
    repo = _repo(ctx, req)
    sha = resolve_commit(ctx, repo, req.params["ref"])
    if sha is None:
        raise ApiError(
            404, f"No commit found for SHA: {req.params['ref']}", documentation_url=DOCS_STATUS
        )
    with ctx.store.lock:
        statuses = latest_statuses(repo, sha)
        page, link = paginate(ctx.base_url, req, statuses)
        data = ctx.render.combined_status(
            repo, sha, combined_state(statuses), len(statuses), list(page)
        )
    return Response(body=dumps(data), headers={"Link": link} if link else {})


def build_api_router() -> Router:
    router = Router()
    router.add("GET", "/user", get_user)
    router.add("GET", "/rate_limit", get_rate_limit)
    router.add("GET", "/repos/{owner}/{repo}", get_repo)
    router.add("GET", "/orgs/{owner}/repos", list_org_repos)
    router.add("GET", "/users/{owner}/repos", list_user_repos)
    router.add("GET", "/repos/{owner}/{repo}/issues", list_issues)
    router.add("GET", "/repos/{owner}/{repo}/issues/{number:int}", get_issue)
    router.add("GET", "/repos/{owner}/{repo}/issues/{number:int}/comments", list_comments)
    router.add("POST", "/repos/{owner}/{repo}/issues/{number:int}/comments", create_comment)
    router.add("GET", "/repos/{owner}/{repo}/pulls", list_pulls)
    router.add("POST", "/repos/{owner}/{repo}/pulls", post_pull)
    router.add("GET", "/repos/{owner}/{repo}/pulls/{number:int}", get_pull)
    router.add("GET", "/repos/{owner}/{repo}/pulls/{number:int}/reviews", list_reviews)
    router.add("POST", "/repos/{owner}/{repo}/pulls/{number:int}/reviews", create_review)
    router.add("GET", "/repos/{owner}/{repo}/pulls/{number:int}/comments", list_review_comments)
    router.add("GET", "/repos/{owner}/{repo}/commits/{ref}/check-runs", list_check_runs)
    router.add("GET", "/repos/{owner}/{repo}/commits/{ref}/status", get_combined_status)
    return router
