"""The layer map of docs/architecture.md (product.md §1), checked on the code's own imports.

Every module under ``ghw/`` is parsed with ``ast``. An import counts wherever it is written
(module level or inside a function), except under ``if TYPE_CHECKING:``, which never runs.
Dynamic imports (``importlib.import_module`` in ``agents/registry.py`` and ``fakehub/__init__.py``)
are not seen; both stay inside their own package.

Layers, bottom to top; a module may import its own layer and the layers its row names:

* ``base``: ``ghw/__init__.py`` and the small shared modules (errors, refs, durations, procinfo,
  redact, logs, schedule, streams, options, phase_names): only each other;
* ``machine`` (``ghw/machine/``): base;
* ``prompts`` (``ghw/prompts/``, the templates and ``quote``): base;
* ``fakehub`` (``ghw/fakehub/``): nothing from ghw outside itself;
* the adapters ``github``, ``agents``, ``git``, ``config``: base and their own package;
* ``ledger``: base, machine;
* ``phases``: base, machine, prompts, ledger and the four adapters (fakehub is not theirs: the
  phases reach GitHub, real or fake, through ``ghw/github/``);
* ``runtime`` (``ghw/runtime.py``, the one assembly of ledger, GitHub client and context): what
  phases may, and phases;
* ``orchestrator`` (``ghw/orchestrator.py``): what runtime may, and runtime;
* ``cli``: everything (it starts fakehub for ``ghw demo`` and ``ghw fakehub serve``); so may
  ``__main__`` modules, which are entry points, not libraries.

Known violations are allow-listed below, each with the renovation move (issue 14) that removes it.
The allow-lists must match exactly: a new violation fails, and so does an entry that no longer
happens, so the lists shrink as the moves land.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "ghw"

BASE_MODULES = (
    "ghw",
    "ghw.errors",
    "ghw.refs",
    "ghw.durations",
    "ghw.procinfo",
    "ghw.redact",
    "ghw.streams",
    "ghw.logs",
    "ghw.schedule",
    "ghw.options",
    "ghw.phase_names",
)
ADAPTERS = ("github", "agents", "git", "config")
LAYER_PACKAGES = frozenset({"machine", "prompts", "ledger", "phases", "cli", "fakehub", *ADAPTERS})

# layer -> the other layers it may import (its own layer is always allowed).
MAY_IMPORT: dict[str, frozenset[str]] = {
    "base": frozenset(),
    "machine": frozenset({"base"}),
    "prompts": frozenset({"base"}),
    "fakehub": frozenset(),
    **{name: frozenset({"base"}) for name in ADAPTERS},
    "ledger": frozenset({"base", "machine"}),
    "phases": frozenset({"base", "machine", "prompts", "ledger", *ADAPTERS}),
    "runtime": frozenset({"base", "machine", "prompts", "ledger", "phases", *ADAPTERS}),
    "orchestrator": frozenset(
        {"base", "machine", "prompts", "ledger", "phases", "runtime", *ADAPTERS}
    ),
    "cli": frozenset(
        {
            "base",
            "machine",
            "prompts",
            "ledger",
            "phases",
            "runtime",
            "orchestrator",
            "fakehub",
            *ADAPTERS,
        }
    ),
}

# Modules that belong to no layer yet: module -> the move that places them.
KNOWN_UNPLACED: dict[str, str] = {}

# (importer, imported) -> the move that removes the edge.
KNOWN_UPWARD: dict[tuple[str, str], str] = {}

# Import cycles (strongly connected modules) -> the move that breaks them.
KNOWN_CYCLES: dict[frozenset[str], str] = {}


# Modules whose __all__ leaves out public names they define: none. A new public name goes into
# its module's __all__, or gets a leading underscore.
KNOWN_INCOMPLETE_ALL: frozenset[str] = frozenset()


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _importable(path: Path) -> bool:
    """Inside a package all the way down (so not the demo seed's files under fakehub/seeds/)."""
    return all((d / "__init__.py").is_file() for d in path.parents if d.is_relative_to(PACKAGE))


@cache
def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py")) if _importable(p)}


def layer_of(module: str) -> str | None:
    if module in BASE_MODULES:
        return "base"
    parts = module.split(".")
    if module == "ghw.orchestrator":
        return "orchestrator"
    if module == "ghw.runtime":
        return "runtime"
    if parts[-1] == "__main__":  # `python -m ...`: an entry point, on top like the CLI
        return "cli"
    if len(parts) >= 2 and parts[1] in LAYER_PACKAGES:
        if (PACKAGE / parts[1]).is_dir():
            return parts[1]
    return None


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement under node that runs, at any depth (functions included)."""
    if isinstance(node, ast.If) and _is_type_checking(node.test):
        children: list[ast.AST] = list(node.orelse)
    else:
        children = list(ast.iter_child_nodes(node))
    for child in children:
        if isinstance(child, ast.Import | ast.ImportFrom):
            yield child
        else:
            yield from _import_nodes(child)


def _resolve(name: str) -> str | None:
    """The deepest ghw module that ``name`` (a dotted import path) names."""
    known = modules()
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in known:
            return candidate
        parts.pop()
    return None


def imports_of(module: str) -> set[str]:
    """The ghw modules that ``module`` imports (itself excluded)."""
    path = modules()[module]
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in _import_nodes(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                stem = ".".join([*base, node.module] if node.module else base)
            else:
                stem = node.module or ""
            targets = [f"{stem}.{alias.name}" for alias in node.names] or [stem]
        for target in targets:
            if target == "ghw" or target.startswith("ghw."):
                resolved = _resolve(target)
                if resolved is not None and resolved != module:
                    found.add(resolved)
    return found


@cache
def graph() -> dict[str, frozenset[str]]:
    return {m: frozenset(imports_of(m)) for m in modules()}


def upward_imports() -> set[tuple[str, str]]:
    bad = set()
    for src, targets in graph().items():
        src_layer = layer_of(src)
        if src_layer is None:
            continue
        for dst in targets:
            dst_layer = layer_of(dst)
            if dst_layer is None or dst_layer == src_layer:
                continue
            if dst_layer not in MAY_IMPORT[src_layer]:
                bad.add((src, dst))
    return bad


def cycles() -> set[frozenset[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    g = graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: set[frozenset[str]] = set()

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(g[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.add(frozenset(component))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return found


def _fmt_edges(edges: set[tuple[str, str]]) -> str:
    return "\n".join(f"  {a} ({layer_of(a)}) -> {b} ({layer_of(b)})" for a, b in sorted(edges))


def _fmt_cycles(found: set[frozenset[str]]) -> str:
    return "\n".join("  " + " <-> ".join(sorted(c)) for c in sorted(found, key=sorted))


# --- the checks ------------------------------------------------------------------------------


def test_every_module_has_a_layer() -> None:
    unplaced = {m for m in modules() if layer_of(m) is None}
    new = unplaced - KNOWN_UNPLACED.keys()
    gone = KNOWN_UNPLACED.keys() - unplaced
    assert not new, f"modules in no layer (add them to docs/architecture.md):\n  {sorted(new)}"
    assert not gone, f"placed now: remove from KNOWN_UNPLACED:\n  {sorted(gone)}"


def test_no_import_against_the_layer_direction() -> None:
    bad = upward_imports()
    new = bad - KNOWN_UPWARD.keys()
    gone = KNOWN_UPWARD.keys() - bad
    assert not new, f"imports against the layer direction:\n{_fmt_edges(new)}"
    assert not gone, f"fixed: remove from KNOWN_UPWARD:\n{_fmt_edges(set(gone))}"


def test_no_import_cycle_between_modules() -> None:
    found = cycles()
    new = found - KNOWN_CYCLES.keys()
    gone = KNOWN_CYCLES.keys() - found
    assert not new, f"import cycles:\n{_fmt_cycles(new)}"
    assert not gone, f"broken: remove from KNOWN_CYCLES:\n{_fmt_cycles(set(gone))}"


# --- __all__ ---------------------------------------------------------------------------------


def _top_level(tree: ast.Module) -> Iterator[ast.stmt]:
    """Statements that run at import: the module body and the bodies of its if/try blocks."""
    todo: list[ast.stmt] = list(tree.body)
    while todo:
        node = todo.pop(0)
        if isinstance(node, ast.If):
            todo.extend(node.orelse if _is_type_checking(node.test) else node.body + node.orelse)
        elif isinstance(node, ast.Try):
            todo.extend(node.body + node.orelse + node.finalbody)
            for handler in node.handlers:
                todo.extend(handler.body)
        else:
            yield node


def _target_names(target: ast.expr) -> Iterator[str]:
    """The names an assignment binds (``a = …``, ``a, b = …``), not those it only reads
    (``sys.modules[key] = …`` binds nothing)."""
    if isinstance(target, ast.Name):
        yield target.id
    elif isinstance(target, ast.Tuple | ast.List):
        for element in target.elts:
            yield from _target_names(element)
    elif isinstance(target, ast.Starred):
        yield from _target_names(target.value)


def _defined(tree: ast.Module) -> set[str]:
    """Names a module defines itself: functions, classes and assigned names (not imports)."""
    names: set[str] = set()
    for node in _top_level(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                names.update(_target_names(target))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def _bound(tree: ast.Module) -> set[str]:
    """Every name bound at import: what the module defines plus what it imports."""
    names = _defined(tree)
    for node in _top_level(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names


def _dunder_all(tree: ast.Module) -> list[str] | None:
    for node in _top_level(tree):
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AnnAssign):
            targets = [node.target]
        if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
            assert node.value is not None
            return list(ast.literal_eval(node.value))
    return None


def _own_imports(tree: ast.Module, package: str) -> set[str]:
    """Names a package's ``__init__`` imports from inside the package: its re-exports."""
    names: set[str] = set()
    for node in _top_level(tree):
        if isinstance(node, ast.ImportFrom) and (
            node.level or (node.module or "").startswith(package + ".")
        ):
            names.update(a.asname or a.name for a in node.names)
    return names


def _all_problems(module: str) -> list[str]:
    path = modules()[module]
    tree = ast.parse(path.read_text(), filename=str(path))
    listed = _dunder_all(tree)
    if listed is None:
        return []
    problems = []
    public = {n for n in _defined(tree) if not n.startswith("_")}
    if path.name == "__init__.py":
        public |= {n for n in _own_imports(tree, module) if not n.startswith("_")}
    missing = sorted(public - set(listed))
    if missing:
        problems.append(f"{module}: public but not in __all__: {missing}")
    if "__getattr__" not in _defined(tree):  # a module-level __getattr__ serves the rest lazily
        unknown = sorted(set(listed) - _bound(tree))
        if unknown:
            problems.append(f"{module}: in __all__ but not defined: {unknown}")
    twice = sorted({n for n in listed if listed.count(n) > 1})
    if twice:
        problems.append(f"{module}: listed twice in __all__: {twice}")
    return problems


def test_every_package_keeps_its_all_complete() -> None:
    """A package's ``__init__`` lists what it defines and what it imports from inside itself."""
    problems = {m: _all_problems(m) for m, path in modules().items() if path.name == "__init__.py"}
    bad = {m for m, found in problems.items() if found}
    new = bad - KNOWN_INCOMPLETE_ALL
    gone = (KNOWN_INCOMPLETE_ALL & problems.keys()) - bad
    assert not new, "\n".join(p for m in sorted(new) for p in problems[m])
    assert not gone, f"complete now: remove from KNOWN_INCOMPLETE_ALL: {sorted(gone)}"


def test_every_module_with_all_keeps_it_complete() -> None:
    problems = {m: _all_problems(m) for m, path in modules().items() if path.name != "__init__.py"}
    bad = {m for m, found in problems.items() if found}
    new = bad - KNOWN_INCOMPLETE_ALL
    gone = (KNOWN_INCOMPLETE_ALL & problems.keys()) - bad
    assert not new, "\n".join(p for m in sorted(new) for p in problems[m])
    assert not gone, f"complete now: remove from KNOWN_INCOMPLETE_ALL: {sorted(gone)}"
    stale = KNOWN_INCOMPLETE_ALL - modules().keys()
    assert not stale, f"no such module: remove from KNOWN_INCOMPLETE_ALL: {sorted(stale)}"


# A function-local import defers a module's cost to first use. That is worth it only where
# start-up time needs it (``ghw --help`` must not load httpx, rich, the agents or fakehub), and the
# reader should be told so: every one carries a comment naming start-up (or a cycle it would
# otherwise close, or an optional dependency) on its line or in the three lines above it.
_LOCAL_IMPORT_REASONS = ("start-up", "startup", "optional", "loaded on first use", "lazy")


def _local_imports(module: str) -> Iterator[tuple[int, str]]:
    path = modules()[module]
    source = path.read_text()
    lines = source.splitlines()
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for sub in _import_nodes(node):
            # a comment on the import's line or just above it, or at the top of the function
            window = lines[max(0, sub.lineno - 4) : sub.lineno]
            window += lines[node.lineno - 1 : node.lineno + 3]
            if not any(r in line.lower() for line in window for r in _LOCAL_IMPORT_REASONS):
                yield sub.lineno, lines[sub.lineno - 1].strip()


def test_function_local_imports_say_why() -> None:
    bad = [
        f"{modules()[m].relative_to(ROOT)}:{n}: {text}"
        for m in sorted(modules())
        for n, text in _local_imports(m)
    ]
    assert not bad, (
        "function-local imports without a comment saying start-up time (or an optional "
        "dependency) needs them; import at module level, or say why:\n  " + "\n  ".join(bad)
    )


# What the deferred imports buy: the modules `ghw` does not load until a command needs them.
DEFERRED_AT_START_UP = (
    "httpx",
    "croniter",
    "transitions",
    "ghw.github.client",
    "ghw.git",
    "ghw.runtime",
    "ghw.orchestrator",
    "ghw.fakehub.hub",
    "ghw.fakehub.server",
    "ghw.ledger.replay",
    "ghw.ledger.backup",
)


def test_start_up_leaves_the_deferred_modules_unloaded() -> None:
    code = (
        "import sys, ghw.cli.main\n"
        f"print(','.join(m for m in {DEFERRED_AT_START_UP!r} if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout.strip()
    assert out == "", f"loaded by `import ghw.cli.main` although deferred: {out}"
