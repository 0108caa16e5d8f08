"""structlog set-up: human lines on a terminal, JSON with ``--log-format json`` (§6).

Every record has ``timestamp`` (ISO-8601 UTC) and ``level``. Severity classifies errors:
``warning`` = an issue or repository failed and the run went on; ``error`` = a phase or cycle
failed; ``critical`` = configuration error.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, Mapping
from typing import Any, TextIO

import structlog

from ghw.redact import Redactor, secret_values

__all__ = ["configure_logging", "get_logger", "redact_processor"]

_LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40, "critical": 50}


def redact_processor(secrets: Iterable[str]) -> Any:
    """A processor that replaces every secret value anywhere in an event with ``***``.

    It runs after the exception is formatted into text, so a traceback is scrubbed too."""
    redactor = Redactor(secrets)

    def processor(_logger: Any, _name: str, event_dict: dict[str, Any]) -> dict[str, Any]:
        if not redactor:
            return event_dict
        return {k: redactor.data(v) for k, v in event_dict.items()}

    return processor


def configure_logging(
    fmt: str = "auto",
    level: str = "info",
    *,
    stream: TextIO | None = None,
    environ: Mapping[str, str] | None = None,
    secrets: Iterable[str] | None = None,
    secret_names: Iterable[str] = (),
) -> None:
    """Logs to ``stream``: JSON or human lines, secrets redacted from every record.

    The secrets are ``secrets`` plus every secret-looking variable of ``environ`` (and those
    named by ``secret_names``, e.g. ``github.token_env``). Tracebacks never show local
    variables (they hold the token and the agents' environment) and are redacted like the rest.
    """
    stream = stream or sys.stderr
    environ = environ if environ is not None else {}
    is_tty = hasattr(stream, "isatty") and stream.isatty()
    use_json = fmt == "json"
    colors = is_tty and not environ.get("NO_COLOR") and fmt != "json"
    hidden = secret_values(environ, secret_names, secrets or ())
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="timestamp"),
        # the traceback as plain text (no locals), before redaction sees the record
        structlog.processors.format_exc_info,
        redact_processor(hidden),
    ]
    if use_json:
        processors.append(structlog.processors.JSONRenderer())
    else:
        processors.append(
            structlog.dev.ConsoleRenderer(
                colors=colors, pad_event_to=0, exception_formatter=structlog.dev.plain_traceback
            )
        )
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(_LEVELS.get(level, logging.INFO)),
        logger_factory=structlog.PrintLoggerFactory(file=_SafeStream(stream)),
        cache_logger_on_first_use=False,
    )


class _SafeStream:
    """The log stream; a closed pipe (``ghw … 2>&1 | head``) ends logging, not the run."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._closed = False

    def write(self, text: str) -> int:
        if self._closed:
            return len(text)
        try:
            return self._stream.write(text)
        except (BrokenPipeError, ValueError):
            self._closed = True
            return len(text)

    def flush(self) -> None:
        if self._closed:
            return
        try:
            self._stream.flush()
        except (BrokenPipeError, ValueError):
            self._closed = True


def get_logger(**context: Any) -> Any:
    return structlog.get_logger("ghw").bind(**context)
