"""SQLModel declarations of the ledger's tables, for readers outside the hot path.

ghw itself reads and writes with plain SQL (``store.py``; see ADR 0003): the append path must be
as fast as hand-written ``sqlite3``. These classes describe the same tables with types so that
analysis code (a notebook, a dashboard, ``sqlmodel.Session``) can query a ledger without reading
``schema.sql``. A test keeps them identical to the schema, column by column.
"""

from __future__ import annotations

from sqlmodel import Field, SQLModel

__all__ = ["CycleRow", "EventRow", "IssueRow", "LeaseRow", "LoopRow", "RepoRow"]


class EventRow(SQLModel, table=True):
    __tablename__ = "events"
    seq: int = Field(primary_key=True)
    event_id: str
    stream_id: str
    version: int
    type: str
    schema_version: int
    payload: str
    ts: str
    actor: str
    cycle_id: str | None = None
    correlation_id: str | None = None
    causation_id: str | None = None
    prev_hash: str
    hash: str


class IssueRow(SQLModel, table=True):
    __tablename__ = "issues"
    stream_id: str = Field(primary_key=True)
    repo: str
    number: int
    state: str
    version: int
    last_seq: int
    updated_ts: str
    title: str = ""
    labels: str = "[]"
    author: str = ""
    association: str = ""
    html_url: str = ""
    gh_created_at: str = ""
    gh_updated_at: str = ""
    content_hash: str = ""
    eligible: int = 1
    skip_reason: str = ""
    attempts: int = 0
    next_retry_at: str | None = None
    claimed_from: str | None = None
    held_from: str | None = None
    held_reason: str | None = None
    changed_since_plan: int = 0
    pr_number: int | None = None
    pr_url: str | None = None
    branch_gen: int = 0
    last_error: str | None = None
    last_error_kind: str | None = None
    cost_usd: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    plan_seq: int | None = None
    verdict: str | None = None
    agent: str | None = None
    ready_at: str | None = None


class RepoRow(SQLModel, table=True):
    __tablename__ = "repos"
    stream_id: str = Field(primary_key=True)
    version: int
    registered: int = 0
    cursor: str | None = None
    etag: str | None = None
    last_sync: str | None = None
    rate_wait_until: str | None = None
    last_seq: int


class CycleRow(SQLModel, table=True):
    __tablename__ = "cycles"
    stream_id: str = Field(primary_key=True)
    version: int
    number: int | None = None
    started: str | None = None
    ended: str | None = None
    ok: int | None = None
    counts: str = "{}"
    errors: str = "[]"
    cost_usd: float = 0.0
    last_seq: int
    interrupted: int = 0
    holder: str = "{}"


class LoopRow(SQLModel, table=True):
    __tablename__ = "loop_state"
    stream_id: str = Field(primary_key=True)
    version: int
    held: int = 0
    reason: str = ""
    since: str | None = None
    last_seq: int


class LeaseRow(SQLModel, table=True):
    __tablename__ = "leases"
    stream_id: str = Field(primary_key=True)
    repo: str
    phase: str
    token: int
    holder_host: str
    holder_pid: int
    holder_start: float | None = None
    worker: str = ""
    claimed_at: float
    expires_at: float
    pgid: int | None = None
    leader_start: float | None = None
