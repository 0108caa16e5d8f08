"""`ghw config show|validate|set`: the effective configuration, checked and edited."""

from __future__ import annotations

from typing import Annotated

import typer

from ghw.cli.context import app_context
from ghw.errors import ConfigError

__all__ = [
    "JsonOpt",
    "app",
    "config_set",
    "config_show",
    "config_validate",
]

app = typer.Typer(help="Show, validate and edit the configuration.", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


@app.command(
    "show",
    epilog="Examples:\n\n  ghw config show\n\n  ghw config show --json",
)
def config_show(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """The effective configuration, each value with its source (secrets redacted)."""
    app_ctx = app_context(ctx)
    config = app_ctx.load_config()
    if as_json:
        rows = config.shown()
        app_ctx.json(
            {"path": str(config.path), "values": {k: {"value": v, "source": s} for k, v, s in rows}}
        )
        return
    app_ctx.echo(f"# {config.path}")
    for key, value, source in config.shown_text():
        app_ctx.echo(f"{key} = {value}  ({source})")


@app.command(
    "validate",
    epilog="Examples:\n\n  ghw config validate\n\n  ghw --config ./ghw.yaml config validate",
)
def config_validate(ctx: typer.Context) -> None:
    """Check the configuration and the files it names (prompt templates, agent scripts) for
    every phase; exit 2 with the file, line, key and fix when something is wrong."""
    # start-up: loaded on first use, not by every command
    from ghw.phases.preflight import check_all_files

    app_ctx = app_context(ctx)
    config = app_ctx.load_config()
    config.issues_path  # noqa: B018 - required; raises with the fix when missing or unusable
    check_all_files(config)
    app_ctx.echo(f"ok: {config.path}")


@app.command(
    "set",
    epilog="Examples:\n\n  ghw config set issues_path ~/ghw\n\n  ghw config set plan.parallelism 4\n\n  ghw config set repos octocat/hello-world,octocat/spoon-knife",
)
def config_set(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="Dotted key, e.g. plan.parallelism")],
    value: Annotated[str, typer.Argument(help="New value (lists comma-separated)")],
) -> None:
    """Set KEY to VALUE in the config file, keeping its comments where it can. The whole file
    is checked first: a value that would make it invalid is refused and the file is unchanged."""
    # start-up: loaded on first use, not by every command
    from ghw.config.edit import set_key
    from ghw.phases.preflight import check_all_files

    app_ctx = app_context(ctx)
    path = app_ctx.config_path
    written = set_key(path, key, value)
    app_ctx.echo(f"set {key} in {path}")
    try:
        check_all_files(written)
    except ConfigError as exc:
        # a file the key names may be created after it is set; the run commands refuse it
        for line in exc.message.splitlines():
            if f"`{key}`" in line:
                app_ctx.warn(f"warning: {line}")
    # the effective configuration adds the environment, which may override or break the key
    config = app_ctx.load_config()
    source = config.sources.get(key, "")
    if source.startswith("env:"):
        app_ctx.warn(
            f"note: the environment variable {source[len('env:') :]} overrides `{key}`; "
            "unset it for the file's value to take effect."
        )
