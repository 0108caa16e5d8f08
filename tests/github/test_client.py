"""Unit tests of the client's behaviour with httpx.MockTransport, an injected clock and sleep.

No real sleeping: ``fake_time.sleep`` records each wait and advances ``fake_time.now``.
"""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from ghw.github import (
    ForbiddenError,
    GitHubClient,
    GitHubConnectionError,
    GitHubTimeoutError,
    MalformedResponseError,
    NotFoundError,
    RateLimitedError,
    RateLimitWait,
    RateLimitWaitTooLongError,
    ServerError,
    UnauthorizedError,
    ValidationFailedError,
)

from .conftest import TOKEN, FakeTime

BASE = "https://api.github.com"
Handler = Callable[[httpx.Request], httpx.Response]


def make_client(handler: Handler, fake_time: FakeTime, **kw: Any) -> GitHubClient:
    kw.setdefault("rng", random.Random(7))
    return GitHubClient(
        kw.pop("base_url", BASE),
        TOKEN,
        transport=httpx.MockTransport(handler),
        clock=fake_time.clock,
        sleep=fake_time.sleep,
        **kw,
    )


def ok(body: Any, status: int = 200, **headers: str) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


def issue(number: int, **extra: Any) -> dict[str, Any]:
    return {"number": number, "title": f"Issue {number}", "state": "open", "body": "b", **extra}


class Recorder:
    """A handler that answers from a script and remembers requests (and when they were sent)."""

    def __init__(self, fake_time: FakeTime, *answers: httpx.Response | Exception) -> None:
        self.fake_time = fake_time
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []
        self.sent_at: list[float] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        self.sent_at.append(self.fake_time.now)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


# -- headers and URLs ----------------------------------------------------------------------------


async def test_sends_github_headers(fake_time: FakeTime) -> None:
    rec = Recorder(fake_time, ok({"ok": True}))
    async with make_client(rec, fake_time) as gh:
        await gh.request("GET", "/rate_limit")
    h = rec.requests[0].headers
    assert h["authorization"] == f"Bearer {TOKEN}"
    assert h["accept"] == "application/vnd.github+json"
    assert h["x-github-api-version"] == "2022-11-28"
    assert h["user-agent"] == "ghw/0.1"


@pytest.mark.parametrize(
    "base", ["https://ghe.example.com/api/v3", "https://ghe.example.com/api/v3/"]
)
async def test_enterprise_base_keeps_its_path_prefix(fake_time: FakeTime, base: str) -> None:
    rec = Recorder(fake_time, ok({"id": 1, "name": "r", "full_name": "o/r"}))
    async with make_client(rec, fake_time, base_url=base) as gh:
        repo = await gh.get_repo("o", "r")
    assert str(rec.requests[0].url) == "https://ghe.example.com/api/v3/repos/o/r"
    assert repo.full_name == "o/r"


async def test_link_next_is_used_verbatim(fake_time: FakeTime) -> None:
    nxt = "https://ghe.example.com/api/v3/repositories/42/issues?per_page=2&page=2&cursor=a%2Fb"
    rec = Recorder(
        fake_time,
        ok([issue(3), issue(2)], link=f'<{nxt}>; rel="next", <{nxt}>; rel="last"', etag='"e1"'),
        ok([issue(1, pull_request={"url": "x"})], etag='"e2"'),
    )
    async with make_client(rec, fake_time, base_url="https://ghe.example.com/api/v3") as gh:
        listing = await gh.iter_issues("o", "r", per_page=2)
    assert str(rec.requests[0].url) == (
        "https://ghe.example.com/api/v3/repos/o/r/issues?state=all&per_page=2"
    )
    assert str(rec.requests[1].url) == nxt
    assert [i.number for i in listing.items] == [3, 2, 1]
    assert [i.is_pull_request for i in listing.items] == [False, False, True]
    assert listing.etag == '"e1"' and listing.requests == 2 and not listing.not_modified


async def test_link_to_a_foreign_origin_is_refused(fake_time: FakeTime) -> None:
    rec = Recorder(
        fake_time, ok([issue(1)], link='<https://evil.example/steal?page=2>; rel="next"')
    )
    async with make_client(rec, fake_time) as gh:
        with pytest.raises(MalformedResponseError, match="refusing to send credentials"):
            await gh.iter_issues("o", "r")
    assert len(rec.requests) == 1


async def test_link_with_explicit_default_port_is_same_origin(fake_time: FakeTime) -> None:
    nxt = "https://API.github.com:443/repositories/1/issues?page=2"
    rec = Recorder(fake_time, ok([issue(2)], link=f'<{nxt}>; rel="next"'), ok([issue(1)]))
    async with make_client(rec, fake_time) as gh:
        listing = await gh.iter_issues("o", "r")
    assert [i.number for i in listing.items] == [2, 1]


async def test_link_loop_is_detected(fake_time: FakeTime) -> None:
    page2 = f"{BASE}/repositories/1/issues?page=2"
    rec = Recorder(
        fake_time,
        ok([issue(2)], link=f'<{page2}>; rel="next"'),
        ok([issue(1)], link=f'<{page2}>; rel="next"'),
    )
    async with make_client(rec, fake_time) as gh:
        with pytest.raises(MalformedResponseError, match="points back"):
            await gh.iter_issues("o", "r")


async def test_since_and_sort_are_sent_only_when_asked(fake_time: FakeTime) -> None:
    from datetime import UTC, datetime

    rec = Recorder(fake_time, ok([]))
    async with make_client(rec, fake_time) as gh:
        await gh.iter_issues(
            "o", "r", since=datetime(2024, 5, 1, 12, tzinfo=UTC), sort="updated", direction="asc"
        )
    params = dict(rec.requests[0].url.params)
    assert params == {
        "state": "all",
        "since": "2024-05-01T12:00:00Z",
        "per_page": "100",
        "sort": "updated",
        "direction": "asc",
    }


@pytest.mark.parametrize("bad", ["..", "a/b", "x?y=1", "", "a b"])
async def test_path_segments_are_checked(fake_time: FakeTime, bad: str) -> None:
    async with make_client(Recorder(fake_time, ok({})), fake_time) as gh:
        with pytest.raises(ValueError, match="invalid"):
            await gh.get_repo(bad, "r")


async def test_redirect_is_followed(fake_time: FakeTime) -> None:
    rec = Recorder(
        fake_time,
        httpx.Response(301, headers={"location": f"{BASE}/repositories/7"}),
        ok({"id": 7, "name": "new", "full_name": "o/new"}),
    )
    async with make_client(rec, fake_time) as gh:
        repo = await gh.get_repo("o", "old")
    assert repo.name == "new"
    assert rec.requests[1].headers["authorization"] == f"Bearer {TOKEN}"  # same origin


# -- conditional requests ------------------------------------------------------------------------


async def test_etag_gives_not_modified_with_one_request(fake_time: FakeTime) -> None:
    rec = Recorder(fake_time, httpx.Response(304, headers={"etag": '"abc"'}))
    async with make_client(rec, fake_time) as gh:
        listing = await gh.iter_issues("o", "r", etag='"abc"')
    assert listing.not_modified and listing.items == () and listing.etag == '"abc"'
    assert listing.requests == 1 and len(rec.requests) == 1
    assert rec.requests[0].headers["if-none-match"] == '"abc"'


async def test_generic_request_304_is_not_an_error(fake_time: FakeTime) -> None:
    rec = Recorder(fake_time, httpx.Response(304, headers={"etag": 'W/"x"'}))
    async with make_client(rec, fake_time) as gh:
        resp = await gh.request("GET", "/repos/o/r/pulls/1", etag='W/"x"')
    assert resp.not_modified and resp.etag == 'W/"x"' and resp.json is None


# -- rate limits ---------------------------------------------------------------------------------


def primary(reset: float, status: int = 403) -> httpx.Response:
    return httpx.Response(
        status,
        json={"message": "API rate limit exceeded for user ID 1."},
        headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(reset))},
    )


@pytest.mark.parametrize("status", [403, 429])
async def test_primary_rate_limit_waits_until_reset(fake_time: FakeTime, status: int) -> None:
    reset = fake_time.now + 120
    waits: list[RateLimitWait] = []

    async def record(wait: RateLimitWait) -> None:
        waits.append(wait)
        assert fake_time.sleeps == []  # recorded before sleeping

    rec = Recorder(fake_time, primary(reset, status), ok([issue(1)]))
    async with make_client(rec, fake_time, on_rate_limit_wait=record) as gh:
        listing = await gh.iter_issues("o", "r")
    assert [i.number for i in listing.items] == [1]
    assert waits == [RateLimitWait(until=reset + 1, reason="primary", path="/repos/o/r/issues")]
    assert fake_time.sleeps == [121]
    assert rec.sent_at[1] >= reset
    assert gh.not_before == reset + 1


async def test_reset_in_milliseconds_is_read_as_such(fake_time: FakeTime) -> None:
    reset_ms = (fake_time.now + 60) * 1000  # as in @octokit/fixtures' normalised recordings
    rec = Recorder(fake_time, primary(reset_ms), ok({}))
    async with make_client(rec, fake_time) as gh:
        await gh.request("GET", "/x")
    assert fake_time.sleeps == [61]


async def test_wait_longer_than_max_rate_wait_raises(fake_time: FakeTime) -> None:
    reset = fake_time.now + 7200
    called: list[RateLimitWait] = []

    async def record(wait: RateLimitWait) -> None:
        called.append(wait)

    rec = Recorder(fake_time, primary(reset), ok({}))
    async with make_client(rec, fake_time, max_rate_wait=3600, on_rate_limit_wait=record) as gh:
        with pytest.raises(RateLimitWaitTooLongError) as caught:
            await gh.request("GET", "/x")
        assert caught.value.reset == reset + 1 and caught.value.transient
        assert "API rate limit exceeded" in str(caught.value)
        # The limit stays known: the next request fails fast, without bothering GitHub.
        with pytest.raises(RateLimitWaitTooLongError):
            await gh.request("GET", "/y")
    assert fake_time.sleeps == [] and called == [] and len(rec.requests) == 1


async def test_not_before_from_the_ledger_is_honoured(fake_time: FakeTime) -> None:
    not_before = fake_time.now + 30
    rec = Recorder(fake_time, ok({}))
    async with make_client(rec, fake_time, not_before=not_before) as gh:
        await gh.request("GET", "/x")
        await gh.request("GET", "/y")
    assert fake_time.sleeps == [30]
    assert rec.sent_at[0] >= not_before


async def test_not_before_beyond_max_rate_wait_raises_without_a_request(
    fake_time: FakeTime,
) -> None:
    rec = Recorder(fake_time, ok({}))
    async with make_client(rec, fake_time, not_before=fake_time.now + 5000, max_rate_wait=60) as gh:
        with pytest.raises(RateLimitWaitTooLongError):
            await gh.request("GET", "/x")
    assert rec.requests == []


async def test_secondary_rate_limit_honours_retry_after(fake_time: FakeTime) -> None:
    waits: list[RateLimitWait] = []

    async def record(wait: RateLimitWait) -> None:
        waits.append(wait)

    limited = httpx.Response(
        403,
        json={"message": "You have exceeded a secondary rate limit."},
        headers={"retry-after": "30", "x-ratelimit-remaining": "4000"},
    )
    rec = Recorder(fake_time, limited, ok({"id": 1, "body": "hi"}, 201))
    async with make_client(rec, fake_time, on_rate_limit_wait=record, write_interval=0) as gh:
        comment = await gh.create_issue_comment("o", "r", 1, "hi")
    # A rate-limited POST was refused unprocessed, so it is sent again.
    assert comment.id == 1 and len(rec.requests) == 2
    assert fake_time.sleeps == [30]
    assert waits[0].reason == "secondary"


async def test_secondary_without_retry_after_waits_a_minute(fake_time: FakeTime) -> None:
    limited = httpx.Response(
        403, json={"message": "You have exceeded a secondary rate limit. Please wait."}
    )
    rec = Recorder(fake_time, limited, ok({}))
    async with make_client(rec, fake_time) as gh:
        await gh.request("GET", "/x")
    assert fake_time.sleeps == [60]


async def test_rate_limit_retries_are_bounded(fake_time: FakeTime) -> None:
    limited = httpx.Response(429, json={"message": "slow down"}, headers={"retry-after": "1"})
    rec = Recorder(fake_time, limited)
    async with make_client(rec, fake_time, max_retries=2) as gh:
        with pytest.raises(RateLimitedError) as caught:
            await gh.request("GET", "/x")
    assert caught.value.transient and caught.value.kind == "secondary"
    assert len(rec.requests) == 3


async def test_plain_403_is_forbidden_and_not_retried(fake_time: FakeTime) -> None:
    rec = Recorder(
        fake_time,
        httpx.Response(403, json={"message": "Resource not accessible by integration"}),
    )
    async with make_client(rec, fake_time) as gh:
        with pytest.raises(ForbiddenError, match="Resource not accessible") as caught:
            await gh.request("GET", "/x")
    assert not caught.value.transient and len(rec.requests) == 1 and fake_time.sleeps == []


# -- retries -------------------------------------------------------------------------------------


async def test_5xx_burst_is_retried_with_jittered_backoff(fake_time: FakeTime) -> None:
    rec = Recorder(
        fake_time,
        httpx.Response(502, text="<html>bad gateway</html>"),
        httpx.Response(503, json={"message": "unavailable"}),
        httpx.Response(500, json={"message": "oops"}),
        ok([issue(1)]),
    )
    async with make_client(rec, fake_time) as gh:
        listing = await gh.iter_issues("o", "r")
    assert [i.number for i in listing.items] == [1]
    s = fake_time.sleeps
    assert len(s) == 3
    # Equal jitter: retry n waits between 2^(n-1)/2 and 2^(n-1) seconds.
    assert 0.5 <= s[0] <= 1 and 1 <= s[1] <= 2 and 2 <= s[2] <= 4


async def test_backoff_is_jittered_by_the_rng(fake_time: FakeTime) -> None:
    delays = []
    for seed in (1, 2):
        ft = FakeTime()
        rec = Recorder(ft, httpx.Response(500, json={"message": "x"}), ok({}))
        async with make_client(rec, ft, rng=random.Random(seed)) as gh:
            await gh.request("GET", "/x")
        delays.append(ft.sleeps[0])
    assert delays[0] != delays[1]


async def test_connection_resets_are_retried(fake_time: FakeTime) -> None:
    rec = Recorder(
        fake_time,
        httpx.ReadError("Connection reset by peer"),
        httpx.RemoteProtocolError("Server disconnected"),
        ok({"id": 1, "name": "r", "full_name": "o/r"}),
    )
    async with make_client(rec, fake_time) as gh:
        repo = await gh.get_repo("o", "r")
    assert repo.id == 1 and len(fake_time.sleeps) == 2


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (httpx.Response(500, json={"message": "Server Error"}), ServerError),
        (httpx.ConnectError("Connection refused"), GitHubConnectionError),
        (httpx.ReadTimeout("timed out"), GitHubTimeoutError),
    ],
)
async def test_retries_exhausted_give_a_transient_error(
    fake_time: FakeTime, answer: Any, error: type[Exception]
) -> None:
    rec = Recorder(fake_time, answer)
    async with make_client(rec, fake_time, max_retries=3) as gh:
        with pytest.raises(error) as caught:
            await gh.request("GET", "/x")
    assert caught.value.transient  # type: ignore[attr-defined]
    assert len(rec.requests) == 4 and len(fake_time.sleeps) == 3


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(502, json={"message": "Bad Gateway"}),
        httpx.ReadError("Connection reset by peer"),
        httpx.ReadTimeout("timed out"),
    ],
)
async def test_post_that_may_have_landed_is_not_retried(fake_time: FakeTime, answer: Any) -> None:
    rec = Recorder(fake_time, answer, ok({}, 201))
    async with make_client(rec, fake_time) as gh:
        with pytest.raises((ServerError, GitHubConnectionError)) as caught:
            await gh.create_pull("o", "r", title="t", head="ghw/issue-1", base="main", body="b")
    assert caught.value.transient
    assert len(rec.requests) == 1


async def test_post_that_never_connected_is_retried(fake_time: FakeTime) -> None:
    pr = {"number": 5, "title": "t", "state": "open", "head": {"ref": "ghw/issue-1"}}
    rec = Recorder(fake_time, httpx.ConnectError("Connection refused"), ok(pr, 201))
    async with make_client(rec, fake_time) as gh:
        got = await gh.create_pull("o", "r", title="t", head="ghw/issue-1", base="main", body="b")
    assert got.number == 5 and not got.existing and len(rec.requests) == 2


async def test_retry_unsafe_opt_in_retries_a_post(fake_time: FakeTime) -> None:
    rec = Recorder(fake_time, httpx.Response(502, json={"message": "x"}), ok({}, 200))
    async with make_client(rec, fake_time) as gh:
        await gh.request("POST", "/markdown", json={"text": "x"}, retry_unsafe=True)
    assert len(rec.requests) == 2


# -- write spacing -------------------------------------------------------------------------------


async def test_write_interval_spaces_mutating_requests(fake_time: FakeTime) -> None:
    rec = Recorder(fake_time, ok({"id": 1, "body": "x"}, 201))
    async with make_client(rec, fake_time, write_interval=1.0) as gh:
        for _ in range(3):
            await gh.create_issue_comment("o", "r", 1, "x")
        await gh.request("GET", "/x")  # reads are not spaced
    assert fake_time.sleeps == [1.0, 1.0]
    assert [b - a for a, b in zip(rec.sent_at[:2], rec.sent_at[1:3], strict=True)] == [1.0, 1.0]


async def test_parallel_writes_are_spaced_too(fake_time: FakeTime) -> None:
    import asyncio

    rec = Recorder(fake_time, ok({"id": 1, "body": "x"}, 201))
    async with make_client(rec, fake_time, write_interval=1.0) as gh:
        await asyncio.gather(*(gh.create_issue_comment("o", "r", n, "x") for n in (1, 2, 3)))
    times = sorted(rec.sent_at)
    assert [b - a for a, b in itertools.pairwise(times)] == [1.0, 1.0]


async def test_write_interval_zero_does_not_wait(fake_time: FakeTime) -> None:
    rec = Recorder(fake_time, ok({"id": 1, "body": "x"}, 201))
    async with make_client(rec, fake_time, write_interval=0) as gh:
        for _ in range(3):
            await gh.create_issue_comment("o", "r", 1, "x")
    assert fake_time.sleeps == []


# -- endpoints -----------------------------------------------------------------------------------

DUPLICATE_422 = {
    "message": "Validation Failed",
    "errors": [
        {
            "resource": "PullRequest",
            "code": "custom",
            "message": "A pull request already exists for octo:ghw/issue-7.",
        }
    ],
    "documentation_url": "https://docs.github.com/rest/pulls/pulls#create-a-pull-request",
    "status": "422",
}


def simple_pr(number: int, ref: str, owner: str = "octo") -> dict[str, Any]:
    return {
        "number": number,
        "title": "Fix (#7)",
        "state": "open",
        "head": {"ref": ref, "label": f"{owner}:{ref}", "repo": {"owner": {"login": owner}}},
        "base": {"ref": "main"},
        "merged_at": None,
        "html_url": f"https://github.com/octo/r/pull/{number}",
    }


async def test_duplicate_pr_resolves_to_the_existing_one(fake_time: FakeTime) -> None:
    rec = Recorder(
        fake_time,
        ok(DUPLICATE_422, 422),
        ok([simple_pr(9, "ghw/issue-70"), simple_pr(8, "ghw/issue-7")]),
    )
    async with make_client(rec, fake_time, write_interval=0) as gh:
        pr = await gh.create_pull(
            "octo", "r", title="Fix (#7)", head="ghw/issue-7", base="main", body="Fixes #7"
        )
    assert pr.number == 8 and pr.existing and pr.head_ref == "ghw/issue-7"
    lookup = rec.requests[1]
    assert lookup.method == "GET" and lookup.url.path == "/repos/octo/r/pulls"
    assert dict(lookup.url.params) == {
        "head": "octo:ghw/issue-7",
        "state": "open",
        "per_page": "100",
    }
    assert json.loads(rec.requests[0].content) == {
        "title": "Fix (#7)",
        "head": "ghw/issue-7",
        "base": "main",
        "body": "Fixes #7",
    }


async def test_duplicate_pr_from_a_fork_looks_up_the_fork_owner(fake_time: FakeTime) -> None:
    rec = Recorder(fake_time, ok(DUPLICATE_422, 422), ok([simple_pr(3, "feat", owner="fork")]))
    async with make_client(rec, fake_time, write_interval=0) as gh:
        pr = await gh.create_pull("octo", "r", title="t", head="fork:feat", base="main", body="")
    assert pr.number == 3 and pr.existing
    assert rec.requests[1].url.params["head"] == "fork:feat"


async def test_other_422_is_raised(fake_time: FakeTime) -> None:
    body = {
        "message": "Validation Failed",
        "errors": [{"resource": "PullRequest", "code": "custom", "message": "No commits between"}],
        "documentation_url": "https://docs.github.com/rest",
    }
    rec = Recorder(fake_time, ok(body, 422))
    async with make_client(rec, fake_time, write_interval=0) as gh:
        with pytest.raises(ValidationFailedError, match="No commits between") as caught:
            await gh.create_pull("o", "r", title="t", head="b", base="main", body="")
    assert caught.value.errors[0]["code"] == "custom" and not caught.value.transient
    assert len(rec.requests) == 1


async def test_draft_is_sent_when_asked(fake_time: FakeTime) -> None:
    rec = Recorder(fake_time, ok(simple_pr(1, "b") | {"draft": True}, 201))
    async with make_client(rec, fake_time, write_interval=0) as gh:
        pr = await gh.create_pull("o", "r", title="t", head="b", base="main", body="", draft=True)
    assert json.loads(rec.requests[0].content)["draft"] is True and pr.draft


async def test_list_owner_repos_falls_back_to_users(fake_time: FakeTime) -> None:
    rec = Recorder(
        fake_time,
        ok({"message": "Not Found"}, 404),
        ok([{"id": 1, "name": "a", "full_name": "me/a", "owner": {"login": "me"}}]),
    )
    async with make_client(rec, fake_time) as gh:
        repos = await gh.list_owner_repos("me")
    assert [r.full_name for r in repos] == ["me/a"]
    assert [r.url.path for r in rec.requests] == ["/orgs/me/repos", "/users/me/repos"]


async def test_comment_marker_prevents_a_second_post(fake_time: FakeTime) -> None:
    marker = "<!-- ghw:key=review-7-1 -->"
    rec = Recorder(
        fake_time,
        ok([{"id": 1, "body": "unrelated"}, {"id": 2, "body": f"Review\n\n{marker}"}]),
    )
    async with make_client(rec, fake_time) as gh:
        comment, created = await gh.create_comment_once("o", "r", 7, "Review", marker)
    assert (comment.id, created) == (2, False)
    assert [r.method for r in rec.requests] == ["GET"]


async def test_comment_once_posts_with_the_marker(fake_time: FakeTime) -> None:
    marker = "<!-- ghw:key=k -->"
    rec = Recorder(fake_time, ok([]), ok({"id": 3, "body": f"Hello\n\n{marker}"}, 201))
    async with make_client(rec, fake_time, write_interval=0) as gh:
        comment, created = await gh.create_comment_once("o", "r", 7, "Hello", marker)
    assert created and comment.id == 3
    assert json.loads(rec.requests[1].content) == {"body": f"Hello\n\n{marker}"}


async def test_get_pull_diff_asks_for_the_diff_media_type(fake_time: FakeTime) -> None:
    diff = "diff --git a/x b/x\n+hello\n"
    rec = Recorder(
        fake_time,
        httpx.Response(200, text=diff, headers={"content-type": "text/plain; charset=utf-8"}),
    )
    async with make_client(rec, fake_time) as gh:
        assert await gh.get_pull_diff("o", "r", 3) == diff
    assert rec.requests[0].headers["accept"] == "application/vnd.github.diff"


async def test_get_issue_and_get_pull_are_typed(fake_time: FakeTime) -> None:
    rec = Recorder(
        fake_time,
        ok(issue(4, labels=[{"name": "bug"}, "plain"], user={"login": "ann"})),
        ok(simple_pr(5, "ghw/issue-4") | {"merged": True, "merged_at": "2024-01-01T00:00:00Z"}),
    )
    async with make_client(rec, fake_time) as gh:
        got = await gh.get_issue("o", "r", 4)
        pr = await gh.get_pull("o", "r", 5)
    assert got.labels == ("bug", "plain") and got.user_login == "ann" and got.raw["number"] == 4
    assert pr.merged and pr.head_owner == "octo" and pr.base_ref == "main"


# -- errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error", "transient"),
    [
        (401, UnauthorizedError, False),
        (404, NotFoundError, False),
        (422, ValidationFailedError, False),
    ],
)
async def test_status_maps_to_typed_error(
    fake_time: FakeTime, status: int, error: type[Exception], transient: bool
) -> None:
    rec = Recorder(fake_time, ok({"message": "Nope", "documentation_url": "https://d"}, status))
    async with make_client(rec, fake_time) as gh:
        with pytest.raises(error) as caught:
            await gh.request("GET", "/repos/o/r")
    err = caught.value
    assert err.status == status and err.github_message == "Nope"  # type: ignore[attr-defined]
    assert err.transient is transient  # type: ignore[attr-defined]
    assert str(err) == f"GitHub {status} on GET /repos/o/r: Nope"
    assert len(rec.requests) == 1


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(200, text="{not json", headers={"content-type": "application/json"}),
        ok({"number": "one", "title": "t", "state": "open"}),
        ok(["not", "an", "object"]),
    ],
)
async def test_malformed_responses_raise(fake_time: FakeTime, answer: httpx.Response) -> None:
    async with make_client(Recorder(fake_time, answer), fake_time) as gh:
        with pytest.raises(MalformedResponseError):
            await gh.get_issue("o", "r", 1)


async def test_listing_that_is_not_an_array_is_malformed(fake_time: FakeTime) -> None:
    async with make_client(Recorder(fake_time, ok({"items": []})), fake_time) as gh:
        with pytest.raises(MalformedResponseError, match="JSON array"):
            await gh.iter_issues("o", "r")


async def test_caller_supplied_http_client_is_used_and_not_closed(fake_time: FakeTime) -> None:
    rec = Recorder(fake_time, ok({}))
    http = httpx.AsyncClient(transport=httpx.MockTransport(rec))
    async with GitHubClient(BASE, TOKEN, http=http, clock=fake_time.clock, sleep=fake_time.sleep):
        pass
    assert not http.is_closed
    await http.aclose()


async def test_without_a_token_no_authorization_is_sent(fake_time: FakeTime) -> None:
    rec = Recorder(fake_time, ok({}))
    async with GitHubClient(BASE, None, transport=httpx.MockTransport(rec)) as gh:
        await gh.request("GET", "/x")
    assert "authorization" not in rec.requests[0].headers


# -- reading ahead ------------------------------------------------------------------------------


def _three_pages(fake_time: FakeTime, last: httpx.Response | Exception | None = None) -> Recorder:
    p2, p3 = f"{BASE}/repositories/1/issues?page=2", f"{BASE}/repositories/1/issues?page=3"
    return Recorder(
        fake_time,
        ok([issue(3)], link=f'<{p2}>; rel="next"'),
        ok([issue(2)], link=f'<{p3}>; rel="next"'),
        last if last is not None else ok([issue(1)]),
    )


async def test_the_next_page_loads_while_the_caller_works_on_this_one(
    fake_time: FakeTime,
) -> None:
    import asyncio
    import contextlib

    rec = _three_pages(fake_time)
    seen: list[tuple[int, int]] = []  # (issue on the page handed over, requests sent by then)
    async with make_client(rec, fake_time) as gh:
        pages = gh.iter_issue_pages("o", "r")
        async with contextlib.aclosing(pages):
            async for page in pages:
                for _ in range(5):  # the caller's own awaits (a ledger write, say)
                    await asyncio.sleep(0)
                seen.append((page.items[0].number, len(rec.requests)))
    # page 1 is in hand when page 2 has already been asked for; the last page asks for nothing
    assert seen == [(3, 2), (2, 3), (1, 3)]


async def test_a_caller_that_stops_early_leaves_no_request_running(fake_time: FakeTime) -> None:
    import asyncio
    import contextlib

    rec = _three_pages(fake_time)
    async with make_client(rec, fake_time) as gh:
        pages = gh.iter_issue_pages("o", "r")
        async with contextlib.aclosing(pages):
            async for _page in pages:
                break
        assert asyncio.all_tasks() == {asyncio.current_task()}
    assert len(rec.requests) <= 2  # never page 3: nobody read page 2


async def test_a_failing_page_fails_after_the_pages_before_it(fake_time: FakeTime) -> None:
    import contextlib

    rec = _three_pages(fake_time, ok({"message": "Not Found"}, status=404))
    got: list[int] = []
    async with make_client(rec, fake_time) as gh:
        pages = gh.iter_issue_pages("o", "r")
        with pytest.raises(NotFoundError):
            async with contextlib.aclosing(pages):
                async for page in pages:
                    got.extend(i.number for i in page.items)
    assert got == [3, 2]
