"""`ghw ledger init|backup`: create the ledger explicitly, copy it safely."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from ghw.cli.context import app_context
from ghw.errors import LedgerUnusableError
from ghw.ledger.store import Ledger

__all__ = [
    "app",
    "ledger_backup",
    "ledger_init",
]

app = typer.Typer(help="Create or back up the ledger.", no_args_is_help=True)


@app.command(
    "init",
    epilog="Examples:\n\n  ghw ledger init\n\n  ghw --config ./ghw.yaml ledger init",
)
def ledger_init(ctx: typer.Context) -> None:
    """Create the ghw schema in the configured ledger (a missing or empty file); the config file
    is not touched. Every other command refuses an empty or foreign file instead of creating one
    over it."""

    app_ctx = app_context(ctx)
    config = app_ctx.load_config()
    path = config.ledger_path

    async def existing() -> int | None:
        try:
            ledger = await Ledger.open(path, readonly=True)
        except LedgerUnusableError as exc:
            if "exists but is empty" in exc.message or "holds no ghw schema" in exc.message:
                return None  # an empty file: to be initialised
            raise
        try:
            return await ledger.count_events()
        finally:
            await ledger.close()

    async def create() -> None:
        ledger = await Ledger.open(
            path,
            initialize=True,
            worker="cli:ledger",
            max_page_count=config.get("ledger_max_pages"),
        )
        await ledger.close()

    events = asyncio.run(existing()) if path.exists() else None
    if events is not None:
        app_ctx.echo(f"{path} is already a ghw ledger ({events} events); nothing changed")
        return
    asyncio.run(create())
    app_ctx.echo(f"ledger {path} initialised")


@app.command(
    "backup",
    epilog=(
        "Examples:\n\n  ghw ledger backup ~/backups/ghw-$(date +%F).db\n\n"
        "  ghw ledger backup /mnt/nas/ghw.db --force"
    ),
)
def ledger_backup(
    ctx: typer.Context,
    dest: Annotated[str, typer.Argument(help="The backup file to write.")],
    force: Annotated[bool, typer.Option("--force", help="Replace DEST if it exists.")] = False,
) -> None:
    """Copy the ledger to DEST: a consistent snapshot, safe while ghw runs (SQLite's online
    backup; the WAL is included)."""
    # start-up: loaded on first use, not by every command
    from ghw.ledger.backup import backup_ledger

    app_ctx = app_context(ctx)
    config = app_ctx.load_config()
    target = Path(dest).expanduser()
    events = backup_ledger(config.ledger_path, target, force=force)
    app_ctx.echo(f"backed up {events} events from {config.ledger_path} to {target}")
