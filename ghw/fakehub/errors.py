"""Errors fakehub answers with GitHub's JSON error shapes.

Handlers raise :class:`ApiError`; the server renders it as GitHub does::

    {"message": "Validation Failed", "errors": [...], "documentation_url": "...", "status": "422"}
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "DOCS",
    "ApiError",
    "not_found",
    "validation_failed",
]

DOCS = "https://docs.github.com/rest"


class ApiError(Exception):
    """An HTTP error response with GitHub's body shape."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        errors: list[Any] | None = None,
        documentation_url: str = DOCS,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors
        self.documentation_url = documentation_url
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        data: dict[str, Any] = {"message": self.message}
        if self.errors is not None:
            data["errors"] = self.errors
        data["documentation_url"] = self.documentation_url
        data["status"] = str(self.status)
        return data


def not_found(documentation_url: str = DOCS) -> ApiError:
    return ApiError(404, "Not Found", documentation_url=documentation_url)


def validation_failed(*errors: dict[str, Any], documentation_url: str = DOCS) -> ApiError:
    return ApiError(
        422, "Validation Failed", errors=list(errors), documentation_url=documentation_url
    )
