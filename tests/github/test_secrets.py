"""The token never shows: not in a repr/str of the client, a response, a Token, an exception (nor
its cause chain), nor in a log record. And resolve_token picks the first non-empty variable."""

from __future__ import annotations

import pickle
import random
import traceback
from typing import Any

import httpx
import pytest
import structlog

from ghw.github import GitHubClient, GitHubError, Token, resolve_token

from .conftest import TOKEN, FakeTime
from .test_client import Recorder, ok


def test_resolve_token_takes_the_first_non_empty() -> None:
    env = {"GITHUB_TOKEN": "  ", "GH_TOKEN": "abc\n", "OTHER": "zzz"}
    assert resolve_token(["GITHUB_TOKEN", "GH_TOKEN", "OTHER"], env) == "abc"
    assert resolve_token(["OTHER", "GH_TOKEN"], env) == "zzz"
    assert resolve_token(["MISSING"], env) is None
    assert resolve_token([], env) is None


def test_token_wrapper_hides_its_value() -> None:
    token = Token(TOKEN)
    assert TOKEN not in repr(token) and TOKEN not in str(token) and TOKEN not in f"{token}"
    assert TOKEN not in f"{token!r} {token:>10}" and TOKEN not in repr([token])
    assert token.reveal() == TOKEN and token == Token(TOKEN)
    with pytest.raises(TypeError):
        pickle.dumps(token)
    with pytest.raises(ValueError):
        Token("  ")


def _texts(exc: BaseException) -> list[str]:
    """Everything an exception could print: str, repr, args, attributes, traceback, causes."""
    out: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        out += [str(current), repr(current), repr(current.args), repr(vars(current))]
        out.append("".join(traceback.format_exception(current)))
        current = current.__cause__ or current.__context__
    return out


ANSWERS: list[Any] = [
    httpx.Response(401, json={"message": "Bad credentials"}),
    httpx.Response(404, json={"message": "Not Found"}),
    httpx.Response(422, json={"message": "Validation Failed", "errors": [{"code": "invalid"}]}),
    httpx.Response(500, json={"message": "Server Error"}),
    httpx.Response(
        403,
        json={"message": "limit"},
        headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": "9999999999"},
    ),
    httpx.Response(200, text="{broken", headers={"content-type": "application/json"}),
    httpx.ConnectError("Connection refused"),
    httpx.ReadTimeout("timed out"),
]


@pytest.mark.parametrize("answer", ANSWERS, ids=lambda a: repr(a)[:30])
async def test_token_never_in_errors_reprs_or_logs(fake_time: FakeTime, answer: Any) -> None:
    rec = Recorder(fake_time, answer)
    with structlog.testing.capture_logs() as logs:
        async with GitHubClient(
            "https://api.github.com",
            TOKEN,
            transport=httpx.MockTransport(rec),
            clock=fake_time.clock,
            sleep=fake_time.sleep,
            rng=random.Random(1),
            max_retries=1,
        ) as gh:
            texts = [repr(gh), str(gh)]
            with pytest.raises(GitHubError) as caught:
                await gh.get_issue("o", "r", 1)
            texts += _texts(caught.value)
    texts += [repr(r) for r in rec.requests] + [repr(r.headers) for r in rec.requests]
    texts += [repr(entry) for entry in logs]
    assert rec.requests[0].headers["authorization"] == f"Bearer {TOKEN}"  # it was used...
    leaked = [t for t in texts if TOKEN in t]
    assert leaked == []  # ...and shown nowhere


async def test_token_not_in_a_response_repr(fake_time: FakeTime) -> None:
    rec = Recorder(fake_time, ok({"number": 1, "title": "t", "state": "open"}))
    async with GitHubClient(
        "https://api.github.com", TOKEN, transport=httpx.MockTransport(rec)
    ) as gh:
        resp = await gh.request("GET", "/repos/o/r/issues/1")
        issue = await gh.get_issue("o", "r", 1)
    assert TOKEN not in repr(resp) and TOKEN not in str(resp) and TOKEN not in repr(issue)
    assert TOKEN not in repr(vars(gh))
