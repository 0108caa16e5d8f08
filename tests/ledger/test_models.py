"""The SQLModel declarations describe exactly the tables schema.sql creates."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from ledger_helpers import synced
from sqlmodel import Session, select

from ghw.ledger import models
from ghw.ledger.store import Ledger

_TYPES = {"INTEGER": "INTEGER", "VARCHAR": "TEXT", "FLOAT": "REAL"}


@pytest.mark.parametrize(
    "model",
    [
        models.EventRow,
        models.IssueRow,
        models.RepoRow,
        models.CycleRow,
        models.LoopRow,
        models.LeaseRow,
    ],
)
async def test_model_matches_schema(tmp_path: Path, model: type) -> None:
    ledger = await Ledger.open(tmp_path / "l.db")
    await ledger.close()
    conn = sqlite3.connect(tmp_path / "l.db")
    try:
        info = conn.execute(f"PRAGMA table_info({model.__tablename__})").fetchall()
    finally:
        conn.close()
    schema = [(row[1], row[2]) for row in info]
    declared = []
    for column in model.__table__.columns:
        from sqlalchemy.dialects import sqlite as sqlite_dialect

        compiled = column.type.compile(dialect=sqlite_dialect.dialect())
        declared.append((column.name, _TYPES[compiled]))
    assert declared == schema


async def test_models_read_a_real_ledger(tmp_path: Path) -> None:
    from sqlalchemy import create_engine

    ledger = await Ledger.open(tmp_path / "l.db")
    await ledger.append("o/r#1", 0, [synced()])
    await ledger.close()
    engine = create_engine(f"sqlite:///{tmp_path / 'l.db'}")
    with Session(engine) as session:
        [issue] = session.exec(select(models.IssueRow)).all()
        assert (issue.stream_id, issue.state) == ("o/r#1", "synced")
    engine.dispose()
