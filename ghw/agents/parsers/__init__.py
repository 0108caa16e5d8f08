"""Pure parsers: one per CLI output format, from lines to events and the run's outcome.

A parser is fed each stdout line as it arrives (``feed`` returns the events it stands for) and
asked for the outcome once the process has exited (``finish``). They do no I/O, so they are
tested on recorded transcripts line by line.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from ghw.agents.base import AgentEvent, ErrorKind

__all__ = [
    "INTERRUPT_EXIT_CODES",
    "ParsedRun",
    "StreamParser",
    "api_status_transient",
    "as_float",
    "as_int",
    "ended_without_result",
    "load_json_line",
    "parse_lines",
    "short",
]

# 128+SIGINT, 128+SIGKILL, 128+SIGTERM as a shell or the CLI itself reports them.
INTERRUPT_EXIT_CODES = frozenset({130, 137, 143})


@dataclass
class ParsedRun:
    """What a parser learned about a run. Mutable only while the parser builds it."""

    success: bool = False
    text: str = ""
    session_id: str | None = None
    cost_usd: float | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    turns: int | None = None
    model: str | None = None
    error_kind: ErrorKind | None = None
    error: str | None = None
    transient: bool = False
    permission_denials: tuple[str, ...] = ()


class StreamParser(Protocol):
    def feed(self, line: str) -> list[AgentEvent]: ...

    def finish(self, exit_code: int | None) -> ParsedRun: ...


def parse_lines(
    parser: StreamParser, lines: Iterable[str], exit_code: int | None
) -> tuple[list[AgentEvent], ParsedRun]:
    """Feed every line, then finish: the whole parse as one pure function."""
    events: list[AgentEvent] = []
    for line in lines:
        events.extend(parser.feed(line))
    return events, parser.finish(exit_code)


def load_json_line(line: str) -> dict[str, Any] | None:
    """The JSON object on this line, or None for blank lines, noise and non-objects."""
    s = line.strip()
    if not s.startswith("{"):
        return None
    try:
        obj = json.loads(s)
    except ValueError:
        return None
    return obj if isinstance(obj, dict) else None


def ended_without_result(run: ParsedRun, exit_code: int | None, what: str) -> ParsedRun:
    """Fill in the failure of a run whose final result line never came.

    Killed by a signal (negative code or 128+n) reads as interrupted; anything else as
    ``no_result``. Both are transient: the phase retries, and gives up after its attempts.
    """
    run.success = False
    if exit_code is not None and (exit_code < 0 or exit_code in INTERRUPT_EXIT_CODES):
        run.error_kind = "interrupted"
        run.error = f"{what} was killed (exit {exit_code}) before its result"
    else:
        run.error_kind = "no_result"
        run.error = f"{what} exited ({exit_code}) without a result"
    run.transient = True
    return run


def short(value: Any, limit: int = 200) -> str:
    """A one-line preview for event texts."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def as_int(value: Any) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


def as_float(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def api_status_transient(status: int | None) -> bool:
    """Server errors, rate limits, overload and unknown causes are worth retrying; other 4xx
    (bad key, bad request) will fail the same way next time."""
    if status is None:
        return True
    return status >= 500 or status in (408, 409, 429)
