"""Request/response values, routing and Link pagination shared by the API and control routes.

Kept free of sockets so handlers are plain functions ``(ctx, request) -> Response``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import parse_qsl, unquote, urlencode

from ghw.fakehub.errors import ApiError
from ghw.fakehub.render import dumps

__all__ = [
    "Handler",
    "Request",
    "Response",
    "Router",
    "json_response",
    "page_args",
    "paginate",
]

_T = TypeVar("_T")


@dataclass(slots=True)
class Request:
    method: str
    path: str
    raw_query: str
    headers: Mapping[str, str]
    body: bytes = b""
    params: dict[str, str] = field(default_factory=dict)

    @property
    def query(self) -> list[tuple[str, str]]:
        return parse_qsl(self.raw_query, keep_blank_values=True)

    def arg(self, name: str, default: str | None = None) -> str | None:
        for key, value in self.query:
            if key == name:
                return value
        return default

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    def json(self) -> Any:
        """The body as JSON; GitHub answers 400 "Problems parsing JSON" otherwise."""
        if not self.body:
            return {}
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ApiError(400, "Problems parsing JSON") from exc

    def json_object(self) -> dict[str, Any]:
        data = self.json()
        if not isinstance(data, dict):
            raise ApiError(400, "Problems parsing JSON")
        return data


@dataclass(slots=True)
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json; charset=utf-8"
    media_type: str = "github.v3; format=json"


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(status=status, body=dumps(data), headers=dict(headers or {}))


Handler = Callable[[Any, Request], Response]


class Router:
    """Method + path-template routing: ``/repos/{owner}/{repo}/issues/{number:int}``."""

    def __init__(self) -> None:
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []

    def add(self, method: str, template: str, handler: Handler) -> None:
        def repl(match: re.Match[str]) -> str:
            name, _, kind = match.group(1).partition(":")
            pattern = r"\d+" if kind == "int" else r"[^/]+"
            return f"(?P<{name}>{pattern})"

        regex = re.compile("^" + re.sub(r"\{([^}]+)\}", repl, template) + "/?$")
        self._routes.append((method, regex, handler))

    def route(self, method: str, path: str) -> tuple[Handler, dict[str, str]] | None:
        """The handler and path parameters; None for an unknown path or method (GitHub: 404)."""
        lookup = "GET" if method == "HEAD" else method
        for route_method, regex, handler in self._routes:
            match = regex.match(path)
            if match and route_method == lookup:
                return handler, {k: unquote(v) for k, v in match.groupdict().items()}
        return None


def page_args(req: Request, default: int = 30) -> tuple[int, int]:
    """(per_page, page): per_page defaults to 30 and is capped at 100; page starts at 1."""
    try:
        per_page = int(req.arg("per_page") or default)
    except ValueError:
        per_page = default
    if per_page < 1:
        per_page = default
    per_page = min(per_page, 100)
    try:
        page = int(req.arg("page") or 1)
    except ValueError:
        page = 1
    return per_page, max(page, 1)


def _page_url(base: str, req: Request, page: int) -> str:
    pairs = [(k, v) for k, v in req.query if k != "page"]
    pairs.append(("page", str(page)))
    return f"{base}{req.path}?{urlencode(pairs, safe=':,/')}"


def paginate(base_url: str, req: Request, items: Sequence[_T]) -> tuple[Sequence[_T], str | None]:
    """The page of ``items`` the request asks for, and GitHub's ``Link`` header for it.

    Links are absolute, keep every other query parameter, and come in GitHub's order
    (prev, next, last, first); a single page has no Link header.
    """
    per_page, page = page_args(req)
    total = len(items)
    last = max(1, -(-total // per_page))
    chunk = items[(page - 1) * per_page : page * per_page]
    rels: list[tuple[int, str]] = []
    if page > 1:
        rels.append((min(page - 1, last), "prev"))
    if page < last:
        rels.append((page + 1, "next"))
        rels.append((last, "last"))
    if page > 1:
        rels.append((1, "first"))
    if not rels:
        return chunk, None
    link = ", ".join(f'<{_page_url(base_url, req, n)}>; rel="{rel}"' for n, rel in rels)
    return chunk, link
