"""`ghw config show|validate|set`: the effective configuration, checked and edited."""

from __future__ import annotations

from typing import Annotated

import typer

from ghw.cli.context import AppContext

__all__ = ["app"]

app = typer.Typer(help="Show, validate and edit the configuration.", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def _ctx(ctx: typer.Context) -> AppContext:
    obj = ctx.find_root().obj
    assert isinstance(obj, AppContext)
    return obj


@app.command("show")
def config_show(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """The effective configuration, each value with its source (secrets redacted)."""
    app_ctx = _ctx(ctx)
    config = app_ctx.load_config()
    rows = config.shown()
    if as_json:
        app_ctx.json(
            {"path": str(config.path), "values": {k: {"value": v, "source": s} for k, v, s in rows}}
        )
        return
    app_ctx.echo(f"# {config.path}")
    for key, value, source in rows:
        app_ctx.echo(
            f"{key} = {value!r}  ({source})"
            if not isinstance(value, str)
            else f"{key} = {value}  ({source})"
        )


@app.command("validate")
def config_validate(ctx: typer.Context) -> None:
    """Check the configuration; exit 2 with the file, line, key and fix when it is wrong."""
    app_ctx = _ctx(ctx)
    config = app_ctx.load_config()
    config.issues_path  # noqa: B018 - required; raises with the fix when missing
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
    """Set KEY to VALUE in the config file, keeping its comments where it can."""
    from ghw.config.edit import set_key

    app_ctx = _ctx(ctx)
    path = app_ctx.config_path
    set_key(path, key, value)
    app_ctx.load_config()  # the whole file must still be valid
    app_ctx.echo(f"set {key} in {path}")
