"""User-facing errors of ghw, at a glance.

Every error a user can cause or meet is a subclass of :class:`GhwError`; the CLI prints its message
(no traceback) and exits with its ``exit_code``.

    GhwError                      exit 1  something failed while working
    ├── UsageError                exit 2  bad flag, argument or value on the command line
    │   ├── InvalidDurationError          a duration that parse_duration refuses
    │   └── InvalidIssueRefError          an ISSUE that is not owner/repo#N, a URL or N with --repo
    ├── ConfigError               exit 2  the configuration file or environment is wrong
    │   └── MissingIssuesPathError        issues_path not set
    ├── AgentNotInstalledError    exit 2  a configured agent's CLI is missing
    └── LedgerError               exit 1  the ledger refused or failed an operation
        ├── LedgerTooNewError     exit 2  a ledger written by a newer ghw
        ├── LedgerUnusableError   exit 2  not a ghw ledger: empty, foreign, garbage, a directory
        ├── LedgerLockedError     exit 1  another writer held the ledger past busy_timeout
        ├── LedgerFullError       exit 1  the ledger reached its size limit
        ├── ConcurrencyError              expected_version did not match (another writer won)
        ├── IllegalTransitionError        the event is not allowed in the issue's state
        ├── StaleFenceError               the lease behind a fenced append is gone or newer
        └── LeaseLostError                a renewal found the lease gone
"""

from __future__ import annotations

__all__ = [
    "AgentNotInstalledError",
    "ConcurrencyError",
    "ConfigError",
    "DuplicateFeedbackError",
    "GhwError",
    "IllegalTransitionError",
    "InvalidDurationError",
    "InvalidIssueRefError",
    "LeaseLostError",
    "LedgerError",
    "LedgerFullError",
    "LedgerLockedError",
    "LedgerTooNewError",
    "LedgerUnusableError",
    "MissingIssuesPathError",
    "StaleFenceError",
    "UsageError",
]


class GhwError(Exception):
    """Base of every error ghw reports to a user."""

    exit_code: int = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UsageError(GhwError):
    exit_code = 2


class InvalidDurationError(UsageError, ValueError):
    """Raised by parse_duration; also a ValueError as §7 requires."""


class InvalidIssueRefError(UsageError):
    pass


class ConfigError(GhwError):
    exit_code = 2


class MissingIssuesPathError(ConfigError):
    pass


class AgentNotInstalledError(GhwError):
    exit_code = 2


class LedgerError(GhwError):
    pass


class LedgerTooNewError(LedgerError):
    exit_code = 2


class LedgerUnusableError(LedgerError):
    """The ledger path holds no usable ghw ledger (empty or foreign file, garbage, a directory,
    unreadable): nothing is created over it unless initialisation is asked for explicitly."""

    exit_code = 2


class LedgerLockedError(LedgerError):
    pass


class LedgerFullError(LedgerError):
    pass


class DuplicateFeedbackError(LedgerError):
    """A FeedbackReceived for a GitHub item the issue already recorded (§12: once per item)."""


class ConcurrencyError(LedgerError):
    def __init__(self, stream_id: str, expected: int, actual: int) -> None:
        super().__init__(
            f"{stream_id}: expected version {expected} but the stream is at {actual}; "
            "another writer appended first"
        )
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual


class IllegalTransitionError(LedgerError):
    def __init__(self, stream_id: str, state: str, event_type: str, why: str = "") -> None:
        detail = f" ({why})" if why else ""
        super().__init__(f"{stream_id}: {event_type} is not allowed in state {state}{detail}")
        self.stream_id = stream_id
        self.state = state
        self.event_type = event_type


class StaleFenceError(LedgerError):
    def __init__(self, stream_id: str, token: int) -> None:
        super().__init__(
            f"{stream_id}: lease token {token} is no longer current (taken over, held or closed); "
            "the append was refused"
        )
        self.stream_id = stream_id
        self.token = token


class LeaseLostError(LedgerError):
    pass
