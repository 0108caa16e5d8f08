"""`ghw sync|plan|implement|review|cycle|loop` and `ghw agents`: thin layers over the orchestrator."""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

import typer

from ghw import options
from ghw.agents import check_agents, ensure_installed, known_agents
from ghw.cli.context import AppContext, app_context, check_ledger_path
from ghw.errors import ConfigError
from ghw.logs import get_logger
from ghw.phases import registry
from ghw.phases.worker import agent_settings

__all__ = [
    "MAX_PARALLELISM",
    "AgentOpt",
    "DryRunOpt",
    "IssueOpt",
    "LabelOpt",
    "ParOpt",
    "PhasesOpt",
    "RepoOpt",
    "RunOptions",
    "SinceOpt",
    "check_agents_installed",
    "normalize_labels",
    "register",
    "with_run_options",
]

RepoOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--repo", help="owner/name or owner/* (repeatable); default: the registered ones."
    ),
]
SinceOpt = Annotated[
    str | None, typer.Option("--since", help="Only issues updated since (ISO-8601).")
]
IssueOpt = Annotated[
    list[str] | None, typer.Option("--issue", help="Issue number or range N-M (repeatable).")
]
LabelOpt = Annotated[
    list[str] | None, typer.Option("--label", help="Only issues with this label (repeatable).")
]
PhasesOpt = Annotated[
    str | None,
    typer.Option("--phases", help=f"Comma-separated subset of {','.join(registry.NAMES)}."),
]
DryRunOpt = Annotated[
    bool, typer.Option("--dry-run", help="Show what each phase would take; change nothing.")
]
AgentOpt = Annotated[
    str | None, typer.Option("--agent", help="Agent for every phase (overrides the config).")
]
# every unit is an agent process (and a worker task): more than this is a typo, not a plan
MAX_PARALLELISM = 64
ParOpt = Annotated[
    int | None,
    typer.Option(
        "--parallelism",
        help=f"Agents at once per phase (1-{MAX_PARALLELISM}).",
        min=1,
        max=MAX_PARALLELISM,
    ),
]


@dataclass(frozen=True)
class RunOptions:
    """The filters and overrides every phase, cycle and loop command takes (§6), as typed."""

    repo: list[str] | None = None
    since: str | None = None
    issue: list[str] | None = None
    label: list[str] | None = None
    dry_run: bool = False
    agent: str | None = None
    parallelism: int | None = None


# name -> typer annotation of each run option, in the order `--help` lists them
_RUN_OPTIONS: tuple[tuple[str, Any], ...] = (
    ("repo", RepoOpt),
    ("since", SinceOpt),
    ("issue", IssueOpt),
    ("label", LabelOpt),
    ("dry_run", DryRunOpt),
    ("agent", AgentOpt),
    ("parallelism", ParOpt),
)


def with_run_options(func: Callable[..., None]) -> Callable[..., None]:
    """Declare the run options once: the command's signature gains them (so typer parses
    them) and the command receives them as one ``opts: RunOptions``."""
    # annotations evaluated now: typer reads a given __signature__ as it is
    signature = inspect.signature(func, eval_str=True)
    own = [p for p in signature.parameters.values() if p.name != "opts"]
    defaults = RunOptions()
    shared = [
        inspect.Parameter(
            name,
            inspect.Parameter.KEYWORD_ONLY,
            default=getattr(defaults, name),
            annotation=annotation,
        )
        for name, annotation in _RUN_OPTIONS
    ]

    @functools.wraps(func)
    def command(*args: Any, **kwargs: Any) -> None:
        opts = RunOptions(**{name: kwargs.pop(name) for name, _ in _RUN_OPTIONS})
        func(*args, opts=opts, **kwargs)

    command.__signature__ = signature.replace(parameters=[*own, *shared])  # type: ignore[attr-defined]
    return command


def normalize_labels(values: list[str] | None) -> list[str]:
    """``--label`` values as GitHub compares them: case-insensitively (ADR 0005), so lower-cased;
    blanks dropped, duplicates once."""
    return list(dict.fromkeys(v.strip().lower() for v in values or () if v.strip()))


def _orchestrator(app_ctx: AppContext, phases: str | tuple[str, ...], opts: RunOptions) -> Any:
    # start-up: loaded on first use, not by every command
    from ghw.cli.progress import terminal_progress
    from ghw.orchestrator import WorkOrchestrator

    return WorkOrchestrator(
        config_path=app_ctx.config_option,
        repos=opts.repo or None,
        since=opts.since,
        issue_numbers=opts.issue or None,
        labels=normalize_labels(opts.label) or None,
        phases=phases,
        dry_run=opts.dry_run,
        agent=opts.agent,
        parallelism=opts.parallelism,
        environ=app_ctx.environ,
        stdout=app_ctx.stdout,
        progress=terminal_progress(app_ctx.stdout, app_ctx.environ),
    )


def check_agents_installed(
    config: Any, phases: tuple[str, ...], environ: Mapping[str, str] | None = None
) -> None:
    """A configured agent whose CLI is missing is an error (exit 2) before any work starts,
    only for the phases that will run it."""

    for phase in phases:
        if phase in registry.AGENT_PHASES:
            ensure_installed(agent_settings(config, config.agent_for(phase)), environ)


def _prepare(app_ctx: AppContext, orch: Any) -> Any:
    """Everything that can be wrong before any work: exit 2, nothing written to the ledger."""

    try:
        # configuration errors, a missing GitHub token and missing prompt or script files:
        # exit 2 before any work (the orchestrator checks them at every cycle's start too)
        config = orch.load_config()
    except ConfigError as exc:
        app_ctx.setup_logging(None)  # the file's log settings are what failed to load
        get_logger().critical("configuration error", error=exc.message)
        raise
    app_ctx.setup_logging(config)
    try:
        check_ledger_path(config.ledger_path)
    except ConfigError as exc:
        get_logger().critical("configuration error", error=exc.message)
        raise
    if not orch.dry_run:
        check_agents_installed(config, orch.phases, orch.environ)
    return config


async def _with_signals(orch: Any, coro_factory: Any) -> Any:
    orch.install_signal_handlers()
    return await coro_factory()


def _exit_code(ok: bool, interrupted: bool) -> int:
    if interrupted:
        return 130
    return 0 if ok else 1


def _phase_command(name: str) -> Any:
    @with_run_options
    def command(ctx: typer.Context, *, opts: RunOptions) -> None:
        app_ctx = app_context(ctx)
        orch = _orchestrator(app_ctx, (name,), opts)
        _prepare(app_ctx, orch)
        result = asyncio.run(_with_signals(orch, orch.run_phases))
        raise typer.Exit(_exit_code(result.ok, result.interrupted))

    command.__doc__ = registry.BY_NAME[name].help
    command.__name__ = name
    return command


def register(app: typer.Typer) -> None:
    for phase in registry.PHASES:
        examples = "\n\n  ".join(phase.examples)
        app.command(name=phase.name, help=phase.help, epilog=f"Examples:\n\n  {examples}")(
            _phase_command(phase.name)
        )

    @app.command(
        epilog="Examples:\n\n  ghw cycle\n\n  ghw cycle --repo octocat/hello-world --issue 42\n\n  ghw cycle --phases sync,plan --dry-run"
    )
    @with_run_options
    def cycle(ctx: typer.Context, phases: PhasesOpt = None, *, opts: RunOptions) -> None:
        """One full cycle: sync → plan → implement → review → revise."""
        app_ctx = app_context(ctx)
        orch = _orchestrator(app_ctx, phases or registry.NAMES, opts)
        _prepare(app_ctx, orch)
        result = asyncio.run(_with_signals(orch, orch.run_cycle))
        if result.config_error:
            raise typer.Exit(2)
        raise typer.Exit(_exit_code(result.ok, result.interrupted))

    @app.command(
        epilog="Examples:\n\n  ghw loop --every 30m\n\n  ghw loop --cron '*/15 * * * *'\n\n  ghw loop --every 1h --max-cycles 24 --repo octocat/*"
    )
    @with_run_options
    def loop(
        ctx: typer.Context,
        every: Annotated[
            str | None,
            typer.Option("--every", help="Wait this long after each cycle ends (e.g. 30m, 1h30m)."),
        ] = None,
        cron: Annotated[
            str | None,
            typer.Option("--cron", help="Start cycles at times matching this cron expression."),
        ] = None,
        max_cycles: Annotated[
            int | None, typer.Option("--max-cycles", help="Stop after this many cycles.", min=1)
        ] = None,
        phases: PhasesOpt = None,
        *,
        opts: RunOptions,
    ) -> None:
        """Run cycles until interrupted: --every waits after each cycle; --cron follows a schedule."""

        options.schedule(every, cron)  # validated before any work, as the loop will read it
        app_ctx = app_context(ctx)
        orch = _orchestrator(app_ctx, phases or registry.NAMES, opts)
        _prepare(app_ctx, orch)
        stats = asyncio.run(
            _with_signals(
                orch, lambda: orch.run_continuous(every, cron=cron, max_cycles=max_cycles)
            )
        )
        if stats.interrupted:
            raise typer.Exit(130)
        raise typer.Exit(0 if stats.failed == 0 else 1)

    @app.command(epilog="Examples:\n\n  ghw agents\n\n  ghw agents --check")
    def agents(
        ctx: typer.Context,
        check: Annotated[
            bool,
            typer.Option("--check", help="Exit 1 when an agent a phase uses is not installed."),
        ] = False,
        as_json: Annotated[
            bool, typer.Option("--json", help="Print machine-readable JSON.")
        ] = False,
    ) -> None:
        """Configured agents and whether their CLIs are installed (version, how to install)."""

        app_ctx = app_context(ctx)
        config = app_ctx.load_config()
        used: dict[str, list[str]] = {}
        for phase in registry.AGENT_PHASES:
            used.setdefault(config.agent_for(phase), []).append(phase)
        names = list(dict.fromkeys([*used, *known_agents()]))
        settings = {name: agent_settings(config, name) for name in names}
        rows = asyncio.run(check_agents(settings, used, app_ctx.environ))
        if as_json:
            app_ctx.json(
                [
                    {
                        "name": r.name,
                        "phases": list(r.phases),
                        "command": r.command,
                        "installed": r.installed,
                        "version": r.version,
                        "path": r.path,
                        "install": r.install_hint,
                    }
                    for r in rows
                ]
            )
        else:
            for r in rows:
                status = f"installed {r.version or ''}".strip() if r.installed else "NOT INSTALLED"
                phases_text = ",".join(r.phases) or "-"
                app_ctx.echo(f"{r.name:<14} {phases_text:<24} {status:<28} {r.command}")
                if not r.installed:
                    app_ctx.echo(f"{'':<14} install: {r.install_hint}")
        if check and any(not r.installed and r.phases for r in rows):
            raise typer.Exit(1)
