"""Every command's ``--help`` reads well (issue 13, item 16): examples, and none of Typer's noise.

The walk covers the whole command tree as ``ghw`` builds it, so a command added later without
examples fails here too.
"""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path

import click
import pytest
import typer

from ghw.cli.context import AppContext
from ghw.cli.main import app, main

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ledger"))
from ledger_helpers import run_cli


def _paths(command: click.Command, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = [prefix]
    for name, sub in sorted((getattr(command, "commands", None) or {}).items()):
        out.extend(_paths(sub, (*prefix, name)))
    return out


COMMANDS = _paths(typer.main.get_command(app))


def test_the_walk_sees_every_command() -> None:
    names = {" ".join(p) for p in COMMANDS}
    for expected in ("", "repo list", "config show", "config set", "fakehub serve", "agents"):
        assert expected in names
    assert len(names) >= 25


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "ghw")
def test_help_has_examples_and_no_typer_noise(path: tuple[str, ...], clean_env) -> None:
    out, err = io.StringIO(), io.StringIO()
    # the help goes through click's echo to sys.stdout: capture it there
    real = sys.stdout
    sys.stdout = out
    try:
        code = main([*path, "--help"], context=AppContext(environ=clean_env, stderr=err))
    finally:
        sys.stdout = real
    text = out.getvalue()
    where = "ghw " + " ".join(path)
    assert code == 0, (where, err.getvalue())
    assert "Example" in text, f"{where} --help shows no example"
    assert "None]" not in text, f"{where} --help shows a [default: None]"
    assert "env var: 'None'" not in text and "env var: None" not in text, where
    assert "§" not in text, f"{where} --help refers to the spec, which users do not have"
    for line in text.splitlines():
        if re.search(r"(^|\s)-(v|q)\b", line) or "--verbose" in line or "--quiet" in line:
            assert "INTEGER" not in line, f"{where}: a counted flag shown as INTEGER: {line}"


def test_usage_error_hint_names_no_env_var(clean_env) -> None:
    code, _out, err = run_cli(["fakehub", "serve", "--port", "99999"], clean_env)
    assert code == 2
    assert "--port" in err and "65535" in err
    assert "env var" not in err
