"""Pure rate-limit and back-off rules."""

from __future__ import annotations

import random

import httpx
import pytest

from ghw.github.policy import (
    backoff_delay,
    classify_rate_limit,
    parse_reset,
    parse_retry_after,
    reached_server,
)

NOW = 1_700_000_000.0


def test_parse_reset_seconds_milliseconds_and_junk() -> None:
    assert parse_reset("1700000100") == 1700000100
    assert parse_reset("1507651200000") == 1507651200  # normalised fixtures use milliseconds
    assert parse_reset(None) is None and parse_reset("soon") is None and parse_reset("-5") is None


def test_parse_retry_after_seconds_and_http_date() -> None:
    assert parse_retry_after("30", NOW) == 30
    assert parse_retry_after("-3", NOW) == 0
    assert parse_retry_after("Tue, 14 Nov 2023 22:15:00 GMT", NOW) == pytest.approx(100)
    assert parse_retry_after("", NOW) is None and parse_retry_after("x", NOW) is None


def test_classification_order() -> None:
    h = {"retry-after": "5", "x-ratelimit-remaining": "0", "x-ratelimit-reset": str(NOW + 500)}
    assert classify_rate_limit(403, h, "", NOW, 0).kind == "secondary"  # type: ignore[union-attr]
    primary = classify_rate_limit(429, {"x-ratelimit-remaining": "0"}, "", NOW, 0)
    assert primary is not None and primary.kind == "primary" and primary.until == NOW + 60
    past = classify_rate_limit(
        403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(NOW - 50)}, "", NOW, 0
    )
    assert past is not None and past.until == NOW + 1  # never spin against GitHub
    second = classify_rate_limit(403, {}, "You have exceeded a secondary rate limit", NOW, 2)
    assert second is not None and second.until == NOW + 240  # doubles on each repeat
    assert classify_rate_limit(403, {}, "Must have admin rights", NOW, 0) is None
    assert classify_rate_limit(500, {"retry-after": "1"}, "", NOW, 0) is None


def test_backoff_grows_with_jitter_and_cap() -> None:
    rng = random.Random(3)
    for attempt, (low, high) in enumerate([(0.5, 1), (1, 2), (2, 4), (4, 8)], start=1):
        assert low <= backoff_delay(attempt, rng) <= high
    assert backoff_delay(30, rng) <= 30


def test_reached_server() -> None:
    assert not reached_server(httpx.ConnectError("refused"))
    assert not reached_server(httpx.ConnectTimeout("slow"))
    assert reached_server(httpx.ReadError("reset"))
    assert reached_server(httpx.ReadTimeout("slow"))
    assert reached_server(httpx.RemoteProtocolError("eof"))
