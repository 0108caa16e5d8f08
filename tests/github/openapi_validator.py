"""Validate HTTP exchanges against GitHub's own OpenAPI description (reusable test helper).

Usage (any test package may import it; the ``openapi_validator`` and ``contract`` fixtures in
``tests/github/conftest.py`` wrap it):

    outcome = validate_exchange(request, response)        # httpx.Request / httpx.Response
    # or, recording everything a client sends:
    validator = default_validator()                       # ~1 s, loaded once per process
    recorder = ExchangeRecorder(validator, exemptions=EXEMPTIONS)
    client = GitHubClient(base, token, transport=recorder.wrap(inner_transport))
    ... drive the client ...
    recorder.assert_all_valid()                           # every request and response checked

or one pair at a time: ``validator.validate_exchange(request, response)``.

What "valid" means: the request (path, query, body) must match the operation the description
declares for it; the response must match the declared status and media type. A response whose
status or media type the description does not declare for that operation (a 304 where none is
declared, an injected 429, the diff media type) is an error unless an explicit :class:`Exemption`
covers it: nothing is skipped silently.

Two fixes make GitHub's description usable on real traffic (see the research notes in
shared/reference/github-api.md §2.3): ``nullable: true`` enums gain ``null`` (OAS 3.0 ambiguity,
71 places such as ``issue.state_reason``), and GitHub's pagination URLs ``/repositories/{id}/…``,
which the description lacks, are mapped to ``/repos/_/_/…``.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from openapi_core import Config, OpenAPI
from openapi_core.testing import MockRequest, MockResponse
from openapi_core.validation.response.exceptions import InvalidData

__all__ = [
    "Exchange",
    "ExchangeRecorder",
    "ExchangeValidator",
    "Exemption",
    "UndeclaredExchangeError",
    "default_validator",
    "patch_nullable_enums",
    "validate_exchange",
]

HOST_URL = "https://api.github.com"
# Path prefixes in front of the API's own paths: fixtures-server's `/api.github.com/<id>` and a
# GitHub Enterprise Server's `/api/v3`.
_PREFIXES = (re.compile(r"^/api\.github\.com/[A-Za-z0-9]+(?=/)"), re.compile(r"^/api/v3(?=/)"))
_REPOSITORIES_BY_ID = re.compile(r"^/repositories/\d+(?=/|$)")


class UndeclaredExchangeError(AssertionError):
    """The description declares no such status or media type for the operation, and no exemption
    covers it."""


@dataclass(frozen=True)
class Exemption:
    """An explicitly accepted undeclared response: why, and which exchanges it covers."""

    reason: str
    applies: Callable[[httpx.Request, httpx.Response], bool]


@dataclass
class Exchange:
    request: httpx.Request
    response: httpx.Response
    outcome: str = ""  # "validated" or "exempt: <reason>", set when validated


def patch_nullable_enums(node: Any) -> None:
    """Add ``None`` to every enum of a ``nullable: true`` schema (in place)."""
    if isinstance(node, dict):
        if node.get("nullable") and "enum" in node and None not in node["enum"]:
            node["enum"] = [*node["enum"], None]
        for value in node.values():
            patch_nullable_enums(value)
    elif isinstance(node, list):
        for value in node:
            patch_nullable_enums(value)


def api_path(url: httpx.URL, prefix: str = "") -> str:
    """The description's path for a request URL: base prefix stripped, ``/repositories/{id}``
    mapped to ``/repos/_/_``."""
    path = url.path
    if prefix and path.startswith(prefix.rstrip("/") + "/"):
        path = path[len(prefix.rstrip("/")) :]
    for pattern in _PREFIXES:
        path = pattern.sub("", path, count=1)
    return _REPOSITORIES_BY_ID.sub("/repos/_/_", path, count=1)


_REQUIRED_RE = re.compile(r"^'([^']+)' is a required property$")


def _only_missing_required(exc: InvalidData) -> set[str]:
    """The missing required fields, if those are the response's only schema errors; else {}."""
    cause = exc.__cause__
    errors = list(getattr(cause, "schema_errors", ()) or ())
    names = set()
    for err in errors:
        match = _REQUIRED_RE.match(getattr(err, "message", ""))
        if match is None:
            return set()
        names.add(match.group(1))
    return names


def _media_type(value: str | None) -> str:
    return (value or "").split(";", 1)[0].strip().lower()


class ExchangeValidator:
    """GitHub's description, patched and loaded once; validates request/response pairs."""

    def __init__(self, spec: dict[str, Any]) -> None:
        patch_nullable_enums(spec)
        self.spec = spec
        # spec_validator_cls=None: validating the 13 MB description itself takes ~40 s.
        self.api = OpenAPI.from_dict(spec, config=Config(spec_validator_cls=None))
        self._templates = [
            (re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(p)) + "$"), p)
            for p in spec["paths"]
        ]

    @classmethod
    def load(cls, path: Path) -> ExchangeValidator:
        return cls(json.loads(Path(path).read_text(encoding="utf-8")))

    # -- lookups -------------------------------------------------------------------------------

    def operation(self, method: str, path: str) -> tuple[str, dict[str, Any]] | None:
        """(path template, operation object) for a concrete path, preferring literal segments."""
        matches = [t for rx, t in self._templates if rx.match(path)]
        matches = [t for t in matches if method.lower() in self.spec["paths"][t]]
        if not matches:
            return None
        best = min(matches, key=lambda t: t.count("{"))
        return best, self.spec["paths"][best][method.lower()]

    def _deref(self, node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            target: Any = self.spec
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            node = target
        return node

    def declared(self, method: str, path: str, status: int, media_type: str) -> bool:
        """Whether the description declares this status (and, with a body, this media type)."""
        found = self.operation(method, path)
        if found is None:
            return False
        responses = found[1].get("responses", {})
        spec = responses.get(str(status)) or responses.get(f"{status // 100}XX")
        if spec is None:
            return False
        content = self._deref(spec).get("content")
        if not content or not media_type:
            return not content or not media_type
        return media_type in content

    def example(self, method: str, template: str, status: int) -> Any:
        """GitHub's own example body for an operation's response (``components/examples``)."""
        op = self.spec["paths"][template][method.lower()]
        content = self._deref(op["responses"][str(status)])["content"]["application/json"]
        examples = content.get("examples") or {}
        value = self._deref(next(iter(examples.values())))["value"]
        # Some examples are written {"value": {"$ref": "#/components/examples/x"}}: follow it.
        while isinstance(value, dict) and set(value) == {"$ref"}:
            value = self._deref(value)["value"]
        return json.loads(json.dumps(value))  # a private deep copy

    # -- validation ----------------------------------------------------------------------------

    @staticmethod
    def _mock_request(request: httpx.Request, prefix: str) -> MockRequest:
        return MockRequest(
            HOST_URL,
            request.method.lower(),
            api_path(request.url, prefix),
            args=dict(request.url.params.multi_items()),
            headers=dict(request.headers),
            data=request.content or None,
            content_type=_media_type(request.headers.get("content-type")) or "application/json",
        )

    def validate_request(self, request: httpx.Request, *, prefix: str = "") -> None:
        """Raises openapi-core's validation error when the request breaks the description."""
        self.api.validate_request(self._mock_request(request, prefix))

    def validate_exchange(
        self,
        request: httpx.Request,
        response: httpx.Response,
        *,
        exemptions: Iterable[Exemption] = (),
        prefix: str = "",
        tolerated_missing: Mapping[str, str] | None = None,
    ) -> str:
        """Validate both halves; returns "validated", "exempt: …" or "tolerated drift: …".

        ``tolerated_missing`` maps required response fields that may be absent to the reason
        (recordings older than the description); only a failure made solely of such missing
        fields is tolerated, anything else still fails.
        """
        tolerated_missing = tolerated_missing or {}
        self.validate_request(request, prefix=prefix)
        path = api_path(request.url, prefix)
        body = response.content
        media = _media_type(response.headers.get("content-type")) if body else ""
        if not self.declared(request.method, path, response.status_code, media):
            for exemption in exemptions:
                if exemption.applies(request, response):
                    return f"exempt: {exemption.reason}"
            raise UndeclaredExchangeError(
                f"{request.method} {path} -> {response.status_code} {media or '(no body)'} is not "
                "declared by GitHub's description and no exemption covers it"
            )
        mock_req = self._mock_request(request, prefix)
        mock_resp = MockResponse(
            body,
            status_code=response.status_code,
            headers=dict(response.headers),
            content_type=media or "application/json",
        )
        try:
            self.api.validate_response(mock_req, mock_resp)
        except InvalidData as exc:
            missing = _only_missing_required(exc)
            if missing and missing <= set(tolerated_missing):
                reasons = "; ".join(f"{m}: {tolerated_missing[m]}" for m in sorted(missing))
                return f"tolerated drift: {reasons}"
            raise
        return "validated"


DEFAULT_SPEC = Path(__file__).resolve().parents[2] / ".tools" / "openapi" / "api.github.com.json"


@functools.cache
def default_validator() -> ExchangeValidator:
    """The validator for the repository's ``.tools/openapi/api.github.com.json``, loaded once per
    process (a cache, not state: it never changes after loading). Fails the test when missing."""
    if not DEFAULT_SPEC.exists():
        pytest.fail(
            f"GitHub's OpenAPI description is missing at {DEFAULT_SPEC}: run "
            "`bash scripts/install/github-tools.sh` (from the repository root) first",
            pytrace=False,
        )
    return ExchangeValidator.load(DEFAULT_SPEC)


def validate_exchange(
    request: httpx.Request,
    response: httpx.Response,
    *,
    exemptions: Iterable[Exemption] = (),
    tolerated_missing: Mapping[str, str] | None = None,
    validator: ExchangeValidator | None = None,
) -> str:
    """Validate one exchange against GitHub's description (see the module docstring).

    Returns "validated", "exempt: …" or "tolerated drift: …"; raises openapi-core's validation
    errors or :class:`UndeclaredExchangeError`. Other test packages (fakehub) call this directly.
    """
    return (validator or default_validator()).validate_exchange(
        request, response, exemptions=exemptions, tolerated_missing=tolerated_missing
    )


@dataclass
class ExchangeRecorder:
    """Records every exchange through a wrapped transport, for validation afterwards."""

    validator: ExchangeValidator
    exemptions: tuple[Exemption, ...] = ()
    tolerated_missing: Mapping[str, str] = field(default_factory=dict)
    exchanges: list[Exchange] = field(default_factory=list)

    def wrap(self, inner: httpx.AsyncBaseTransport) -> httpx.AsyncBaseTransport:
        return _RecordingTransport(inner, self.exchanges)

    def event_hooks(self) -> Mapping[str, list[Callable[..., Any]]]:
        """httpx event hooks that record, for a caller-built ``httpx.AsyncClient``."""

        async def on_response(response: httpx.Response) -> None:
            await response.aread()
            self.exchanges.append(Exchange(response.request, response))

        return {"response": [on_response]}

    def assert_all_valid(self, *, minimum: int = 1) -> list[str]:
        """Validate every recorded exchange; returns the outcomes in order."""
        assert len(self.exchanges) >= minimum, f"only {len(self.exchanges)} exchanges recorded"
        for ex in self.exchanges:
            if not ex.outcome:
                ex.outcome = self.validator.validate_exchange(
                    ex.request,
                    ex.response,
                    exemptions=self.exemptions,
                    tolerated_missing=self.tolerated_missing,
                )
        return [ex.outcome for ex in self.exchanges]


class _RecordingTransport(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport, sink: list[Exchange]) -> None:
        self._inner = inner
        self._sink = sink

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        # A redirected request (307) carries its body as a stream; read it so it can be checked.
        await request.aread()
        response = await self._inner.handle_async_request(request)
        body = await response.aread()
        await response.aclose()
        # A fresh response with the body in memory, so both the client and the recorder read it.
        copy = httpx.Response(
            response.status_code,
            headers=[(k, v) for k, v in response.headers.multi_items() if k != "content-encoding"],
            content=body,
            request=request,
            extensions={k: v for k, v in response.extensions.items() if k != "network_stream"},
        )
        self._sink.append(Exchange(request, copy))
        return copy

    async def aclose(self) -> None:
        await self._inner.aclose()
