"""Pure decisions of the client: rate-limit classification, back-off, what may be retried.

Kept free of I/O so that each rule is tested on its own and documented in one place (ADR 0030).
GitHub's documented handling of a 403/429 (docs "Rate limits for the REST API"):

* ``Retry-After`` present → wait that many seconds (secondary limit);
* else ``X-RateLimit-Remaining: 0`` → wait until ``X-RateLimit-Reset`` (primary limit);
* else the message names a secondary rate limit (or the status is 429) → wait at least a minute,
  longer on each repeat;
* anything else is an ordinary 403 (a permission problem) and is not retried.
"""

from __future__ import annotations

import email.utils
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

__all__ = [
    "MUTATING_METHODS",
    "PRIMARY_MARGIN",
    "SECONDARY_FALLBACK_WAIT",
    "RateLimitDecision",
    "backoff_delay",
    "classify_rate_limit",
    "parse_reset",
    "parse_retry_after",
    "reached_server",
]

MUTATING_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})

# octokit's plugin-throttling detects secondary limits with the same pattern.
_SECONDARY_RE = re.compile(r"\bsecondary rate\b", re.IGNORECASE)
# A reset this large cannot be epoch seconds (it is the year 5138): it is milliseconds, as in
# @octokit/fixtures' normalised recordings (1507651200000).
_MILLISECONDS_THRESHOLD = 1e11
SECONDARY_FALLBACK_WAIT = 60.0
PRIMARY_MARGIN = 1.0  # GitHub's reset second may not have ticked over yet on its side


@dataclass(frozen=True)
class RateLimitDecision:
    kind: str  # "primary" or "secondary"
    until: float  # epoch seconds to wait until
    reset: float | None  # X-RateLimit-Reset as epoch seconds, when sent
    retry_after: float | None  # Retry-After in seconds, when sent


def parse_reset(value: str | None) -> float | None:
    """``X-RateLimit-Reset`` as epoch seconds; milliseconds are recognised and converted."""
    if value is None:
        return None
    try:
        reset = float(value.strip())
    except ValueError:
        return None
    if reset != reset or reset < 0:  # NaN or negative: meaningless
        return None
    if reset >= _MILLISECONDS_THRESHOLD:
        reset /= 1000.0
    return reset


def parse_retry_after(value: str | None, now: float) -> float | None:
    """``Retry-After`` in seconds (delta-seconds or an HTTP-date), never negative."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - now
    if seconds != seconds:
        return None
    return max(0.0, seconds)


def classify_rate_limit(
    status: int, headers: Mapping[str, str], message: str, now: float, repeat: int
) -> RateLimitDecision | None:
    """How long to wait before retrying a 403/429, or None when it is not a rate limit.

    ``repeat`` counts earlier rate-limit waits for this request (0 on the first), so the fallback
    secondary wait doubles on each repeat as GitHub asks.
    """
    if status not in (403, 429):
        return None
    retry_after = parse_retry_after(headers.get("retry-after"), now)
    reset = parse_reset(headers.get("x-ratelimit-reset"))
    if retry_after is not None:
        return RateLimitDecision("secondary", now + retry_after, reset, retry_after)
    if (headers.get("x-ratelimit-remaining") or "").strip() == "0":
        if reset is None:
            until = now + SECONDARY_FALLBACK_WAIT
        else:
            # A reset already past (clock skew, or a limit that just lifted) still gets the margin,
            # so we never spin against GitHub.
            until = max(reset + PRIMARY_MARGIN, now + PRIMARY_MARGIN)
        return RateLimitDecision("primary", until, reset, None)
    if status == 429 or _SECONDARY_RE.search(message or ""):
        wait = SECONDARY_FALLBACK_WAIT * (2**repeat)
        return RateLimitDecision("secondary", now + wait, reset, None)
    return None


def backoff_delay(
    attempt: int, rng: random.Random, *, base: float = 1.0, cap: float = 30.0
) -> float:
    """Seconds to wait before retry number ``attempt`` (1-based): "equal jitter" exponential.

    Half of the exponential step is fixed (so retries really back off), half is random (so many
    clients hit by the same outage do not retry in lock-step).
    """
    step = min(cap, base * (2 ** max(0, attempt - 1)))
    return step / 2 + rng.uniform(0, step / 2)


def reached_server(exc: httpx.TransportError) -> bool:
    """Whether the request may have reached GitHub before ``exc`` happened.

    Only a failure to connect proves it did not; after the connection was made, a reset or a read
    timeout can come after GitHub processed the request.
    """
    return not isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
