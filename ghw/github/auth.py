"""Where the token comes from, and a wrapper that keeps it out of logs, reprs and tracebacks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

__all__ = ["Token", "resolve_token"]


def resolve_token(token_env: Sequence[str], environ: Mapping[str, str]) -> str | None:
    """The value of the first variable in ``token_env`` that is set and not blank, else None.

    ``github.token_env`` defaults to ``[GITHUB_TOKEN, GH_TOKEN]``; an empty ``GITHUB_TOKEN`` (as
    some CI systems export) must not hide a real ``GH_TOKEN``. Surrounding whitespace (a trailing
    newline from ``$(cat file)``) is stripped because GitHub would refuse it.
    """
    for name in token_env:
        value = environ.get(name, "").strip()
        if value:
            return value
    return None


class Token:
    """A secret string that never shows itself by accident.

    ``str``/``repr``/f-strings give ``Token('***')``; only :meth:`reveal` returns the value, so
    every place that uses the secret is explicit and greppable. Not picklable on purpose.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str) or not value.strip():
            raise ValueError("a token must be a non-empty string")
        self._value = value.strip()

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Token('***')"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Token) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Token", self._value))

    def __reduce__(self) -> str | tuple[object, ...]:
        raise TypeError("Token is not picklable: secrets are never stored")
