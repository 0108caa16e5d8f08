"""What every command gets: global options, the environment, output streams, config, ledger."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from rich.console import Console

from ghw.config import Config, config_file_path, load_config
from ghw.errors import ConfigError, UsageError
from ghw.ledger.store import Ledger
from ghw.logs import configure_logging
from ghw.redact import Redactor, secret_values
from ghw.streams import silence_stream

__all__ = [
    "AppContext",
    "StdoutClosed",
    "app_context",
    "check_ledger_path",
    "make_directory",
]


class StdoutClosed(Exception):
    """Whoever read ghw's stdout went away (``ghw status | head -1``): stop quietly.

    Not an OSError on purpose: click turns an EPIPE OSError into ``sys.exit(1)``; ``main()``
    turns this into exit 141 (128 + SIGPIPE, what other CLIs exit with)."""


def check_ledger_path(path: Path) -> None:
    """A ledger path that is a directory is a configuration error (exit 2), said plainly."""
    if path.is_dir():
        raise ConfigError(
            f"the ledger path {path} is a directory, not a ghw ledger file: point `ledger` at a "
            "file (`ghw config set ledger PATH`, default <issues_path>/ghw.db) or move the "
            "directory away"
        )


@dataclass
class AppContext:
    config_option: str | None = None
    log_format: str | None = None
    verbosity: int = 0
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)
    _console: Console | None = None

    @property
    def config_path(self) -> Path:
        return config_file_path(self.config_option, self.environ)

    def load_config(self, overrides: Mapping[str, Any] | None = None) -> Config:
        return load_config(
            self.config_path,
            self.environ,
            overrides,
            must_exist=bool(self.config_option),
        )

    def setup_logging(self, config: Config | None = None) -> None:
        fmt = self.log_format or (config["log.format"] if config else "auto")
        level = config["log.level"] if config else "info"
        if self.verbosity > 0:
            level = "debug"
        elif self.verbosity < 0:
            level = "warning" if self.verbosity == -1 else "error"
        configure_logging(
            fmt,
            level,
            stream=self.stderr,
            environ=self.environ,
            # the configured token variables are secrets whatever their names
            secret_names=tuple(config["github.token_env"]) if config else (),
        )

    @property
    def console(self) -> Console:
        if self._console is None:
            self._console = Console(
                file=self.stdout,
                no_color=bool(self.environ.get("NO_COLOR")),
                highlight=False,
                soft_wrap=True,
            )
        return self._console

    def print(self, *args: Any, **kwargs: Any) -> None:
        self.console.print(*args, **kwargs)

    def echo(self, text: str = "") -> None:
        """Plain text, unstyled (banners, lines meant for other programs)."""
        self._write(text + "\n")

    def json(self, data: Any) -> None:
        self._write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")

    def _write(self, text: str) -> None:
        try:
            self.stdout.write(text)
            self.stdout.flush()
        except BrokenPipeError:
            silence_stream(self.stdout)
            raise StdoutClosed from None

    def warn(self, text: str) -> None:
        text = Redactor(secret_values(self.environ)).text(text)
        self.stderr.write(text + "\n")
        self.stderr.flush()

    @asynccontextmanager
    async def ledger(  # type: ignore[no-untyped-def]
        self, config: Config, *, readonly: bool, worker: str = "cli", initialize: bool = False
    ):
        """The ledger, opened for this command. ``initialize`` (``ghw init --force`` only): an
        existing empty or schema-less file may be initialised instead of refused."""
        path = config.ledger_path
        check_ledger_path(path)
        ledger = await Ledger.open(
            path,
            readonly=readonly,
            worker=worker,
            max_page_count=config.get("ledger_max_pages"),
            initialize=initialize,
        )
        try:
            yield ledger
        finally:
            await ledger.close()

    def require_config_file(self) -> None:
        if self.config_option and not Path(self.config_option).exists():
            raise ConfigError(f"the config file {self.config_option} does not exist")


def app_context(ctx: Any) -> AppContext:
    """The AppContext of a typer/click context (set by the root callback)."""
    obj = ctx.find_root().obj
    assert isinstance(obj, AppContext)
    return obj


def make_directory(path: Path, option: str, purpose: str) -> Path:
    """``path`` (an option's value) as an existing directory, created if missing; a file there
    or one that cannot be created is a usage error naming the option and what it is for."""
    path = path.expanduser().resolve()
    if path.exists() and not path.is_dir():
        raise UsageError(
            f"{option} {path} is a file, not a directory: give a directory for {purpose} "
            "(it is created if missing)"
        )
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(
            f"{option} {path}: cannot create the directory ({exc.strerror or exc}); choose a "
            "directory you can write to"
        ) from None
    return path
