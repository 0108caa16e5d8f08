"""Which values are secrets, and how text is scrubbed of them (logs, errors, stored failures).

The GitHub token, model API keys, database passwords and webhook or serve secrets must never be
logged, stored or shown. They reach ghw as environment variables, so the secrets are the values
of the variables ghw is told hold one (``github.token_env``) plus every variable whose *name*
says it holds one (``…TOKEN``, ``…API_KEY``, ``…SECRET``, ``…PASSWORD``, …): a new model key
is covered without anyone listing it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "MASK",
    "MIN_SECRET_LEN",
    "SECRET_NAME",
    "Redactor",
    "secret_values",
]

# A variable whose name matches is treated as a secret (GITHUB_TOKEN, ANTHROPIC_API_KEY,
# OPENAI_API_KEY, PGPASSWORD, GHW_WEBHOOKS_SECRET, AWS_SECRET_ACCESS_KEY, …).
SECRET_NAME = re.compile(
    r"(TOKEN|SECRET|PASSWORD|PASSWD|API_?KEY|ACCESS_KEY|PRIVATE_KEY|CREDENTIAL|AUTH)",
    re.IGNORECASE,
)
# Shorter values would redact ordinary words and cannot be real secrets.
MIN_SECRET_LEN = 8
MASK = "***"


def secret_values(
    environ: Mapping[str, str], names: Iterable[str] = (), extra: Iterable[str] = ()
) -> tuple[str, ...]:
    """The secret values in ``environ`` (by ``names`` or by a secret-like name), plus ``extra``;
    longest first, so a secret that contains another is masked whole."""
    wanted = set(names)
    found = {
        value
        for key, value in environ.items()
        if (key in wanted or SECRET_NAME.search(key)) and len(value) >= MIN_SECRET_LEN
    }
    found.update(s for s in extra if s and len(s) >= MIN_SECRET_LEN)
    return tuple(sorted(found, key=lambda s: (-len(s), s)))


class Redactor:
    """Replaces every secret value with ``***`` in text and in nested data."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self.secrets = tuple(sorted({s for s in secrets if s}, key=lambda s: (-len(s), s)))

    def __bool__(self) -> bool:
        return bool(self.secrets)

    def text(self, value: str) -> str:
        for secret in self.secrets:
            if secret in value:
                value = value.replace(secret, MASK)
        return value

    def data(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {k: self.data(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return type(value)(self.data(v) for v in value)
        if isinstance(value, BaseException):
            return self.text(str(value))
        return value
