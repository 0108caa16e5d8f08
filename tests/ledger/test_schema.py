"""schema.sql is the one declaration of the ledger's tables: the columns the ledger writes and
reads are exactly the ones it creates, in its order (docs/adr/0063-read-models.md)."""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path

import pytest

from ghw.ledger.encode import EVENT_COLUMNS
from ghw.ledger.projection import PROJECTION_TABLES
from ghw.ledger.records import Holder, LeaseRow
from ghw.ledger.store import Ledger


def _lease_columns() -> tuple[str, ...]:
    """LeaseRow's fields, its holder spread into the table's holder columns."""
    holder = ("holder_host", "holder_pid", "holder_start", "worker")
    assert [f.name for f in dataclasses.fields(Holder)] == ["host", "pid", "start", "worker"]
    out: list[str] = []
    for f in dataclasses.fields(LeaseRow):
        out.extend(holder if f.name == "holder" else (f.name,))
    return tuple(out)


_TABLES = {
    "events": EVENT_COLUMNS,
    **{table: columns for table, columns in PROJECTION_TABLES.values()},
    "leases": _lease_columns(),
}


@pytest.fixture(scope="module")
def created(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import asyncio

    path = tmp_path_factory.mktemp("schema") / "ghw.db"

    async def create() -> None:
        await (await Ledger.open(path)).close()

    asyncio.run(create())
    return path


def _schema_columns(path: Path, table: str) -> tuple[str, ...]:
    conn = sqlite3.connect(path)
    try:
        return tuple(row[1] for row in conn.execute(f"PRAGMA table_info({table})"))
    finally:
        conn.close()


@pytest.mark.parametrize("table", sorted(_TABLES))
def test_the_ledger_uses_exactly_the_columns_schema_sql_creates(created: Path, table: str) -> None:
    assert _TABLES[table] == _schema_columns(created, table)


def test_every_table_schema_sql_creates_is_one_the_ledger_uses(created: Path) -> None:
    conn = sqlite3.connect(created)
    try:
        tables = {
            row[0]
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        }
    finally:
        conn.close()
    assert tables == set(_TABLES)
