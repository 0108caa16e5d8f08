"""ghw: GitHub issues to reviewed pull requests with coding agents, on an append-only ledger."""

from ghw.durations import parse_duration

__all__ = ["__version__", "parse_duration"]
__version__ = "0.1.0"
