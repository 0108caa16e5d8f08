"""Missing npm tools make the contract tests fail (never skip) with the command to run."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import INSTALL_HINT, require


def test_missing_tool_fails_with_the_install_command(tmp_path: Path) -> None:
    with pytest.raises(pytest.fail.Exception) as caught:
        require(tmp_path / "nope" / "api.github.com.json", "GitHub's OpenAPI description")
    assert "bash scripts/install/github-tools.sh" in str(caught.value)
    assert INSTALL_HINT in str(caught.value)
