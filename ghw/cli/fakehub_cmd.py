"""``ghw fakehub serve``: the embedded GitHub as a command (also ``python -m ghw.fakehub serve``).

The first line of stdout is the API base URL, flushed, so a parent process can read it and go.
SIGINT and SIGTERM stop the server cleanly (a temporary data directory is removed).
"""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

from ghw.cli.render import tidy_help

__all__ = ["app", "main", "serve"]

app = typer.Typer(
    name="fakehub",
    help="The embedded GitHub-compatible server (API + git over HTTP) for tests and the demo.",
    epilog="Examples:\n\n  ghw fakehub serve --seed demo\n\n"
    "  ghw fakehub serve --port 8123 --data ./hub --seed seed.yaml",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def _group() -> None:
    """The embedded GitHub-compatible server."""


@app.command()
def serve(
    port: Annotated[
        int,
        typer.Option(
            help="TCP port on 127.0.0.1 (1-65535); 0 picks a free one.",
            min=0,
            max=65535,
            metavar="PORT",
        ),
    ] = 0,
    data: Annotated[
        Path | None,
        typer.Option("--data", help="State directory (default: a temporary one, removed on exit)."),
    ] = None,
    seed: Annotated[
        str | None,
        typer.Option(help="'demo' or a seed YAML file; applied only to an empty data directory."),
    ] = None,
) -> None:
    """Serve until SIGINT/SIGTERM; prints the API base URL as the first line of stdout.

    Examples:

        ghw fakehub serve --seed demo

        ghw fakehub serve --port 8123 --data ./hub --seed seed.yaml
    """
    # start-up: fakehub's server loads only for `ghw fakehub serve`
    from ghw.fakehub.hub import FakeHub
    from ghw.fakehub.seed import SeedError

    try:
        hub = FakeHub(data_dir=data, seed=seed, port=port)
    except SeedError as exc:
        typer.echo(f"fakehub: {exc}", err=True)
        raise typer.Exit(2) from exc
    except (OSError, OverflowError) as exc:
        typer.echo(
            f"fakehub: cannot serve on 127.0.0.1:{port}: {exc}; choose another --port "
            "(or 0 for a free one)",
            err=True,
        )
        raise typer.Exit(1) from exc
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        hub.serve_in_background()
        sys.stdout.write(hub.base_url + "\n")
        sys.stdout.flush()
        typer.echo(f"fakehub: serving {hub.base_url}, data in {hub.data_dir}", err=True)
        while not stop.wait(0.5):
            pass
    finally:
        hub.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def main() -> None:
    # the same help and error hints as `ghw fakehub` (no "(env var: 'None')", no "[default: None]")
    tidy_help(typer.main.get_command(app))()
