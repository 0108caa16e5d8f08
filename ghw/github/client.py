"""The endpoints ghw uses (§9), on top of the request engine in ``core.py``.

Each method returns typed results (``models.py``) and raises :mod:`ghw.github.errors`. Listing
methods follow ``Link: rel="next"`` URLs verbatim and return every item. Two helpers make writes
exactly-once across crashes: :meth:`GitHubClient.create_pull` resolves GitHub's duplicate-PR 422 to
the PR that already exists, and :meth:`GitHubClient.create_comment_once` looks for the comment's
hidden marker before posting.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import re
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import quote, urljoin

from ghw.github.core import GitHubHTTP
from ghw.github.errors import MalformedResponseError, NotFoundError, ValidationFailedError
from ghw.github.models import (
    CheckRun,
    CheckRunsListing,
    CombinedStatus,
    Comment,
    Fetched,
    GitHubResponse,
    Issue,
    IssuesListing,
    Listing,
    PullRequest,
    Repository,
    Review,
    ReviewComment,
    User,
)

__all__ = ["DIFF_ACCEPT", "GitHubClient"]

DIFF_ACCEPT = "application/vnd.github.diff"
# GitHub's owner, repository and branch names never contain these; refusing them keeps a name from
# escaping its path segment ("../..") or smuggling a query.
_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]+$")
# What git refuses in a ref name (git check-ref-format), so a ref cannot smuggle a path or query.
_BAD_REF = re.compile(r"(\.\.|[\x00-\x20~^:?*\[\\]|^/|/$|^-)")
_T = TypeVar("_T")


def _seg(value: str, what: str) -> str:
    if not isinstance(value, str) or not _NAME_RE.fullmatch(value) or value in (".", ".."):
        raise ValueError(f"invalid {what}: {value!r}")
    return quote(value, safe="")


def _ref(value: str) -> str:
    """A commit sha or branch name as one path segment (``ghw/issue-1`` → ``ghw%2Fissue-1``)."""
    if not isinstance(value, str) or not value or _BAD_REF.search(value):
        raise ValueError(f"invalid ref: {value!r}")
    return quote(value, safe="")


def _next_etag(first: GitHubResponse, requests: int, sent: str | None) -> str | None:
    """The ETag worth sending next time: a 304 keeps the one sent; a one-page listing has its
    page's; several pages have none (a 304 on page 1 would hide a change on a later page)."""
    if first.not_modified:
        return first.etag or sent
    return first.etag if requests == 1 else None


def _since(value: datetime | str | None) -> str | None:
    """GitHub wants ISO 8601 ``YYYY-MM-DDTHH:MM:SSZ``; naive datetimes are taken as UTC."""
    if value is None or isinstance(value, str):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _page_items(resp: GitHubResponse, key: str | None, path: str) -> list[Any]:
    """A page's items: its JSON array, or the array under ``key`` of its JSON object."""
    data = resp.json
    if key is not None:
        if not isinstance(data, Mapping) or not isinstance(data.get(key), list):
            raise MalformedResponseError(
                f"expected a JSON object with a {key!r} array", method="GET", path=path
            )
        return list(data[key])
    if not isinstance(data, list):
        raise MalformedResponseError(
            f"expected a JSON array, got {type(data).__name__}", method="GET", path=path
        )
    return data


def _is_duplicate_pr(err: ValidationFailedError) -> bool:
    texts = [err.github_message] + [str(e.get("message") or "") for e in err.errors]
    return any("pull request already exists" in t.lower() for t in texts)


class GitHubClient(GitHubHTTP):
    """GitHub REST client for ghw. ``async with GitHubClient(url, token) as gh: ...``."""

    async def __aenter__(self) -> GitHubClient:
        return self

    # -- pagination ----------------------------------------------------------------------------

    async def _pages(
        self,
        path: str,
        params: Mapping[str, Any] | None,
        *,
        etag: str | None = None,
        items_key: str | None = None,
    ) -> AsyncIterator[tuple[list[Any], GitHubResponse]]:
        """Each page of a listing as (items, response), following ``Link: rel="next"``.

        The items are the page's JSON array, or with ``items_key`` the array under that key of
        the page's object (``check_runs``, ``statuses``). A ``304`` on the first request yields
        one empty page whose response is not modified.
        """
        resp = await self.request("GET", path, params=params, etag=etag)
        if resp.not_modified:
            yield [], resp
            return
        seen = {resp.url}
        ahead: asyncio.Future[GitHubResponse] | None = None
        try:
            while True:
                items = _page_items(resp, items_key, path)
                nxt = resp.links.get("next")
                if nxt:
                    # Verbatim; a relative reference (not sent by GitHub, legal per RFC 8288) is
                    # resolved against the page it came from.
                    nxt = urljoin(resp.url, nxt)
                    if nxt in seen:
                        raise MalformedResponseError(
                            f"Link rel=next points back to an earlier page ({nxt})",
                            method="GET",
                            path=path,
                        )
                    seen.add(nxt)
                    # The next page loads while the caller works on this one, so a sync costs
                    # the network's time or its own, not both.
                    ahead = asyncio.ensure_future(self.request("GET", nxt))
                yield items, resp
                if ahead is None:
                    return
                resp = await ahead
                ahead = None
        finally:
            if ahead is not None:  # the caller stopped early: the page it will never read
                ahead.cancel()
                await asyncio.wait([ahead])
                if not ahead.cancelled():
                    ahead.exception()  # retrieved, so asyncio does not report it as lost

    async def _paginate(
        self,
        path: str,
        params: Mapping[str, Any] | None,
        *,
        etag: str | None = None,
        items_key: str | None = None,
    ) -> tuple[list[Any], str | None, bool, int]:
        """All items of a listing: (items, first page's ETag, not_modified, requests made)."""
        items: list[Any] = []
        first: GitHubResponse | None = None
        requests = 0
        pages = self._pages(path, params, etag=etag, items_key=items_key)
        async with contextlib.aclosing(pages):
            async for page, resp in pages:
                first = first or resp
                requests += 1
                items.extend(page)
        assert first is not None
        if first.not_modified:
            return [], first.etag or etag, True, 1
        return items, first.etag, False, requests

    async def _collect(
        self,
        path: str,
        params: Mapping[str, Any] | None,
        *,
        etag: str | None,
        items_key: str | None = None,
    ) -> tuple[list[Any], GitHubResponse, int]:
        """All items of a listing, the first page's response, and the requests made."""
        items: list[Any] = []
        first: GitHubResponse | None = None
        requests = 0
        pages = self._pages(path, params, etag=etag, items_key=items_key)
        async with contextlib.aclosing(pages):
            async for page, resp in pages:
                first = first or resp
                requests += 1
                items.extend(page)
        assert first is not None  # a listing yields at least one page (or one 304)
        return items, first, requests

    async def _listing(
        self,
        path: str,
        params: Mapping[str, Any],
        parse: Callable[[Any], _T],
        etag: str | None,
    ) -> Listing[_T]:
        items, first, requests = await self._collect(path, params, etag=etag)
        return Listing(
            items=tuple(parse(i) for i in items),
            etag=_next_etag(first, requests, etag),
            not_modified=first.not_modified,
            requests=requests,
        )

    async def _fetch(self, path: str, parse: Callable[[Any], _T], etag: str | None) -> Fetched[_T]:
        resp = await self.request("GET", path, etag=etag)
        if resp.not_modified:
            return Fetched(value=None, etag=resp.etag or etag, not_modified=True)
        return Fetched(value=parse(resp.json), etag=resp.etag, not_modified=False)

    # -- the token's account -------------------------------------------------------------------

    async def get_authenticated_user(self, *, etag: str | None = None) -> Fetched[User]:
        """``GET /user``: whose token this is (its login and type), conditionally."""
        return await self._fetch("/user", User.from_json, etag)

    # -- issues --------------------------------------------------------------------------------

    async def iter_issues(
        self,
        owner: str,
        repo: str,
        *,
        since: datetime | str | None = None,
        state: str | None = "all",
        per_page: int | None = 100,
        etag: str | None = None,
        sort: str | None = None,
        direction: str | None = None,
    ) -> IssuesListing:
        """Every issue (and PR, flagged ``is_pull_request``) of a repository, all pages.

        Parameters set to None are not sent (GitHub's defaults apply); recorded fixtures match
        the query exactly, so nothing is added that the caller did not ask for.
        """
        items: list[Issue] = []
        last: IssuesListing | None = None
        pages = self.iter_issue_pages(
            owner,
            repo,
            since=since,
            state=state,
            per_page=per_page,
            etag=etag,
            sort=sort,
            direction=direction,
        )
        async with contextlib.aclosing(pages):
            async for last in pages:
                items.extend(last.items)
        assert last is not None  # a listing yields at least one page (or one 304)
        return dataclasses.replace(last, items=tuple(items))

    async def iter_issue_pages(
        self,
        owner: str,
        repo: str,
        *,
        since: datetime | str | None = None,
        state: str | None = "all",
        per_page: int | None = 100,
        etag: str | None = None,
        sort: str | None = None,
        direction: str | None = None,
    ) -> AsyncIterator[IssuesListing]:
        """The issues listing page by page, so a caller can work on one while the next loads.

        Each yielded listing holds one page's items; ``etag`` is the first page's, ``requests``
        the pages fetched so far. A ``304`` yields one empty, ``not_modified`` listing.
        """
        path = f"/repos/{_seg(owner, 'owner')}/{_seg(repo, 'repository')}/issues"
        params = {
            "state": state,
            "since": _since(since),
            "per_page": per_page,
            "sort": sort,
            "direction": direction,
        }
        first_etag: str | None = None
        requests = 0
        pages = self._pages(path, params, etag=etag)
        async with contextlib.aclosing(pages):
            async for page, resp in pages:
                requests += 1
                if requests == 1:
                    first_etag = (resp.etag or etag) if resp.not_modified else resp.etag
                yield IssuesListing(
                    items=tuple(Issue.from_json(i) for i in page),
                    etag=first_etag,
                    not_modified=resp.not_modified,
                    requests=requests,
                )

    async def get_issue(self, owner: str, repo: str, number: int) -> Issue:
        resp = await self.request("GET", f"{self._repo_path(owner, repo)}/issues/{int(number)}")
        return Issue.from_json(resp.json)

    # -- comments ------------------------------------------------------------------------------

    async def list_issue_comments(
        self,
        owner: str,
        repo: str,
        number: int,
        *,
        since: datetime | str | None = None,
        per_page: int | None = 100,
    ) -> list[Comment]:
        """All comments of an issue or PR, oldest first."""
        listing = await self.fetch_issue_comments(
            owner, repo, number, since=since, per_page=per_page
        )
        return list(listing.items)

    async def fetch_issue_comments(
        self,
        owner: str,
        repo: str,
        number: int,
        *,
        etag: str | None = None,
        since: datetime | str | None = None,
        per_page: int | None = 100,
    ) -> Listing[Comment]:
        """All comments of an issue or PR, oldest first, conditionally (``etag``)."""
        path = f"{self._repo_path(owner, repo)}/issues/{int(number)}/comments"
        params = {"since": _since(since), "per_page": per_page}
        return await self._listing(path, params, Comment.from_json, etag)

    async def create_issue_comment(self, owner: str, repo: str, number: int, body: str) -> Comment:
        """Post a comment. Not retried once it may have reached GitHub: use create_comment_once."""
        path = f"{self._repo_path(owner, repo)}/issues/{int(number)}/comments"
        resp = await self.request("POST", path, json={"body": body})
        return Comment.from_json(resp.json)

    async def find_comment_with_marker(
        self, owner: str, repo: str, number: int, marker: str
    ) -> Comment | None:
        """The oldest comment whose body contains ``marker`` (e.g. ``<!-- ghw:key=… -->``)."""
        if not marker:
            raise ValueError("marker must not be empty")
        for comment in await self.list_issue_comments(owner, repo, number):
            if marker in comment.body:
                return comment
        return None

    async def create_comment_once(
        self, owner: str, repo: str, number: int, body: str, marker: str
    ) -> tuple[Comment, bool]:
        """Post ``body`` unless a comment with ``marker`` exists; (comment, True if posted now).

        The marker is appended to the body when missing, so the next call finds it. After a
        transient failure of the POST, calling this again is safe: it finds the comment if the
        first POST did land.
        """
        found = await self.find_comment_with_marker(owner, repo, number, marker)
        if found is not None:
            return found, False
        if marker not in body:
            body = f"{body}\n\n{marker}"
        return await self.create_issue_comment(owner, repo, number, body), True

    # -- repositories --------------------------------------------------------------------------

    async def get_repo(self, owner: str, repo: str) -> Repository:
        resp = await self.request("GET", self._repo_path(owner, repo))
        return Repository.from_json(resp.json)

    async def list_owner_repos(self, owner: str, *, per_page: int | None = 100) -> list[Repository]:
        """Repositories of an organisation, or of a user when ``owner`` is not an organisation."""
        o = _seg(owner, "owner")
        params = {"per_page": per_page}
        try:
            items, *_ = await self._paginate(f"/orgs/{o}/repos", params)
        except NotFoundError:
            items, *_ = await self._paginate(f"/users/{o}/repos", params)
        return [Repository.from_json(r) for r in items]

    # -- pull requests -------------------------------------------------------------------------

    async def create_pull(
        self,
        owner: str,
        repo: str,
        *,
        title: str,
        head: str,
        base: str,
        body: str,
        draft: bool = False,
    ) -> PullRequest:
        """Open a PR; when one is already open for ``head``, return that one (``existing=True``).

        ``head`` is ``branch`` or ``owner:branch``. A transient error (5xx, reset, timeout) is
        raised, not retried: the PR may exist now, and the caller reconciles with
        :meth:`list_pulls_by_head` (ADR 0030).
        """
        payload: dict[str, Any] = {"title": title, "head": head, "base": base, "body": body}
        if draft:
            payload["draft"] = True
        try:
            resp = await self.request("POST", f"{self._repo_path(owner, repo)}/pulls", json=payload)
        except ValidationFailedError as err:
            if not _is_duplicate_pr(err):
                raise
            head_owner, _, branch = head.rpartition(":")
            open_prs = await self.list_pulls_by_head(
                owner, repo, head_owner or owner, branch, state="open"
            )
            if not open_prs:
                raise  # closed in between: the caller sees GitHub's refusal
            return dataclasses.replace(open_prs[0], existing=True)
        return PullRequest.from_json(resp.json)

    async def list_pulls_by_head(
        self, owner: str, repo: str, head_owner: str, branch: str, *, state: str = "all"
    ) -> list[PullRequest]:
        """PRs whose head is ``head_owner:branch``, newest first.

        The ``owner:`` prefix is mandatory: GitHub silently ignores a bare branch name and returns
        every PR, so results are also checked against the branch here.
        """
        params = {
            "head": f"{_seg(head_owner, 'head owner')}:{branch}",
            "state": state,
            "per_page": 100,
        }
        items, *_ = await self._paginate(f"{self._repo_path(owner, repo)}/pulls", params)
        pulls = [PullRequest.from_json(p) for p in items]
        return [
            p
            for p in pulls
            if p.head_ref == branch
            and (p.head_owner is None or p.head_owner.lower() == head_owner.lower())
        ]

    async def get_pull(self, owner: str, repo: str, number: int) -> PullRequest:
        fetched = await self.fetch_pull(owner, repo, number)
        assert fetched.value is not None  # nothing was sent to be "not modified" against
        return fetched.value

    async def fetch_pull(
        self, owner: str, repo: str, number: int, *, etag: str | None = None
    ) -> Fetched[PullRequest]:
        """One PR with head/base shas, ``merged``, ``mergeable`` and ``mergeable_state``."""
        path = f"{self._repo_path(owner, repo)}/pulls/{int(number)}"
        return await self._fetch(path, PullRequest.from_json, etag)

    # -- follow-up: reviews, review comments, CI -----------------------------------------------

    async def list_reviews(
        self,
        owner: str,
        repo: str,
        number: int,
        *,
        etag: str | None = None,
        per_page: int | None = 100,
    ) -> Listing[Review]:
        """A PR's reviews in the order they were submitted."""
        path = f"{self._repo_path(owner, repo)}/pulls/{int(number)}/reviews"
        return await self._listing(path, {"per_page": per_page}, Review.from_json, etag)

    async def list_review_comments(
        self,
        owner: str,
        repo: str,
        number: int,
        *,
        etag: str | None = None,
        since: datetime | str | None = None,
        per_page: int | None = 100,
    ) -> Listing[ReviewComment]:
        """A PR's comments on lines of its diff, oldest first."""
        path = f"{self._repo_path(owner, repo)}/pulls/{int(number)}/comments"
        params = {"since": _since(since), "per_page": per_page}
        return await self._listing(path, params, ReviewComment.from_json, etag)

    async def list_check_runs(
        self,
        owner: str,
        repo: str,
        ref: str,
        *,
        etag: str | None = None,
        per_page: int | None = 100,
    ) -> CheckRunsListing:
        """The check runs of a commit (``ref``: a sha or a branch), every page."""
        path = f"{self._repo_path(owner, repo)}/commits/{_ref(ref)}/check-runs"
        items, first, requests = await self._collect(
            path, {"per_page": per_page}, etag=etag, items_key="check_runs"
        )
        total = 0
        if not first.not_modified and isinstance(first.json, Mapping):
            count = first.json.get("total_count")
            total = count if isinstance(count, int) else len(items)
        return CheckRunsListing(
            items=tuple(CheckRun.from_json(r) for r in items),
            etag=_next_etag(first, requests, etag),
            not_modified=first.not_modified,
            requests=requests,
            total_count=total,
        )

    async def get_combined_status(
        self,
        owner: str,
        repo: str,
        ref: str,
        *,
        etag: str | None = None,
        per_page: int | None = 100,
    ) -> Fetched[CombinedStatus]:
        """The combined commit status of ``ref`` (a sha or a branch), statuses of every page."""
        path = f"{self._repo_path(owner, repo)}/commits/{_ref(ref)}/status"
        items, first, requests = await self._collect(
            path, {"per_page": per_page}, etag=etag, items_key="statuses"
        )
        next_etag = _next_etag(first, requests, etag)
        if first.not_modified:
            return Fetched(value=None, etag=next_etag, not_modified=True)
        status = CombinedStatus.from_json(first.json, items)
        return Fetched(value=status, etag=next_etag, not_modified=False)

    async def get_pull_diff(self, owner: str, repo: str, number: int) -> str:
        """The PR's unified diff as text (``Accept: application/vnd.github.diff``)."""
        path = f"{self._repo_path(owner, repo)}/pulls/{int(number)}"
        resp = await self.request("GET", path, accept=DIFF_ACCEPT)
        return resp.text

    # -- helpers -------------------------------------------------------------------------------

    @staticmethod
    def _repo_path(owner: str, repo: str) -> str:
        return f"/repos/{_seg(owner, 'owner')}/{_seg(repo, 'repository')}"
