"""structlog set-up: human lines on a terminal, JSON with ``--log-format json`` (§6).

Every record has ``timestamp`` (ISO-8601 UTC) and ``level``. Severity classifies errors:
``warning`` = an issue or repository failed and the run went on; ``error`` = a phase or cycle
failed; ``critical`` = configuration error.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from typing import Any, TextIO

import structlog

__all__ = ["configure_logging", "get_logger", "redact_processor"]

_LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40, "critical": 50}


def redact_processor(secrets: list[str]) -> Any:
    """A processor that replaces every secret value anywhere in an event with ``***``."""

    def scrub(value: Any) -> Any:
        if isinstance(value, str):
            for secret in secrets:
                if secret and secret in value:
                    value = value.replace(secret, "***")
            return value
        if isinstance(value, Mapping):
            return {k: scrub(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return type(value)(scrub(v) for v in value)
        return value

    def processor(_logger: Any, _name: str, event_dict: dict[str, Any]) -> dict[str, Any]:
        return {k: scrub(v) for k, v in event_dict.items()}

    return processor


def configure_logging(
    fmt: str = "auto",
    level: str = "info",
    *,
    stream: TextIO | None = None,
    environ: Mapping[str, str] | None = None,
    secrets: list[str] | None = None,
) -> None:
    stream = stream or sys.stderr
    environ = environ if environ is not None else {}
    is_tty = hasattr(stream, "isatty") and stream.isatty()
    use_json = fmt == "json"
    colors = is_tty and not environ.get("NO_COLOR") and fmt != "json"
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="timestamp"),
        redact_processor(list(secrets or [])),
    ]
    if use_json:
        processors += [structlog.processors.format_exc_info, structlog.processors.JSONRenderer()]
    else:
        processors.append(structlog.dev.ConsoleRenderer(colors=colors, pad_event_to=0))
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(_LEVELS.get(level, logging.INFO)),
        logger_factory=structlog.PrintLoggerFactory(file=stream),
        cache_logger_on_first_use=False,
    )


def get_logger(**context: Any) -> Any:
    return structlog.get_logger("ghw").bind(**context)
