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
from ghw.errors import ConfigError
from ghw.ledger.store import Ledger
from ghw.logs import configure_logging

__all__ = ["AppContext"]


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
        configure_logging(fmt, level, stream=self.stderr, environ=self.environ)

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
        self.stdout.write(text + "\n")
        self.stdout.flush()

    def json(self, data: Any) -> None:
        self.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
        self.stdout.flush()

    def warn(self, text: str) -> None:
        self.stderr.write(text + "\n")
        self.stderr.flush()

    @asynccontextmanager
    async def ledger(self, config: Config, *, readonly: bool, worker: str = "cli"):  # type: ignore[no-untyped-def]
        path = config.ledger_path
        ledger = await Ledger.open(
            path,
            readonly=readonly,
            worker=worker,
            max_page_count=config.get("ledger_max_pages"),
        )
        try:
            yield ledger
        finally:
            await ledger.close()

    def require_config_file(self) -> None:
        if self.config_option and not Path(self.config_option).exists():
            raise ConfigError(f"the config file {self.config_option} does not exist")
