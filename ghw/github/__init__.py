"""ghw's hand-written async GitHub REST client (§9 of the product contract; ADR 0030).

from ghw.github import GitHubClient, resolve_token
async with GitHubClient(api_url, resolve_token(token_env, os.environ)) as gh:
    listing = await gh.iter_issues("octo", "repo", since=cursor, etag=stored_etag)
"""

from __future__ import annotations

from ghw.github.auth import Token, resolve_token
from ghw.github.client import DIFF_ACCEPT, GitHubClient
from ghw.github.core import API_VERSION
from ghw.github.errors import (
    ForbiddenError,
    GitHubConnectionError,
    GitHubError,
    GitHubTimeoutError,
    MalformedResponseError,
    NotFoundError,
    RateLimitedError,
    RateLimitWaitTooLongError,
    ServerError,
    UnauthorizedError,
    ValidationFailedError,
)
from ghw.github.links import parse_link_header
from ghw.github.models import (
    CheckRun,
    CheckRunsListing,
    CombinedStatus,
    Comment,
    CommitStatus,
    Fetched,
    GitHubResponse,
    Issue,
    IssuesListing,
    Listing,
    PullRequest,
    RateLimitWait,
    Repository,
    Review,
    ReviewComment,
    User,
    is_bot_account,
)

__all__ = [
    "API_VERSION",
    "DIFF_ACCEPT",
    "CheckRun",
    "CheckRunsListing",
    "CombinedStatus",
    "Comment",
    "CommitStatus",
    "Fetched",
    "ForbiddenError",
    "GitHubClient",
    "GitHubConnectionError",
    "GitHubError",
    "GitHubResponse",
    "GitHubTimeoutError",
    "Issue",
    "IssuesListing",
    "Listing",
    "MalformedResponseError",
    "NotFoundError",
    "PullRequest",
    "RateLimitWait",
    "RateLimitWaitTooLongError",
    "RateLimitedError",
    "Repository",
    "Review",
    "ReviewComment",
    "ServerError",
    "Token",
    "UnauthorizedError",
    "User",
    "ValidationFailedError",
    "is_bot_account",
    "parse_link_header",
    "resolve_token",
]
