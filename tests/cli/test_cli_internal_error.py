"""A bug reaching the command line prints a plain traceback, scrubbed of secrets, exit 1."""

from __future__ import annotations

import io

import pytest

from ghw.cli import main as cli_main
from ghw.cli.context import AppContext

TOKEN = "ghp_INTERNALerror0123456789abcdef"


def test_an_unexpected_exception_is_reported_without_secrets(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    def broken(*_a, **_k):  # type: ignore[no-untyped-def]
        raise RuntimeError(f"boom with {TOKEN} inside")

    monkeypatch.setattr(cli_main, "parse_issue_ref", broken)
    out, err = io.StringIO(), io.StringIO()
    env = {"HOME": str(tmp_path), "GITHUB_TOKEN": TOKEN}
    code = cli_main.main(
        ["history", "o/r#1"], context=AppContext(environ=env, stdout=out, stderr=err)
    )
    assert code == 1
    text = err.getvalue()
    assert "internal error" in text and "RuntimeError" in text and "Traceback" in text
    assert TOKEN not in text and "***" in text
