"""Seeds: a YAML description of owners, repositories, files and issues, applied to an empty hub.

Format (all keys but ``repositories[].name`` optional)::

    owners:
      - {login: acme, kind: org}          # user (default) | org | bot
    repositories:
      - name: acme/widgets                # owner/name; unknown owners are created as users
        default_branch: main
        description: Widgets
        private: false
        files_from: widgets-src           # a directory, relative to the seed file
        files: {README.md: "# Widgets\\n"}  # path -> content (added to files_from)
        issues:                           # numbered 1, 2, ... in this order
          - title: Crash on start
            body: ...
            labels: [bug]
            author: alice
            author_association: OWNER     # OWNER MEMBER COLLABORATOR CONTRIBUTOR NONE ...
            state: open                   # or closed (state_reason: completed|not_planned)
            number: 7                     # optional: skip ahead (numbers only grow)
            created_at: 2024-01-01T00:00:00Z
            comments:
              - {author: bob, author_association: MEMBER, body: "Confirmed."}

``--seed demo`` is the seed file shipped in ``ghw/fakehub/seeds/demo/seed.yaml``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ghw.fakehub.errors import ApiError
from ghw.fakehub.store import IssueSpec, Store

__all__ = ["DEMO_SEED", "SeedError", "apply_seed", "demo_dir", "load_seed", "resolve_seed"]

DEMO_SEED = "demo"


class SeedError(ValueError):
    """The seed file is missing or malformed."""


def demo_dir() -> Path:
    """The packaged demo: ``seed.yaml``, ``script.yaml`` and the repository under ``repo/``."""
    return Path(__file__).parent / "seeds" / "demo"


def resolve_seed(seed: str | Path) -> Path:
    """``demo`` → the packaged demo seed; anything else is a path to a YAML file."""
    if str(seed) == DEMO_SEED:
        return demo_dir() / "seed.yaml"
    path = Path(seed)
    if not path.is_file():
        raise SeedError(f"seed file not found: {path}")
    return path


def load_seed(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text("utf-8")) or {}
    except yaml.YAMLError as exc:
        raise SeedError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise SeedError(f"{path}: a seed is a mapping with 'owners' and 'repositories'")
    return data


def _files(entry: dict[str, Any], base: Path) -> dict[str, str]:
    files: dict[str, str] = {}
    source = entry.get("files_from")
    if source:
        root = (base / source).resolve()
        if not root.is_dir():
            raise SeedError(f"files_from directory not found: {root}")
        for path in sorted(root.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                files[path.relative_to(root).as_posix()] = path.read_text("utf-8")
    for key, value in (entry.get("files") or {}).items():
        files[str(key)] = str(value)
    return files


def apply_seed(store: Store, seed: str | Path) -> None:
    """Create everything the seed describes. Call only on a store without state."""
    path = resolve_seed(seed)
    data = load_seed(path)
    try:
        with store.deferred_writes():
            _apply(store, path, data)
    except ApiError as exc:
        raise SeedError(f"{path}: {exc.message} {exc.errors or ''}".strip()) from exc
    except (KeyError, TypeError, AttributeError) as exc:
        raise SeedError(f"{path}: malformed seed ({type(exc).__name__}: {exc})") from exc


def _apply(store: Store, path: Path, data: dict[str, Any]) -> None:
    for owner in data.get("owners") or ():
        store.ensure_owner(str(owner["login"]), str(owner.get("kind") or "user"))
    for entry in data.get("repositories") or ():
        full = str(entry.get("name") or "")
        owner = entry.get("owner")
        name = full
        if "/" in full:
            owner, _, name = full.partition("/")
        if not owner or not name:
            raise SeedError(f"{path}: repository needs 'owner/name', got {full!r}")
        repo = store.create_repo(
            str(owner),
            name,
            default_branch=str(entry.get("default_branch") or "main"),
            description=entry.get("description"),
            private=bool(entry.get("private", False)),
            files=_files(entry, path.parent),
        )
        specs: list[IssueSpec] = []
        for raw in entry.get("issues") or ():
            raw = dict(raw)
            number = raw.pop("number", None)
            if number is not None:
                # Numbers only grow: flush what came before, then skip ahead.
                if specs:
                    store.bulk_create(repo, specs)
                    specs = []
                if int(number) < repo.next_number:
                    raise SeedError(f"{path}: issue number {number} is not increasing")
                repo.next_number = int(number)
            specs.append(IssueSpec.from_mapping(raw))
        if specs:
            store.bulk_create(repo, specs)
