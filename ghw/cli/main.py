"""The ``ghw`` command line: parse, call, print. The work happens elsewhere."""

from __future__ import annotations

import asyncio
import errno
import os
import socket
import sys
import traceback
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import click
import typer
import yaml

from ghw import __version__
from ghw.cli.config_cmd import app as config_app
from ghw.cli.context import (
    AppContext,
    StdoutClosed,
    app_context,
    make_directory,
)
from ghw.cli.demo import register as register_demo
from ghw.cli.fakehub_cmd import app as fakehub_app
from ghw.cli.ledger_cmd import app as ledger_app
from ghw.cli.render import counts_text, history_json, history_lines, tidy_help
from ghw.cli.workflow import register
from ghw.errors import GhwError, IllegalTransitionError, UsageError
from ghw.ledger.records import Holder, ReplayReport
from ghw.ledger.store import default_is_alive
from ghw.machine.events import (
    Held,
    LoopHeld,
    LoopReleased,
    Released,
    RepositoryAdded,
    RepositoryRemoved,
    RetryRequested,
)
from ghw.machine.states import FAILED, State
from ghw.refs import MAX_ISSUE_NUMBER, parse_issue_ref, validate_repo_or_pattern
from ghw.streams import silence_stream

__all__ = [
    "CONFIG_TEMPLATE",
    "EXIT_STDOUT_CLOSED",
    "GLOBAL_FLAGS",
    "GLOBAL_VALUE_OPTIONS",
    "HELP_EXAMPLES",
    "JsonOpt",
    "RepoOpt",
    "app",
    "cycle_status",
    "history",
    "hoist_global_options",
    "hold",
    "init",
    "main",
    "release",
    "replay",
    "repo_add",
    "repo_app",
    "repo_list",
    "repo_remove",
    "retry",
    "status",
]

app = typer.Typer(
    name="ghw",
    help=(
        "Turn GitHub issues into reviewed pull requests with coding agents; every step is an "
        "event in an append-only SQLite ledger.\n\n"
        "Examples:\n\n"
        "  ghw init --issues-path ~/ghw\n\n"
        "  ghw repo add octocat/hello-world\n\n"
        "  ghw cycle\n\n"
        "  ghw status --json"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
repo_app = typer.Typer(
    help="Manage registered repositories (events in the ledger).",
    epilog="Examples:\n\n  ghw repo add octocat/hello-world\n\n  ghw repo list --json\n\n"
    "  ghw repo remove octocat/hello-world",
    no_args_is_help=True,
)
app.add_typer(repo_app, name="repo")


def _mount() -> None:

    register(app)
    register_demo(app)
    app.add_typer(config_app, name="config")
    app.add_typer(ledger_app, name="ledger")
    app.add_typer(fakehub_app, name="fakehub")


_mount()

JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
RepoOpt = Annotated[
    str | None, typer.Option("--repo", help="Repository (owner/name) for a bare issue number.")
]
GLOBAL_VALUE_OPTIONS = ("--config", "--log-format")
GLOBAL_FLAGS = ("-v", "--verbose", "-q", "--quiet", "-vv")


def _run(coro: Any) -> Any:
    return asyncio.run(coro)


def _show_version(ctx: typer.Context, value: bool) -> None:
    if not value:
        return

    obj = ctx.obj if isinstance(ctx.obj, AppContext) else AppContext()
    obj.echo(f"ghw {__version__}")
    raise typer.Exit()


@app.callback()
def _global(
    ctx: typer.Context,
    _version: Annotated[
        bool,
        typer.Option(
            "--version", is_eager=True, callback=_show_version, help="Print ghw's version."
        ),
    ] = False,
    config: Annotated[
        str | None,
        typer.Option(
            "--config", help="Config file (default $GHW_CONFIG, else ~/.config/ghw/config.yaml)."
        ),
    ] = None,
    log_format: Annotated[
        str | None,
        typer.Option(
            "--log-format",
            help="Logs on stderr: auto, human or json.",
            click_type=click.Choice(["auto", "human", "json"]),
        ),
    ] = None,
    verbose: Annotated[
        int, typer.Option("-v", "--verbose", count=True, help="More log output.")
    ] = 0,
    quiet: Annotated[int, typer.Option("-q", "--quiet", count=True, help="Less log output.")] = 0,
) -> None:
    obj = ctx.obj if isinstance(ctx.obj, AppContext) else AppContext()
    obj.config_option = config
    obj.log_format = log_format
    obj.verbosity = verbose - quiet
    ctx.obj = obj


# --- init ---------------------------------------------------------------------------------------

CONFIG_TEMPLATE = """\
# ghw configuration. Every key, its default and its source: `ghw config show`.
# Keys can also come from the environment: GHW_ + the key upper-cased, '.' and '-' as '_'.
issues_path: {issues_path}

# Repositories to work on (owner/name; owner/* for all of an owner's):
repos: []

# github:
#   api_url: https://api.github.com   # Enterprise: https://HOST/api/v3
#   token_env: [GITHUB_TOKEN, GH_TOKEN]

# agent:
#   default: claude-code               # or codex, gemini, opencode, command, scripted

# policy:
#   trusted_associations: [OWNER, MEMBER, COLLABORATOR]
#   max_new_per_cycle: 5
"""


@app.command(
    epilog="Examples:\n\n  ghw init --issues-path ~/ghw\n\n  ghw --config ./ghw.yaml init --issues-path ./issues --force"
)
def init(
    ctx: typer.Context,
    issues_path: Annotated[
        str | None,
        typer.Option("--issues-path", help="Directory for issue files, workspaces and the ledger."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite an existing config file.")
    ] = False,
) -> None:
    """Write the config file and create the ledger."""
    app_ctx = app_context(ctx)
    path = app_ctx.config_path
    if path.exists() and not force:
        raise UsageError(
            f"the config file {path} already exists; pass --force to overwrite it (its old content is then lost)"
        )
    chosen = issues_path or app_ctx.environ.get("GHW_ISSUES_PATH")
    if not chosen:
        raise UsageError(
            "ghw init needs --issues-path DIR (where ghw keeps issue files, workspaces and its ledger)"
        )
    issues_dir = Path(chosen).expanduser().resolve()
    # start-up: loaded on first use, not by every command
    from ghw.config.edit import write_atomic

    make_directory(issues_dir, "--issues-path", "issue files, workspaces and the ledger")
    existed = path.exists()
    try:
        write_atomic(path, CONFIG_TEMPLATE.format(issues_path=_yaml_str(str(issues_dir))))
    except OSError as exc:
        raise UsageError(
            f"cannot write the config file {path} ({exc.strerror or exc}): choose a writable "
            "place with --config FILE (or GHW_CONFIG)"
        ) from None

    async def create() -> None:
        # only --force may initialise an existing empty or schema-less ledger file
        async with app_ctx.ledger(config, readonly=False, worker="cli:init", initialize=force):
            pass

    try:
        config = app_ctx.load_config()
        _run(create())
    except GhwError:
        if not existed:  # leave no half-done init behind: the same command can run again
            path.unlink(missing_ok=True)
        raise
    app_ctx.echo(f"wrote {path}")
    app_ctx.echo(f"ledger {config.ledger_path}")


def _yaml_str(text: str) -> str:

    return yaml.safe_dump(text, default_flow_style=True).strip().removesuffix("\n...").strip()


# --- repo ---------------------------------------------------------------------------------------


@repo_app.command("add", epilog="Example:\n\n  ghw repo add octocat/hello-world")
def repo_add(ctx: typer.Context, name: Annotated[str, typer.Argument(help="owner/name")]) -> None:
    """Register a repository."""

    app_ctx = app_context(ctx)
    name = validate_repo_or_pattern(name)  # lower-cased: GitHub's names are case-insensitive
    config = app_ctx.load_config()

    async def go() -> bool:
        async with app_ctx.ledger(config, readonly=False, worker="cli:repo") as ledger:
            view = await ledger.view(name)
            if view is not None and view.registered:
                return False
            await ledger.append(name, view.version if view else 0, [RepositoryAdded(by=_by())])
            return True

    app_ctx.echo(f"added {name}" if _run(go()) else f"{name} is already registered")


@repo_app.command("remove", epilog="Example:\n\n  ghw repo remove octocat/hello-world")
def repo_remove(
    ctx: typer.Context, name: Annotated[str, typer.Argument(help="owner/name")]
) -> None:
    """Unregister a repository (its issues and history stay in the ledger)."""

    app_ctx = app_context(ctx)
    name = validate_repo_or_pattern(name)
    config = app_ctx.load_config()

    async def go() -> bool:
        async with app_ctx.ledger(config, readonly=False, worker="cli:repo") as ledger:
            view = await ledger.view(name)
            if view is None or not view.registered:
                return False
            await ledger.append(name, view.version, [RepositoryRemoved(by=_by())])
            return True

    if _run(go()):
        app_ctx.echo(f"removed {name}")
    elif name in _config_repos(config):
        raise UsageError(f"{name} is listed under `repos` in {config.path}; remove it there")
    else:
        raise UsageError(f"{name} is not registered (see `ghw repo list`)")


@repo_app.command(
    "list", epilog="Examples:\n\n  ghw repo list\n\n  ghw repo list --json | jq '.[].repo'"
)
def repo_list(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Registered repositories: the config's `repos` plus those added with `ghw repo add`."""
    app_ctx = app_context(ctx)
    config = app_ctx.load_config()

    async def go() -> list[dict[str, Any]]:
        rows: dict[str, dict[str, Any]] = {}
        for name in _config_repos(config):
            rows[name] = {"repo": name, "source": "config", "last_sync": None}
        if config.ledger_path.exists():
            async with app_ctx.ledger(config, readonly=True) as ledger:
                for view in await ledger.repos():
                    entry = rows.get(view.stream_id)
                    if view.registered and entry is None:
                        entry = rows[view.stream_id] = {
                            "repo": view.stream_id,
                            "source": "ledger",
                            "last_sync": None,
                        }
                    if entry is not None:
                        entry["last_sync"] = view.last_sync
        return [rows[k] for k in sorted(rows)]

    rows = _run(go())
    if as_json:
        app_ctx.json(rows)
        return
    if not rows:
        app_ctx.echo("no repositories registered; add one with `ghw repo add owner/name`")
    for row in rows:
        app_ctx.echo(f"{row['repo']}\t{row['source']}\tlast sync {row['last_sync'] or 'never'}")


def _config_repos(config: Any) -> list[str]:
    """The config's `repos`, lower-cased like every name ghw uses (ADR 0005)."""
    return list(dict.fromkeys(str(name).lower() for name in config["repos"]))


# --- status / history / replay ------------------------------------------------------------------


@app.command(epilog="Examples:\n\n  ghw status\n\n  ghw status --json | jq .failures")
def status(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Issues per state per repository, failures and next retries, leases, cost, last cycles."""
    app_ctx = app_context(ctx)
    config = app_ctx.load_config()
    path = config.ledger_path
    data: dict[str, Any] = {
        "ledger": str(path),
        "repos": [],
        "failures": [],
        "leases": [],
        "cost_usd": 0.0,
        "cycles": [],
    }
    if path.exists():
        data = _run(_status_data(app_ctx, config))
    if as_json:
        app_ctx.json(data)
        return
    _print_status(app_ctx, data, exists=path.exists())


async def _status_data(app_ctx: AppContext, config: Any) -> dict[str, Any]:

    host = socket.gethostname()
    registered = set(_config_repos(config))
    async with app_ctx.ledger(config, readonly=True) as ledger:
        repos: dict[str, dict[str, Any]] = {}
        for view in await ledger.repos():
            if view.registered:
                registered.add(view.stream_id)
            repos[view.stream_id] = {
                "repo": view.stream_id,
                "last_sync": view.last_sync,
                "states": {},
            }
        for repo, state, count in await ledger.state_counts():
            entry = repos.setdefault(repo, {"repo": repo, "last_sync": None, "states": {}})
            entry["states"][state] = count
        for name in registered:  # registered but never synced: listed too
            repos.setdefault(name, {"repo": name, "last_sync": None, "states": {}})
        for name, entry in list(repos.items()):
            # removed with `ghw repo remove`, or only ever named with --repo: listed (and marked)
            # only while it has issues in the ledger, whose history stays
            entry["registered"] = name in registered
            if not entry["registered"] and not entry["states"]:
                del repos[name]
        failures = [
            {
                "issue": v.stream_id,
                "state": v.state,
                "attempts": v.attempts,
                "next_retry": v.next_retry_at,
                "error": v.last_error,
            }
            for v in await ledger.issues(states=sorted(FAILED))
        ]
        leases = [
            {
                "issue": lease.stream_id,
                "phase": lease.phase,
                "holder": {
                    "host": lease.holder.host,
                    "pid": lease.holder.pid,
                    "worker": lease.holder.worker,
                },
                "expires": datetime.fromtimestamp(lease.expires_at, UTC).strftime(
                    "%Y-%m-%dT%H:%M:%SZ"
                ),
                # a process of this host that is gone (pid gone or reused); another host's
                # holder is presumed alive until its lease expires
                "holder_alive": default_is_alive(lease.holder, host),
            }
            for lease in await ledger.leases()
        ]
        cycles = [
            {
                "id": c.stream_id.removeprefix("cycle:"),
                "started": c.started,
                "ended": c.ended,
                "ok": c.ok,
                "counts": c.counts,
                "cost_usd": c.cost_usd,
                "status": cycle_status(c, host),
            }
            for c in await ledger.cycles(10)
        ]
        held = [
            {"issue": v.stream_id, "reason": v.held_reason, "from": v.held_from}
            for v in await ledger.issues(states=["held"])
        ]
        views = await ledger.issues()
        changed = [v.stream_id for v in views if v.changed_since_plan]
        loop = await ledger.view("loop")
        return {
            "ledger": str(ledger.path),
            "repos": [repos[k] for k in sorted(repos)],
            "failures": failures,
            "leases": leases,
            "cost_usd": round(await ledger.total_cost(), 6),
            "cycles": cycles,
            "held": held,
            "changed_since_plan": changed,
            "loop_held": bool(loop and loop.held),
            "pull_requests": [_pull_request_row(v) for v in views if v.pr_number is not None],
        }


def _pull_request_row(view: Any) -> dict[str, Any]:
    """One PR ghw opened or adopted, across all its rounds (§12): its cost is the issue's whole
    life (plan, implement, every review and revision)."""
    return {
        "issue": view.stream_id,
        "pr": view.pr_number,
        "url": view.pr_url,
        "state": view.state,
        "rounds": view.rounds,
        "feedback_waiting": len(view.feedback_waiting),
        "feedback_handled": view.feedback_handled,
        "feedback_ignored": view.feedback_ignored,
        "ci": view.ci or None,
        "merged": bool(view.pr_merged_at),
        "merged_at": view.pr_merged_at or None,
        "cost_usd": round(view.cost_usd, 6),
    }


def cycle_status(cycle: Any, host: str) -> str:
    """``running``, ``ok``, ``failed``, ``interrupted`` (Ctrl+C/SIGTERM, ended cleanly) or
    ``aborted`` (no CycleCompleted, and the process that ran it is gone: killed, crashed)."""

    if cycle.ended is None:
        who = getattr(cycle, "holder", None) or {}
        if not who.get("pid"):
            return "running"  # no record of its process: it may still run
        holder = Holder(str(who.get("host") or ""), int(who["pid"]), who.get("start"))
        return "running" if default_is_alive(holder, host) else "aborted"
    if getattr(cycle, "interrupted", False):
        return "interrupted"
    return "ok" if cycle.ok else "failed"


def _print_status(app_ctx: AppContext, data: dict[str, Any], *, exists: bool) -> None:
    if not exists:
        app_ctx.echo(f"no ledger yet at {data['ledger']}: run `ghw init` or `ghw sync` first")
        return
    app_ctx.echo(f"ledger {data['ledger']}")
    if data.get("loop_held"):
        app_ctx.echo("loop: HELD (ghw release --all resumes it)")

    order = {s.value: i for i, s in enumerate(State)}
    app_ctx.echo("Issues per state:")
    if not data["repos"]:
        app_ctx.echo("  (no repositories yet: `ghw repo add owner/name`, then `ghw sync`)")
    for r in data["repos"]:
        counts = " · ".join(
            f"{s} {n}" for s, n in sorted(r["states"].items(), key=lambda kv: order.get(kv[0], 99))
        )
        mark = "" if r.get("registered", True) else "  [not registered: history only]"
        app_ctx.echo(
            f"  {r['repo']}  (last sync {r['last_sync'] or 'never'})  {counts or 'no issues'}{mark}"
        )
    if data["failures"]:
        app_ctx.echo("Failures:")
        for f in data["failures"]:
            retry = f"retry at {f['next_retry']}" if f["next_retry"] else "waits for `ghw retry`"
            app_ctx.echo(
                f"  {f['issue']}  {f['state']}  attempts {f['attempts']}  {retry}  {f['error'] or ''}".rstrip()
            )
    if data.get("held"):
        app_ctx.echo("Held:")
        for h in data["held"]:
            back = f"  (returns to {h['from']})" if h["from"] else ""
            app_ctx.echo(f"  {h['issue']}  reason {h['reason'] or '-'}{back}")
    if data.get("changed_since_plan"):
        app_ctx.echo("Changed since plan: " + ", ".join(data["changed_since_plan"]))
    if data["leases"]:
        app_ctx.echo("Leases:")
        for lease in data["leases"]:
            h = lease["holder"]
            dead = "" if lease.get("holder_alive", True) else " (holder dead)"
            app_ctx.echo(
                f"  {lease['issue']}  {lease['phase']}  pid {h['pid']}@{h['host']}{dead}  "
                f"until {lease['expires']}"
            )
    if data.get("pull_requests"):
        app_ctx.echo("Pull requests:")
        for pr in data["pull_requests"]:
            merged = "merged" if pr["merged"] else pr["state"]
            feedback = (
                f"feedback {pr['feedback_handled']} handled, {pr['feedback_ignored']} ignored"
                + (f", {pr['feedback_waiting']} waiting" if pr["feedback_waiting"] else "")
            )
            ci = f"  CI {pr['ci']}" if pr["ci"] else ""
            app_ctx.echo(
                f"  {pr['issue']}  PR #{pr['pr']}  {merged}  rounds {pr['rounds']}  {feedback}"
                f"{ci}  ${pr['cost_usd']:.4f}"
            )
    app_ctx.echo(f"Cost so far: ${data['cost_usd']:.4f}")
    if data["cycles"]:
        app_ctx.echo("Last cycles:")
        for c in data["cycles"]:
            result = c.get("status") or (
                "running" if c["ok"] is None else ("ok" if c["ok"] else "failed")
            )
            counts = counts_text(c["counts"])
            app_ctx.echo(
                f"  {c['id']}  {c['started']}  {result}  ${c['cost_usd']:.4f}"
                + (f"  {counts}" if counts else "")
            )


@app.command(
    epilog="Examples:\n\n  ghw history octocat/hello-world#42\n\n  ghw history 42 --repo octocat/hello-world --json"
)
def history(
    ctx: typer.Context,
    issue: Annotated[str, typer.Argument(help="owner/repo#42, an issue URL, or 42 with --repo")],
    repo: Annotated[
        str | None, typer.Option("--repo", help="Repository for a bare issue number.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """The issue's full audit trail, oldest first."""
    app_ctx = app_context(ctx)
    ref = parse_issue_ref(issue, repo)
    config = app_ctx.load_config()

    async def go() -> tuple[Any, list[Any]]:
        async with app_ctx.ledger(config, readonly=True) as ledger:
            return await ledger.issue(ref.stream_id), await ledger.history(ref.stream_id)

    view, events = _run(go())
    if not events:
        raise GhwError(f"{ref} has no history in {config.ledger_path} (not synced yet?)")
    if as_json:
        app_ctx.json(history_json(ref.stream_id, view.state if view else None, events))
        return
    for line in history_lines(str(ref), view, events):
        app_ctx.echo(line)


@app.command(
    epilog="Examples:\n\n  ghw replay\n\n  ghw replay --verify\n\n  ghw replay --until 1200 --json"
)
def replay(
    ctx: typer.Context,
    verify: Annotated[
        bool,
        typer.Option(
            "--verify", help="Rebuild in memory, compare, check the hash chain; write nothing."
        ),
    ] = False,
    until: Annotated[
        int | None,
        typer.Option("--until", help="Show the state as of this seq; write nothing.", min=0),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Rebuild projections from the events alone (or prove they match)."""
    # start-up: loaded on first use, not by every command
    from ghw.ledger.replay import replay as run_replay

    app_ctx = app_context(ctx)
    if until is not None and until > MAX_ISSUE_NUMBER:
        raise UsageError(
            f"--until {until} is larger than any seq can be (at most {MAX_ISSUE_NUMBER}): give a "
            "seq from `ghw history ISSUE` or `ghw replay --json`"
        )
    config = app_ctx.load_config()
    readonly = verify or until is not None

    async def go() -> ReplayReport:
        async with app_ctx.ledger(config, readonly=readonly, worker="cli:replay") as ledger:
            return await run_replay(ledger, verify=verify, until=until)

    report: ReplayReport = _run(go())
    if as_json:
        app_ctx.json(
            {
                "events": report.events,
                "streams": report.streams,
                "until": report.until,
                "verified": report.verified,
                "first_bad_seq": report.first_bad_seq,
                "seconds": report.seconds,
                "issues": report.issues,
                "problem": report.problem,
            }
        )
    else:
        app_ctx.echo(f"{report.events} events, {report.streams} streams, {report.seconds:.3f}s")
        if until is not None:
            for row in report.issues:
                app_ctx.echo(f"  {row['issue']}  {row['state']}  v{row['version']}")
        if verify:
            if report.verified:
                app_ctx.echo("verified: the hash chain holds and the projections match the events")
            else:
                app_ctx.echo(
                    f"NOT verified: first bad seq {report.first_bad_seq}: {report.problem}"
                )
        elif until is None:
            app_ctx.echo("projections rebuilt from the events")
    if verify and not report.verified:
        raise typer.Exit(1)


# --- operator controls --------------------------------------------------------------------------


def _by() -> str:
    return os.environ.get("USER") or "operator"


def _operator(
    ctx: typer.Context, issue: str | None, repo: str | None, event: Any, verb: str
) -> None:
    app_ctx = app_context(ctx)
    if issue is None:
        raise UsageError(f"ghw {verb} needs an ISSUE (owner/repo#N) or --all")
    ref = parse_issue_ref(issue, repo)
    config = app_ctx.load_config()

    async def go() -> str:
        async with app_ctx.ledger(config, readonly=False, worker=f"cli:{verb}") as ledger:
            view = await ledger.issue(ref.stream_id)
            if view is None:
                raise UsageError(f"{ref} is not in the ledger (run `ghw sync` first)")
            try:
                await ledger.append(ref.stream_id, view.version, [event])
            except IllegalTransitionError:
                raise UsageError(
                    f"cannot {verb} {ref}: it is {view.state}"
                    + (" (only failed or held issues can be retried)" if verb == "retry" else "")
                ) from None
            new = await ledger.issue(ref.stream_id)
            return f"{ref}: {view.state} -> {new.state if new else '?'}"

    app_ctx.echo(_run(go()))


def _loop_control(ctx: typer.Context, held: bool, reason: str) -> None:
    app_ctx = app_context(ctx)
    config = app_ctx.load_config()

    async def go() -> str:
        async with app_ctx.ledger(config, readonly=False, worker="cli:hold") as ledger:
            view = await ledger.view("loop")
            if bool(view and view.held) == held:
                if held:
                    return "the loop is already held (`ghw release --all` releases it)"
                return "the loop is not held: nothing to release (`ghw hold --all` holds it)"
            event = LoopHeld(reason=reason, by=_by()) if held else LoopReleased(by=_by())
            await ledger.append("loop", view.version if view else 0, [event])
            return (
                "loop held: running steps finish, no new step starts" if held else "loop released"
            )

    app_ctx.echo(_run(go()))


@app.command(epilog="Example:\n\n  ghw retry octocat/hello-world#42")
def retry(
    ctx: typer.Context,
    issue: Annotated[str, typer.Argument(help="owner/repo#42, a URL, or 42 with --repo")],
    repo: RepoOpt = None,
) -> None:
    """Retry a failed or held issue now, with its attempts reset."""
    _operator(ctx, issue, repo, RetryRequested(by=_by()), "retry")


@app.command(
    epilog="Examples:\n\n  ghw hold octocat/hello-world#42 --reason 'needs design'\n\n  ghw hold --all"
)
def hold(
    ctx: typer.Context,
    issue: Annotated[
        str | None, typer.Argument(help="owner/repo#42, a URL, or 42 with --repo")
    ] = None,
    repo: RepoOpt = None,
    all_: Annotated[bool, typer.Option("--all", help="Pause the loop between steps.")] = False,
    reason: Annotated[
        str, typer.Option("--reason", help="Why (shown by status and history).")
    ] = "operator",
) -> None:
    """Pause an issue (or, with --all, the whole loop)."""
    if all_:
        _loop_control(ctx, True, reason)
    else:
        _operator(ctx, issue, repo, Held(reason=reason, by=_by()), "hold")


@app.command(epilog="Examples:\n\n  ghw release octocat/hello-world#42\n\n  ghw release --all")
def release(
    ctx: typer.Context,
    issue: Annotated[
        str | None, typer.Argument(help="owner/repo#42, a URL, or 42 with --repo")
    ] = None,
    repo: RepoOpt = None,
    all_: Annotated[bool, typer.Option("--all", help="Resume the loop.")] = False,
) -> None:
    """Release a held issue (or, with --all, the loop)."""
    if all_:
        _loop_control(ctx, False, "")
    else:
        _operator(ctx, issue, repo, Released(by=_by()), "release")


# --- entry point --------------------------------------------------------------------------------


def hoist_global_options(argv: Sequence[str]) -> list[str]:
    """Move global options found after the subcommand to the front, so they work anywhere."""
    front: list[str] = []
    rest: list[str] = []
    i = 0
    args = list(argv)
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest.extend(args[i:])
            break
        name = arg.split("=", 1)[0]
        if name in GLOBAL_VALUE_OPTIONS:
            if "=" in arg:
                front.append(arg)
            elif i + 1 < len(args):
                front.extend([arg, args[i + 1]])
                i += 1
            else:
                front.append(arg)
        elif (
            arg in GLOBAL_FLAGS
            or (arg.startswith("-v") and set(arg[1:]) == {"v"})
            or (arg.startswith("-q") and set(arg[1:]) == {"q"})
        ):
            front.append(arg)
        else:
            rest.append(arg)
        i += 1
    return front + rest


# Examples for commands defined elsewhere whose help has none (used only while it has none).
HELP_EXAMPLES = {
    "config": "Examples:\n\n  ghw config show\n\n  ghw config validate\n\n"
    "  ghw config set plan.parallelism 4",
    "config show": "Examples:\n\n  ghw config show\n\n  ghw config show --json | jq .values",
    "config validate": "Examples:\n\n  ghw config validate\n\n"
    "  ghw --config ./ghw.yaml config validate",
    "ledger": "Examples:\n\n  ghw ledger init\n\n  ghw ledger backup ~/backups/ghw-$(date +%F).db",
}

EXIT_STDOUT_CLOSED = 141  # 128 + SIGPIPE, what other CLIs exit with when their reader goes away


def _stdout_closed(app_ctx: AppContext) -> int:
    """stdout's reader went away: no traceback, and nothing left to fail at exit."""
    silence_stream(app_ctx.stdout)
    return EXIT_STDOUT_CLOSED


def main(argv: Sequence[str] | None = None, *, context: AppContext | None = None) -> int:
    """Run ghw; returns the exit code (the console script exits with it)."""
    args = hoist_global_options(sys.argv[1:] if argv is None else argv)
    app_ctx = context or AppContext()
    command = tidy_help(typer.main.get_command(app), HELP_EXAMPLES)
    try:
        # without standalone mode click returns an Exit's code instead of raising it
        result = command.main(args=args, prog_name="ghw", standalone_mode=False, obj=app_ctx)
        return result if isinstance(result, int) else 0
    except StdoutClosed:
        return EXIT_STDOUT_CLOSED
    except BrokenPipeError:
        return _stdout_closed(app_ctx)
    except SystemExit as exc:
        # click turns an EPIPE raised while a command printed into sys.exit(1)
        cause = exc.__context__
        if isinstance(cause, OSError) and cause.errno == errno.EPIPE:
            return _stdout_closed(app_ctx)
        raise
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        exc.show(file=app_ctx.stderr)
        return exc.exit_code
    except click.exceptions.Abort:
        app_ctx.warn("interrupted")
        return 130
    except KeyboardInterrupt:
        app_ctx.warn("interrupted")
        return 130
    except GhwError as exc:
        app_ctx.warn(f"error: {exc.message}")
        return exc.exit_code
    except OSError as exc:
        # the surroundings, not ghw: a file or directory it could not read or write
        where = f" ({exc.filename})" if exc.filename else ""
        app_ctx.warn(
            f"error: {exc.strerror or exc}{where}: check that the path exists and that ghw may "
            "read and write it"
        )
        return 1
    except Exception:
        # a bug: the traceback is worth having, as plain text without local variables, and
        # scrubbed of secrets like every other line ghw prints (warn redacts)

        app_ctx.warn(
            "internal error (a bug in ghw; please report it with the lines below):\n"
            + traceback.format_exc().rstrip()
        )
        return 1
