"""`ghw ledger init` and `ghw ledger backup` (issue 13, item 8)."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path

from ghw.cli.context import AppContext
from ghw.cli.main import main


def _ghw(tmp_path: Path, *args: str) -> tuple[int, str, str]:
    config = tmp_path / "config.yaml"
    if not config.exists():
        config.write_text(f"issues_path: {tmp_path / 'issues'}\n")
    env = {"HOME": str(tmp_path), "GHW_CONFIG": str(config), "NO_COLOR": "1", "GITHUB_TOKEN": "t"}
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), context=AppContext(environ=env, stdout=out, stderr=err))
    return code, out.getvalue(), err.getvalue()


def _seed(ledger: Path, issues: int) -> None:
    import asyncio

    from ghw.ledger.store import Ledger
    from ghw.machine import events as ev

    async def go() -> None:
        db = await Ledger.open(ledger)
        for n in range(1, issues + 1):
            await db.append(
                f"o/r#{n}", 0, [ev.IssueSynced(repo="o/r", number=n, title=f"#{n}", eligible=True)]
            )
        await db.close()

    asyncio.run(go())


def test_an_empty_ledger_is_refused_until_ledger_init(tmp_path: Path) -> None:
    ledger = tmp_path / "issues" / "ghw.db"
    ledger.parent.mkdir(parents=True)
    ledger.write_bytes(b"")
    for args in (["status"], ["repo", "add", "o/r"], ["history", "o/r#1"], ["replay"]):
        code, _out, err = _ghw(tmp_path, *args)
        assert code == 2, (args, err)
        assert "ghw ledger init" in err and "Traceback" not in err
    assert ledger.read_bytes() == b""  # nobody created a ledger over it
    code, out, err = _ghw(tmp_path, "ledger", "init")
    assert code == 0 and "initialised" in out, err
    code, out, _ = _ghw(tmp_path, "ledger", "init")
    assert code == 0 and "already a ghw ledger" in out
    assert _ghw(tmp_path, "repo", "add", "o/r")[0] == 0


def test_ledger_init_never_overwrites_a_foreign_database(tmp_path: Path) -> None:
    ledger = tmp_path / "issues" / "ghw.db"
    ledger.parent.mkdir(parents=True)
    conn = sqlite3.connect(ledger)
    conn.execute("CREATE TABLE mine (x)")
    conn.execute("INSERT INTO mine VALUES (1)")
    conn.commit()
    conn.close()
    code, _out, err = _ghw(tmp_path, "ledger", "init")
    assert code == 2 and "other tables" in err, err
    conn = sqlite3.connect(ledger)
    assert conn.execute("SELECT x FROM mine").fetchall() == [(1,)]
    conn.close()


def test_ledger_backup_is_a_whole_verified_copy_taken_beside_a_writer(tmp_path: Path) -> None:
    ledger = tmp_path / "issues" / "ghw.db"
    _seed(ledger, 30)
    # a writer still has the file open with commits in its WAL
    writer = sqlite3.connect(ledger, isolation_level=None)
    writer.execute("PRAGMA journal_mode = WAL")
    writer.execute("PRAGMA wal_autocheckpoint = 0")
    dest = tmp_path / "backups" / "ghw-copy.db"
    code, out, err = _ghw(tmp_path, "ledger", "backup", str(dest))
    assert code == 0, err
    assert "30 events" in out
    code, _, err = _ghw(tmp_path, "ledger", "backup", str(dest))
    assert code == 2 and "--force" in err
    writer.close()
    copy_config = tmp_path / "copy.yaml"
    copy_config.write_text(f"issues_path: {tmp_path / 'issues'}\nledger: {dest}\n")
    code, out, err = _ghw(tmp_path, "--config", str(copy_config), "replay", "--verify")
    assert code == 0 and "verified" in out, out + err
    assert not dest.with_name(dest.name + "-wal").exists()  # one self-contained file
