"""Progress on a terminal, owned by the CLI and handed to the orchestrator (which, piped or
embedded, prints plain lines)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, TextIO

from rich.console import Console

__all__ = ["TtyProgress", "terminal_progress"]


def terminal_progress(stream: TextIO, environ: Mapping[str, str]) -> TtyProgress | None:
    """A spinner for ``stream`` when it is a terminal (and ``TERM`` is not ``dumb``); None
    when piped."""
    isatty = getattr(stream, "isatty", None)
    if not (isatty and isatty()) or environ.get("TERM") == "dumb":
        return None
    return TtyProgress(stream, environ)


_STARTED = re.compile(r"^\s+(\S+#\d+): (\w+) started")
_ENDED = re.compile(r"^\s+(\S+#\d+): (\w+) (completed|failed|held|interrupted|skipped)")


class TtyProgress:
    """Progress on a terminal: each line printed above a rich spinner that names the steps
    running now. Kept deliberately simple: it follows the reporter's own lines."""

    def __init__(self, stream: TextIO, environ: Mapping[str, str]) -> None:

        self.console = Console(
            file=stream,
            force_terminal=True,
            no_color=bool(environ.get("NO_COLOR")),
            highlight=False,
            soft_wrap=True,
        )
        self.running: dict[str, str] = {}
        self.status: Any = None

    def line(self, text: str) -> None:
        if match := _STARTED.match(text):
            self.running[match.group(1)] = match.group(2)
        elif match := _ENDED.match(text):
            self.running.pop(match.group(1), None)
        self.console.print(text, markup=False, highlight=False)
        self._update()

    def _update(self) -> None:
        if self.running:
            shown = ", ".join(f"{issue} ({phase})" for issue, phase in self.running.items())
            message = f"running {len(self.running)}: {shown}"
            if self.status is None:
                self.status = self.console.status(message, spinner="dots")
                self.status.start()
            else:
                self.status.update(message)
        else:
            self.done()

    def done(self) -> None:
        self.running.clear()
        if self.status is not None:
            self.status.stop()
            self.status = None
