-- ghw ledger schema, version 3. Read top to bottom: the log, its guards, the read models, leases.
-- The events table is the only truth; every other table is derived from it (projections, rebuilt
-- by `ghw replay`) or operational (leases, which say who works on what right now).

CREATE TABLE IF NOT EXISTS events (
    seq            INTEGER PRIMARY KEY,          -- global order, assigned by the appender
    event_id       TEXT    NOT NULL UNIQUE,
    stream_id      TEXT    NOT NULL,             -- owner/repo#N, owner/repo, cycle:<id>, loop
    version        INTEGER NOT NULL,             -- 1, 2, … per stream
    type           TEXT    NOT NULL,
    schema_version INTEGER NOT NULL,
    payload        TEXT    NOT NULL,             -- canonical JSON
    ts             TEXT    NOT NULL,             -- ISO-8601 UTC
    actor          TEXT    NOT NULL,             -- JSON {host, pid, worker}
    cycle_id       TEXT,
    correlation_id TEXT,
    causation_id   TEXT,
    prev_hash      TEXT    NOT NULL,
    hash           TEXT    NOT NULL,
    UNIQUE (stream_id, version)                   -- the whole optimistic-concurrency story
);

CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'the ghw ledger is append-only: UPDATE on events is forbidden');
END;

CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'the ghw ledger is append-only: DELETE on events is forbidden');
END;

-- Follow-up feedback is recorded once per GitHub item (§12): a second FeedbackReceived with the
-- same source and id on the issue is refused in its transaction, so a restart never re-triggers.
CREATE UNIQUE INDEX IF NOT EXISTS events_feedback_once ON events (
    stream_id, json_extract(payload, '$.source'), json_extract(payload, '$.github_id')
) WHERE type = 'FeedbackReceived';

-- Projection: one row per issue (the fold of its stream), written in the append's transaction.
-- ready_at: '' = claimable now, an ISO time = claimable from then, NULL = never (permanent failure).
CREATE TABLE IF NOT EXISTS issues (
    stream_id          TEXT PRIMARY KEY,
    repo               TEXT    NOT NULL,
    number             INTEGER NOT NULL,
    state              TEXT    NOT NULL,
    version            INTEGER NOT NULL,
    last_seq           INTEGER NOT NULL,
    updated_ts         TEXT    NOT NULL,
    title              TEXT    NOT NULL DEFAULT '',
    labels             TEXT    NOT NULL DEFAULT '[]',
    author             TEXT    NOT NULL DEFAULT '',
    association        TEXT    NOT NULL DEFAULT '',
    html_url           TEXT    NOT NULL DEFAULT '',
    gh_created_at      TEXT    NOT NULL DEFAULT '',
    gh_updated_at      TEXT    NOT NULL DEFAULT '',
    content_hash       TEXT    NOT NULL DEFAULT '',
    eligible           INTEGER NOT NULL DEFAULT 1,
    skip_reason        TEXT    NOT NULL DEFAULT '',
    attempts           INTEGER NOT NULL DEFAULT 0,
    next_retry_at      TEXT,
    claimed_from       TEXT,
    held_from          TEXT,
    held_reason        TEXT,
    changed_since_plan INTEGER NOT NULL DEFAULT 0,
    pr_number          INTEGER,
    pr_url             TEXT,
    branch_gen         INTEGER NOT NULL DEFAULT 0,
    last_error         TEXT,
    last_error_kind    TEXT,
    cost_usd           REAL    NOT NULL DEFAULT 0,
    input_tokens       INTEGER NOT NULL DEFAULT 0,
    output_tokens      INTEGER NOT NULL DEFAULT 0,
    plan_seq           INTEGER,
    verdict            TEXT,
    agent              TEXT,
    pr_opened_ts       TEXT    NOT NULL DEFAULT '',
    pr_seen_updated_at TEXT    NOT NULL DEFAULT '',
    pr_head_sha        TEXT    NOT NULL DEFAULT '',
    ci                 TEXT    NOT NULL DEFAULT '',
    feedback_waiting   TEXT    NOT NULL DEFAULT '[]',
    feedback_handled   INTEGER NOT NULL DEFAULT 0,
    feedback_ignored   INTEGER NOT NULL DEFAULT 0,
    rounds             INTEGER NOT NULL DEFAULT 0,
    rounds_base        INTEGER NOT NULL DEFAULT 0,
    pr_merged_at       TEXT    NOT NULL DEFAULT '',
    ready_at           TEXT
);
-- claims walk these in order (oldest issue first) and stop at the first ready, unleased row
CREATE INDEX IF NOT EXISTS issues_claim_repo ON issues (state, repo, number);
CREATE INDEX IF NOT EXISTS issues_claim_any ON issues (state, number, repo);
CREATE INDEX IF NOT EXISTS issues_repo ON issues (repo, number);

-- Projection: repository streams (registration, sync cursor and ETag, recorded rate-limit waits).
CREATE TABLE IF NOT EXISTS repos (
    stream_id       TEXT PRIMARY KEY,
    version         INTEGER NOT NULL,
    registered      INTEGER NOT NULL DEFAULT 0,
    cursor          TEXT,
    etag            TEXT,
    last_sync       TEXT,
    rate_wait_until TEXT,
    last_seq        INTEGER NOT NULL
);

-- Projection: cycle statistics.
CREATE TABLE IF NOT EXISTS cycles (
    stream_id TEXT PRIMARY KEY,
    version   INTEGER NOT NULL,
    number    INTEGER,
    started   TEXT,
    ended     TEXT,
    ok        INTEGER,
    counts    TEXT NOT NULL DEFAULT '{}',
    errors    TEXT NOT NULL DEFAULT '[]',
    cost_usd  REAL NOT NULL DEFAULT 0,
    last_seq  INTEGER NOT NULL,
    interrupted INTEGER NOT NULL DEFAULT 0,
    holder    TEXT NOT NULL DEFAULT '{}'        -- JSON {host, pid, start} of the cycle's process
);
CREATE INDEX IF NOT EXISTS cycles_started ON cycles (started);

-- Projection: the loop's pause switch (`ghw hold --all`).
CREATE TABLE IF NOT EXISTS loop_state (
    stream_id TEXT PRIMARY KEY,
    version   INTEGER NOT NULL,
    held      INTEGER NOT NULL DEFAULT 0,
    reason    TEXT NOT NULL DEFAULT '',
    since     TEXT,
    last_seq  INTEGER NOT NULL
);

-- Operational, not a projection: who is working on which issue right now. The token is the seq
-- of the step's *Started event, so it is monotonic; a fenced append must present it.
CREATE TABLE IF NOT EXISTS leases (
    stream_id    TEXT PRIMARY KEY,
    repo         TEXT    NOT NULL,
    phase        TEXT    NOT NULL,
    token        INTEGER NOT NULL,
    holder_host  TEXT    NOT NULL,
    holder_pid   INTEGER NOT NULL,
    holder_start REAL,
    worker       TEXT    NOT NULL DEFAULT '',
    claimed_at   REAL    NOT NULL,
    expires_at   REAL    NOT NULL,
    pgid         INTEGER,
    leader_start REAL
);
