"""``ghw demo [--dir D]``: the full cycle offline, against the embedded GitHub (spec §10).

Everything lives in ``D`` (``./ghw-demo`` by default): ``D/config.yaml``, the ledger and issue
files under ``D/issues/``, fakehub's state under ``D/fakehub/`` and its port in ``D/fakehub.port``
(reused when it is free, so the URLs printed last time still work). ``$GHW_CONFIG`` and every
other ``GHW_*`` variable are ignored, and so are real GitHub tokens: the demo supplies a dummy
token of its own and talks only to 127.0.0.1. Run again in the same ``D`` it opens no second PR:
the ledger and fakehub's data persist, and the issues are already reviewed.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from ghw.cli.context import AppContext, make_directory
from ghw.cli.render import history_lines
from ghw.cli.workflow import check_agents_installed
from ghw.errors import UsageError
from ghw.ledger.store import Ledger
from ghw.logs import configure_logging

__all__ = ["DEMO_REPO", "DEMO_TOKEN", "demo_environ", "model_env", "register", "run_demo"]

DEMO_REPO = "demo/calc"
DEMO_TOKEN = "ghw-demo-token-not-a-secret"
# never handed to the demo: ghw's own settings and any real GitHub credentials
_DROPPED = ("GITHUB_TOKEN", "GH_TOKEN", "GH_ENTERPRISE_TOKEN", "GITHUB_ENTERPRISE_TOKEN")


def demo_environ(environ: Mapping[str, str]) -> dict[str, str]:
    """The environment the demo runs with: no ``GHW_*`` variable, no real token, a dummy one."""
    env = {k: v for k, v in environ.items() if not k.startswith("GHW_") and k not in _DROPPED}
    env["GITHUB_TOKEN"] = DEMO_TOKEN
    return env


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _saved_port(directory: Path) -> int:
    try:
        port = int((directory / "fakehub.port").read_text().strip())
    except (OSError, ValueError):
        return 0
    return port if 0 < port < 65536 and _port_free(port) else 0


# What a model CLI reads from its environment, by name prefix. Agents run in a clean
# environment (only `agents.<name>.env` is added), so the demo forwards these from the user's
# environment as ${VAR} references: the keys are resolved at spawn and never written to D.
_MODEL_ENV_PREFIXES = {
    "claude-code": ("ANTHROPIC_", "CLAUDE_CODE_"),
    "codex": ("OPENAI_", "CODEX_"),
    "gemini": ("GEMINI_", "GOOGLE_"),
    "opencode": ("OPENCODE_", "ANTHROPIC_", "OPENAI_"),
    "cursor-agent": ("CURSOR_",),
}


def model_env(agent: str, environ: Mapping[str, str]) -> dict[str, str]:
    """``agents.<agent>.env`` for the demo: a ${NAME} reference for each model variable set."""
    prefixes = _MODEL_ENV_PREFIXES.get(agent, ())
    names = sorted(n for n in environ if n.startswith(prefixes) and n.isidentifier())
    return {name: "${" + name + "}" for name in names}


def _write_config(
    path: Path, directory: Path, api_url: str, agent: str, environ: Mapping[str, str]
) -> None:

    # start-up: loaded on first use, not by every command
    from ghw.config.edit import write_atomic
    from ghw.fakehub import demo_dir

    agents: dict[str, Any] = {"scripted": {"script": str(demo_dir() / "script.yaml")}}
    forwarded = model_env(agent, environ)
    if forwarded:
        agents[agent] = {"env": forwarded}
    data: dict[str, Any] = {
        "issues_path": str(directory / "issues"),
        "repos": [DEMO_REPO],
        "github": {"api_url": api_url},
        "agent": {"default": agent},
        "agents": agents,
    }
    header = (
        "# Written by `ghw demo` on every run (the fakehub URL may change). GHW_* variables are\n"
        "# ignored by the demo. Inspect with: ghw --config " + str(path) + " status\n"
    )
    write_atomic(path, header + yaml.safe_dump(data, sort_keys=False))


def _demo_directory(directory: Path) -> Path:
    """``--dir``, created if needed; anything that cannot hold the demo is a usage error."""
    directory = make_directory(directory, "--dir", "the demo's config, ledger and fakehub data")
    for sub in ("issues", "fakehub"):
        if (directory / sub).exists() and not (directory / sub).is_dir():
            raise UsageError(
                f"--dir {directory} holds a file named {sub!r} where the demo keeps its "
                f"{'ledger and issue files' if sub == 'issues' else 'fakehub data'}: "
                "move it away or choose another --dir"
            )
    return directory


def run_demo(
    directory: Path,
    *,
    agent: str = "scripted",
    app_ctx: AppContext | None = None,
    environ: Mapping[str, str] | None = None,
) -> int:
    """Run the demo in ``directory``; returns the exit code."""
    # start-up: loaded on first use, not by every command
    from ghw.cli.progress import terminal_progress
    from ghw.fakehub import FakeHub
    from ghw.orchestrator import WorkOrchestrator

    app_ctx = app_ctx or AppContext()
    env = demo_environ(os.environ if environ is None else environ)
    directory = _demo_directory(directory)
    config_path = directory / "config.yaml"
    port = _saved_port(directory)
    level = "info" if app_ctx.verbosity > 0 else "warning"
    configure_logging(app_ctx.log_format or "auto", level, stream=app_ctx.stderr, environ=env)
    with FakeHub.start(data_dir=directory / "fakehub", seed="demo", port=port) as hub:
        (directory / "fakehub.port").write_text(f"{hub.port}\n")
        _write_config(config_path, directory, hub.base_url, agent, env)
        app_ctx.echo(f"ghw demo in {directory}")
        app_ctx.echo(
            f"  embedded GitHub (fakehub) at {hub.base_url}, data in {directory / 'fakehub'}"
        )
        app_ctx.echo(f"  config {config_path} (agent: {agent}; dummy token, no network)")
        app_ctx.echo("")
        orch = WorkOrchestrator(
            config_path=config_path,
            environ=env,
            stdout=app_ctx.stdout,
            progress=terminal_progress(app_ctx.stdout, env),
        )
        config = orch.load_config()
        check_agents_installed(config, orch.phases, env)

        async def go() -> Any:
            orch.install_signal_handlers()
            return await orch.run_once()

        result = asyncio.run(go())
        new_urls = list(result.pr_urls)
        if not result.interrupted and config["followup.enabled"]:
            result = _follow_up_round(app_ctx, hub, orch, config, result)
        asyncio.run(_summary(app_ctx, config, new_urls))
    app_ctx.echo("")
    _show_history(app_ctx, config_path, config.ledger_path)
    app_ctx.echo("")
    app_ctx.echo("Run it again: it opens no second PR (the ledger and fakehub's data persist).")
    app_ctx.echo(f"Look around:  ghw --config {config_path} status")
    if result.interrupted:
        return 130
    return 0 if result.ok else 1


# The demo's follow-up round (§12): a trusted reviewer asks for one more change on one PR.
_DEMO_REVIEWER = "alice"  # a MEMBER of demo/calc in the demo seed
_DEMO_REVIEW = "Please also add a test that adds negative numbers."


async def _issue_view(config: Any, issue: str) -> Any:
    ledger = await Ledger.open(config.ledger_path, readonly=True)
    try:
        return await ledger.issue(issue)
    finally:
        await ledger.close()


def _follow_up_round(app_ctx: AppContext, hub: Any, orch: Any, config: Any, first: Any) -> Any:
    """Once per demo directory: the reviewer requests a change on demo/calc#1's PR; the next
    cycle records it, revises that same PR and replies; a review of the new head follows."""
    issue = f"{DEMO_REPO}#1"
    view = asyncio.run(_issue_view(config, issue))
    if view is None or view.pr_number is None or view.state != "reviewed" or view.rounds:
        return first  # no PR to follow up, or the round already happened in this directory
    app_ctx.echo("")
    app_ctx.echo(
        f"Follow-up: {_DEMO_REVIEWER} (MEMBER) requests a change on PR #{view.pr_number}: "
        f"{_DEMO_REVIEW!r}"
    )
    hub.control.add_review(
        DEMO_REPO,
        view.pr_number,
        "CHANGES_REQUESTED",
        _DEMO_REVIEW,
        author=_DEMO_REVIEWER,
        author_association="MEMBER",
        author_type="User",
    )
    app_ctx.echo("")
    second = asyncio.run(orch.run_once())  # sync records the review; revise runs the round
    if second.interrupted:
        return second
    again = asyncio.run(orch.run_once())  # the review of the revised head
    after = asyncio.run(_issue_view(config, issue))
    if after is not None and after.rounds:
        app_ctx.echo(
            f"Follow-up: PR #{after.pr_number} revised in round {after.rounds} on the same "
            f"branch and replied to; {after.feedback_handled} feedback item(s) handled, now "
            f"{after.state}."
        )
    for result in (second, again):
        if result.interrupted or not result.ok:
            return result
    return first


async def _summary(app_ctx: AppContext, config: Any, new_urls: list[str]) -> None:

    ledger = await Ledger.open(config.ledger_path, readonly=True)
    try:
        views = sorted(await ledger.issues(), key=lambda v: (v.repo, v.number))
    finally:
        await ledger.close()
    app_ctx.echo("")
    app_ctx.echo("Pull requests:")
    with_pr = [v for v in views if v.pr_url]
    if not with_pr:
        app_ctx.echo("  (none)")
    for v in with_pr:
        when = "opened now" if v.pr_url in new_urls else "already open"
        verdict = f", review: {v.verdict}" if v.verdict else ""
        app_ctx.echo(f"  {v.stream_id}  {v.pr_url}  ({v.state}{verdict}; {when})")
    skipped = [v for v in views if v.state == "skipped"]
    app_ctx.echo("Skipped (untrusted or not eligible; never shown to an agent):")
    if not skipped:
        app_ctx.echo("  (none)")
    for v in skipped:
        app_ctx.echo(f"  {v.stream_id}  {v.title!r} by {v.author} ({v.association})")
        app_ctx.echo(f"    reason: {v.skip_reason}")
    others = [v for v in views if not v.pr_url and v.state != "skipped"]
    for v in others:
        app_ctx.echo(f"  {v.stream_id}: {v.state} {v.last_error or ''}".rstrip())


def _show_history(app_ctx: AppContext, config_path: Path, ledger_path: Path) -> None:
    """What `ghw history` prints for the demo's first issue (the same printer)."""

    issue = f"{DEMO_REPO}#1"
    app_ctx.echo(f"History of {issue} (ghw --config {config_path} history {issue}):")

    async def read() -> tuple[Any, list[Any]]:
        ledger = await Ledger.open(ledger_path, readonly=True)
        try:
            return await ledger.issue(issue), await ledger.history(issue)
        finally:
            await ledger.close()

    view, events = asyncio.run(read())
    for line in history_lines(issue, view, events):
        app_ctx.echo(line)


def register(app: typer.Typer) -> None:
    @app.command(
        epilog="Examples:\n\n  ghw demo\n\n  ghw demo --dir /tmp/ghw-demo\n\n"
        "  ghw demo --agent claude-code"
    )
    def demo(
        ctx: typer.Context,
        dir_: Annotated[
            str,
            typer.Option("--dir", help="Where the demo keeps its config, ledger and fakehub data."),
        ] = "./ghw-demo",
        agent: Annotated[
            str,
            typer.Option(
                "--agent", help="scripted (no model), or e.g. claude-code where it is installed."
            ),
        ] = "scripted",
    ) -> None:
        """The full cycle offline: embedded GitHub, scripted agent, 3 PRs reviewed."""
        obj = ctx.find_root().obj
        assert isinstance(obj, AppContext)
        raise typer.Exit(run_demo(Path(dir_), agent=agent, app_ctx=obj, environ=obj.environ))
