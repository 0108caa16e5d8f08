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
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urljoin

from ghw.github.core import GitHubHTTP
from ghw.github.errors import MalformedResponseError, NotFoundError, ValidationFailedError
from ghw.github.models import (
    Comment,
    GitHubResponse,
    Issue,
    IssuesListing,
    PullRequest,
    Repository,
)

__all__ = ["DIFF_ACCEPT", "GitHubClient"]

DIFF_ACCEPT = "application/vnd.github.diff"
# GitHub's owner, repository and branch names never contain these; refusing them keeps a name from
# escaping its path segment ("../..") or smuggling a query.
_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]+$")


def _seg(value: str, what: str) -> str:
    if not isinstance(value, str) or not _NAME_RE.fullmatch(value) or value in (".", ".."):
        raise ValueError(f"invalid {what}: {value!r}")
    return quote(value, safe="")


def _since(value: datetime | str | None) -> str | None:
    """GitHub wants ISO 8601 ``YYYY-MM-DDTHH:MM:SSZ``; naive datetimes are taken as UTC."""
    if value is None or isinstance(value, str):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


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
    ) -> AsyncIterator[tuple[list[Any], GitHubResponse]]:
        """Each page of a listing as (items, response), following ``Link: rel="next"``.

        A ``304`` on the first request yields one empty page whose response is not modified.
        """
        resp = await self.request("GET", path, params=params, etag=etag)
        if resp.not_modified:
            yield [], resp
            return
        seen = {resp.url}
        ahead: asyncio.Future[GitHubResponse] | None = None
        try:
            while True:
                if not isinstance(resp.json, list):
                    raise MalformedResponseError(
                        f"expected a JSON array, got {type(resp.json).__name__}",
                        method="GET",
                        path=path,
                    )
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
                yield resp.json, resp
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
    ) -> tuple[list[Any], str | None, bool, int]:
        """All items of a listing: (items, first page's ETag, not_modified, requests made)."""
        items: list[Any] = []
        first: GitHubResponse | None = None
        requests = 0
        pages = self._pages(path, params, etag=etag)
        async with contextlib.aclosing(pages):
            async for page, resp in pages:
                first = first or resp
                requests += 1
                items.extend(page)
        assert first is not None
        if first.not_modified:
            return [], first.etag or etag, True, 1
        return items, first.etag, False, requests

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
        path = f"{self._repo_path(owner, repo)}/issues/{int(number)}/comments"
        items, *_ = await self._paginate(path, {"since": _since(since), "per_page": per_page})
        return [Comment.from_json(c) for c in items]

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
        resp = await self.request("GET", f"{self._repo_path(owner, repo)}/pulls/{int(number)}")
        return PullRequest.from_json(resp.json)

    async def get_pull_diff(self, owner: str, repo: str, number: int) -> str:
        """The PR's unified diff as text (``Accept: application/vnd.github.diff``)."""
        path = f"{self._repo_path(owner, repo)}/pulls/{int(number)}"
        resp = await self.request("GET", path, accept=DIFF_ACCEPT)
        return resp.text

    # -- helpers -------------------------------------------------------------------------------

    @staticmethod
    def _repo_path(owner: str, repo: str) -> str:
        return f"/repos/{_seg(owner, 'owner')}/{_seg(repo, 'repository')}"
