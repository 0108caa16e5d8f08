"""A small sync client for fakehub's control API (``{base}/_fakehub/``), for tests and scripts.

    control = FakeHubControl("http://127.0.0.1:8123")
    control.create_issue("demo/calc", "Crash", author="eve", author_association="NONE")
    control.add_fault("/repos/*/issues", kind="status", status=502, count=2)
    assert control.requests()[-1]["status"] == 502

Every method raises :class:`FakeHubControlError` (with fakehub's JSON answer) on a non-2xx answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

import httpx

__all__ = ["FakeHubControl", "FakeHubControlError"]


class FakeHubControlError(RuntimeError):
    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"fakehub control API answered {status}: {body}")
        self.status = status
        self.body = body


def _split(repo: str) -> str:
    owner, sep, name = repo.partition("/")
    if not sep or not owner or not name:
        raise ValueError(f"expected owner/name, got {repo!r}")
    return f"{owner}/{name}"


class FakeHubControl:
    """Sync httpx client for one hub's control API."""

    def __init__(self, base_url: str, *, client: httpx.Client | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._client = client or httpx.Client(timeout=30.0)
        self._owns_client = client is None

    def close(self) -> None:
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> FakeHubControl:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, method: str, path: str, body: Any = None, params: Any = None) -> Any:
        response = self._client.request(
            method, f"{self.base_url}/_fakehub{path}", json=body, params=params
        )
        data: Any = None
        if response.content:
            try:
                data = response.json()
            except ValueError:
                data = response.text
        if response.status_code >= 400:
            raise FakeHubControlError(response.status_code, data)
        return data

    # ---------------------------------------------------------------- health, faults, log, clock

    def health(self) -> dict[str, Any]:
        return self._call("GET", "/health")

    def add_fault(
        self,
        path: str = "*",
        *,
        kind: str = "status",
        method: str = "*",
        count: int | None = 1,
        status: int | None = None,
        regex: str | None = None,
        retry_after: int | None = 60,
        reset_in: int = 60,
        delay_ms: int = 0,
        body: Any = None,
        when: str = "before",
    ) -> dict[str, Any]:
        """Inject a fault (see docs/fakehub.md); ``count=None`` keeps it until cleared.

        ``when="after"`` lets the request succeed (its effect persisted) and then drops, fails
        or delays its answer."""
        spec: dict[str, Any] = {
            "kind": kind,
            "path": path,
            "method": method,
            "count": count,
            "retry_after": retry_after,
            "reset_in": reset_in,
            "delay_ms": delay_ms,
        }
        if status is not None:
            spec["status"] = status
        if regex is not None:
            spec["regex"] = regex
        if body is not None:
            spec["body"] = body
        if when != "before":
            spec["when"] = when
        return self._call("POST", "/faults", spec)

    def fail(self, path: str, status: int = 500, **kw: Any) -> dict[str, Any]:
        return self.add_fault(path, kind="status", status=status, **kw)

    def rate_limit(self, path: str = "*", *, reset_in: int = 60, **kw: Any) -> dict[str, Any]:
        """Primary rate limit: 403, ``X-RateLimit-Remaining: 0``, reset ``reset_in`` s ahead."""
        return self.add_fault(path, kind="primary_rate_limit", reset_in=reset_in, **kw)

    def secondary_rate_limit(
        self, path: str = "*", *, retry_after: int | None = 60, status: int = 403, **kw: Any
    ) -> dict[str, Any]:
        return self.add_fault(
            path, kind="secondary_rate_limit", retry_after=retry_after, status=status, **kw
        )

    def reset_connection(self, path: str = "*", **kw: Any) -> dict[str, Any]:
        return self.add_fault(path, kind="reset", **kw)

    def close_connection(self, path: str = "*", **kw: Any) -> dict[str, Any]:
        """The connection is closed (FIN) with no response; ``when="after"`` once it ran."""
        return self.add_fault(path, kind="close", **kw)

    def delay(self, path: str = "*", delay_ms: int = 100, **kw: Any) -> dict[str, Any]:
        return self.add_fault(path, kind="latency", delay_ms=delay_ms, **kw)

    def faults(self) -> list[dict[str, Any]]:
        return self._call("GET", "/faults")

    def remove_fault(self, fault_id: int) -> None:
        self._call("DELETE", f"/faults/{fault_id}")

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")

    def requests(self, after: int = 0) -> list[dict[str, Any]]:
        """The request log (API and git), oldest first, Authorization redacted."""
        return self._call("GET", "/requests", params={"after": after} if after else None)

    def clear_requests(self) -> None:
        self._call("DELETE", "/requests")

    def clock(self) -> dict[str, Any]:
        return self._call("GET", "/clock")

    def set_clock(self, *, offset: float | None = None, now: str | None = None) -> dict[str, Any]:
        return self._call("POST", "/clock", {"now": now} if now is not None else {"offset": offset})

    def set_api_user(self, login: str, *, type: str | None = None) -> dict[str, Any]:
        """The account API tokens act as (``GET /user``); ``type`` ``"User"`` or ``"Bot"``."""
        body: dict[str, Any] = {"login": login}
        if type is not None:
            body["type"] = type
        return self._call("PUT", "/api-user", body)

    def settings(self) -> dict[str, Any]:
        """fakehub's behaviour switches, e.g. ``{"refuse_duplicate_pulls": True}``."""
        return self._call("GET", "/settings")

    def update_settings(self, **changes: bool) -> dict[str, Any]:
        return self._call("PATCH", "/settings", changes)

    def refuse_duplicate_pulls(self, refuse: bool) -> None:
        """Whether ``POST /pulls`` answers GitHub's 422 for a second open PR with the same head
        (True, the default); False opens another, so only the client can prevent duplicates."""
        self.update_settings(refuse_duplicate_pulls=refuse)

    # ---------------------------------------------------------------- owners, repos, files

    def create_owner(self, login: str, kind: str = "user") -> dict[str, Any]:
        return self._call("POST", "/owners", {"login": login, "kind": kind})

    def create_repo(
        self,
        full_name: str,
        *,
        default_branch: str = "main",
        files: Mapping[str, str] | None = None,
        description: str | None = None,
        private: bool = False,
        owner_kind: str | None = None,
    ) -> dict[str, Any]:
        return self._call(
            "POST",
            "/repos",
            {
                "name": _split(full_name),
                "default_branch": default_branch,
                "files": dict(files or {}),
                "description": description,
                "private": private,
                "owner_kind": owner_kind,
            },
        )

    def push_files(
        self,
        repo: str,
        branch: str,
        files: Mapping[str, str | None],
        *,
        message: str | None = None,
        from_branch: str | None = None,
    ) -> str:
        """Commit ``files`` (None deletes) onto ``branch``; returns the new commit sha."""
        body: dict[str, Any] = {"branch": branch, "files": dict(files)}
        if message:
            body["message"] = message
        if from_branch:
            body["from"] = from_branch
        return self._call("POST", f"/repos/{_split(repo)}/commits", body)["sha"]

    # ---------------------------------------------------------------- issues and pulls

    def create_issue(
        self,
        repo: str,
        title: str,
        body: str | None = None,
        *,
        author: str = "octocat",
        author_association: str = "OWNER",
        labels: Sequence[str] = (),
        state: str = "open",
        state_reason: str | None = None,
        created_at: str | None = None,
        updated_at: str | None = None,
        comments: Iterable[Mapping[str, Any]] = (),
    ) -> dict[str, Any]:
        """Create an issue as anyone; returns its API JSON (``number`` etc.)."""
        spec: dict[str, Any] = {
            "title": title,
            "body": body,
            "author": author,
            "author_association": author_association,
            "labels": list(labels),
            "state": state,
            "comments": [dict(c) for c in comments],
        }
        for key, value in (
            ("state_reason", state_reason),
            ("created_at", created_at),
            ("updated_at", updated_at),
        ):
            if value is not None:
                spec[key] = value
        return self._call("POST", f"/repos/{_split(repo)}/issues", spec)

    def bulk_create_issues(self, repo: str, issues: Sequence[Mapping[str, Any]]) -> list[int]:
        """Many issues in one call and one disk write; returns their numbers."""
        data = self._call("POST", f"/repos/{_split(repo)}/issues/bulk", {"issues": list(issues)})
        return list(data["numbers"])

    def edit_issue(self, repo: str, number: int, **changes: Any) -> dict[str, Any]:
        """Change title, body, labels, state, author, author_association, timestamps."""
        return self._call("PATCH", f"/repos/{_split(repo)}/issues/{number}", changes)

    def add_labels(self, repo: str, number: int, labels: Sequence[str]) -> dict[str, Any]:
        return self._call(
            "POST", f"/repos/{_split(repo)}/issues/{number}/labels", {"labels": list(labels)}
        )

    def remove_label(self, repo: str, number: int, label: str) -> dict[str, Any]:
        return self._call("DELETE", f"/repos/{_split(repo)}/issues/{number}/labels/{label}")

    def close_issue(
        self, repo: str, number: int, *, state_reason: str = "completed", actor: str | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"state_reason": state_reason}
        if actor:
            body["actor"] = actor
        return self._call("POST", f"/repos/{_split(repo)}/issues/{number}/close", body)

    def reopen_issue(self, repo: str, number: int) -> dict[str, Any]:
        return self._call("POST", f"/repos/{_split(repo)}/issues/{number}/reopen", {})

    def add_comment(
        self,
        repo: str,
        number: int,
        body: str,
        *,
        author: str = "octocat",
        author_association: str = "NONE",
        created_at: str | None = None,
        author_type: str | None = None,
    ) -> dict[str, Any]:
        """A comment on an issue or PR as anyone; ``author_type`` ``"User"`` or ``"Bot"``."""
        payload: dict[str, Any] = {
            "body": body,
            "author": author,
            "author_association": author_association,
        }
        if created_at:
            payload["created_at"] = created_at
        if author_type is not None:
            payload["author_type"] = author_type
        return self._call("POST", f"/repos/{_split(repo)}/issues/{number}/comments", payload)

    def close_pull(self, repo: str, number: int) -> dict[str, Any]:
        """Close a pull request without merging it."""
        return self._call("POST", f"/repos/{_split(repo)}/pulls/{number}/close", {})

    def merge_pull(self, repo: str, number: int) -> dict[str, Any]:
        """Merge with a real merge commit on the base branch (405 when it conflicts)."""
        return self._call("POST", f"/repos/{_split(repo)}/pulls/{number}/merge", {})

    # ---------------------------------------------------------------- reviews and CI

    def add_review(
        self,
        repo: str,
        number: int,
        state: str,
        body: str = "",
        *,
        author: str = "octocat",
        author_association: str = "NONE",
        author_type: str | None = None,
        comments: Iterable[Mapping[str, Any]] = (),
    ) -> dict[str, Any]:
        """A submitted review (``CHANGES_REQUESTED``, ``APPROVED``, ``COMMENTED``) as anyone,
        with line comments ``{"path", "line", "body"}``; returns it with its ``comments``."""
        payload: dict[str, Any] = {
            "state": state,
            "body": body,
            "author": author,
            "author_association": author_association,
            "comments": [dict(c) for c in comments],
        }
        if author_type is not None:
            payload["author_type"] = author_type
        return self._call("POST", f"/repos/{_split(repo)}/pulls/{number}/reviews", payload)

    def report_check_run(
        self,
        repo: str,
        sha: str,
        name: str,
        *,
        status: str | None = None,
        conclusion: str | None = None,
        output: Mapping[str, str | None] | None = None,
    ) -> dict[str, Any]:
        """Create or (same ``name`` on the same commit) update a check run; ``sha`` may be a
        branch. A ``conclusion`` means ``completed``, as on GitHub."""
        payload: dict[str, Any] = {"name": name}
        if status is not None:
            payload["status"] = status
        if conclusion is not None:
            payload["conclusion"] = conclusion
        if output is not None:
            payload["output"] = dict(output)
        return self._call(
            "POST", f"/repos/{_split(repo)}/commits/{quote(sha, safe='')}/check-runs", payload
        )

    def report_status(
        self,
        repo: str,
        sha: str,
        state: str,
        *,
        context: str = "default",
        description: str | None = None,
        target_url: str | None = None,
    ) -> dict[str, Any]:
        """A commit status (``error``, ``failure``, ``pending``, ``success``) for ``context``."""
        payload: dict[str, Any] = {"state": state, "context": context}
        if description is not None:
            payload["description"] = description
        if target_url is not None:
            payload["target_url"] = target_url
        return self._call(
            "POST", f"/repos/{_split(repo)}/commits/{quote(sha, safe='')}/statuses", payload
        )
