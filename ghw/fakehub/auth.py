"""Credentials as GitHub accepts them, minus the checking: any non-empty token is good.

``Authorization: Bearer <t>``, ``token <t>``, or HTTP Basic with a non-empty password (git's way).
The token's value is never kept: only whether there was one, and a Basic username.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

__all__ = ["Credentials", "token_from_header"]


@dataclass(frozen=True, slots=True)
class Credentials:
    scheme: str
    login: str | None = None


def token_from_header(value: str | None) -> Credentials | None:
    """The credentials in an Authorization header, or None when absent or empty."""
    if not value:
        return None
    scheme, _, rest = value.strip().partition(" ")
    scheme_l = scheme.lower()
    rest = rest.strip()
    if scheme_l in {"bearer", "token"}:
        return Credentials(scheme_l) if rest else None
    if scheme_l == "basic":
        try:
            decoded = base64.b64decode(rest, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        user, sep, password = decoded.partition(":")
        if not sep or not password:
            return None
        return Credentials("basic", user or None)
    return None
