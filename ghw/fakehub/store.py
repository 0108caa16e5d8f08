"""fakehub's state: owners, repositories, issues, comments and pull requests, persisted to disk.

Layout of a data directory::

    fakehub.json                 owners, repository metadata, id counters, clock offset
    repos/<owner>/<repo>.json    that repository's issues (and pull requests), labels, next number
    git/<owner>/<repo>.git       the bare repository served over smart HTTP

Every change is written before the request that made it is answered (write to a temporary file,
fsync, rename), so reopening the directory restores everything and numbers continue. One lock
guards the state; reads under it are cheap because list results are cached per repository version
and each issue keeps its rendered JSON until it changes.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ghw.fakehub.clock import Clock, parse_ts
from ghw.fakehub.errors import ApiError, validation_failed
from ghw.fakehub.gitrepo import GitRepo
from ghw.fakehub.model import ASSOCIATIONS, Comment, Issue, Owner, PullInfo, Repo

__all__ = [
    "FORMAT_VERSION",
    "STATE_FILE",
    "STATE_REASONS",
    "IssueSpec",
    "Store",
    "check_association",
]

STATE_FILE = "fakehub.json"
FORMAT_VERSION = 1
STATE_REASONS = {"completed", "not_planned", "reopened", "duplicate", None}


@dataclass(slots=True)
class IssueSpec:
    """What a seed or the control API may say about a new issue."""

    title: str
    body: str | None = None
    author: str = "octocat"
    author_association: str = "OWNER"
    labels: tuple[str, ...] = ()
    state: str = "open"
    state_reason: str | None = None
    created_at: int | None = None
    updated_at: int | None = None
    comments: tuple[Mapping[str, Any], ...] = ()

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> IssueSpec:
        """Build from JSON/YAML, refusing unknown or malformed fields with a 422."""
        known = {
            "title",
            "body",
            "author",
            "user",
            "author_association",
            "labels",
            "state",
            "state_reason",
            "created_at",
            "updated_at",
            "comments",
        }
        unknown = set(data) - known
        if unknown:
            raise validation_failed(
                {"resource": "Issue", "code": "invalid", "field": sorted(unknown)[0]}
            )
        title = data.get("title")
        if not isinstance(title, str) or not title:
            raise validation_failed(
                {"resource": "Issue", "code": "missing_field", "field": "title"}
            )
        labels = data.get("labels") or ()
        if isinstance(labels, str):
            labels = [labels]
        return cls(
            title=title,
            body=data.get("body"),
            author=str(data.get("author") or data.get("user") or "octocat"),
            author_association=str(data.get("author_association") or "OWNER").upper(),
            labels=tuple(str(x["name"] if isinstance(x, dict) else x) for x in labels),
            state=str(data.get("state") or "open"),
            state_reason=data.get("state_reason"),
            created_at=_opt_ts(data.get("created_at")),
            updated_at=_opt_ts(data.get("updated_at")),
            comments=tuple(data.get("comments") or ()),
        )


def _opt_ts(value: Any) -> int | None:
    if value is None:
        return None
    try:
        return parse_ts(value)
    except (TypeError, ValueError) as exc:
        raise validation_failed(
            {"resource": "Issue", "code": "invalid", "field": "timestamp"}
        ) from exc


def check_association(value: str) -> str:
    """``value`` upper-cased, or GitHub's 422 when it is no author association."""
    value = value.upper()
    if value not in ASSOCIATIONS:
        raise validation_failed(
            {"resource": "Issue", "code": "invalid", "field": "author_association", "value": value}
        )
    return value


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


class Store:
    """All of fakehub's state behind one re-entrant lock (``store.lock``)."""

    def __init__(self, data_dir: Path, clock: Clock) -> None:
        self.data_dir = data_dir
        self.clock = clock
        self.lock = threading.RLock()
        self.owners: dict[str, Owner] = {}
        self.repos: dict[str, Repo] = {}
        self.counters: dict[str, int] = {}
        self._list_cache: dict[tuple[Any, ...], list[Issue]] = {}
        self._deferring = False
        self._dirty_repos: dict[str, Repo] = {}
        self._dirty_meta = False

    # ---------------------------------------------------------------- persistence

    @property
    def git_root(self) -> Path:
        return self.data_dir / "git"

    def has_state(self) -> bool:
        return (self.data_dir / STATE_FILE).is_file()

    def load(self) -> bool:
        """Read the data directory; returns False when it holds no state yet."""
        path = self.data_dir / STATE_FILE
        if not path.is_file():
            return False
        meta = json.loads(path.read_text("utf-8"))
        with self.lock:
            self.counters = dict(meta.get("counters", {}))
            self.clock.set_offset(float(meta.get("clock_offset", 0.0)))
            self.owners = {o["login"].lower(): Owner(**o) for o in meta.get("owners", [])}
            self.repos = {}
            for rmeta in meta.get("repos", []):
                repo = Repo(**rmeta)
                rpath = self._repo_file(repo)
                if rpath.is_file():
                    data = json.loads(rpath.read_text("utf-8"))
                    repo.next_number = int(data.get("next_number", 1))
                    repo.labels = dict(data.get("labels", {}))
                    repo.load_commit_records(data)
                    for raw in data.get("issues", []):
                        issue = Issue.from_dict(raw)
                        repo.issues[issue.number] = issue
                self.repos[repo.full_name.lower()] = repo
        return True

    def _repo_file(self, repo: Repo) -> Path:
        return self.data_dir / "repos" / repo.owner / f"{repo.name}.json"

    @contextmanager
    def deferred_writes(self) -> Iterator[None]:
        """Write once at the end instead of after every change (seeding: one write per file)."""
        with self.lock:
            self._deferring = True
            try:
                yield
            except BaseException:
                # Nothing reaches the disk: the directory still looks empty (unseeded).
                self._dirty_repos.clear()
                self._dirty_meta = False
                raise
            finally:
                self._deferring = False
            for repo in self._dirty_repos.values():
                self._write_repo(repo)
            self._dirty_repos.clear()
            if self._dirty_meta:
                self.save_meta()

    def save_meta(self) -> None:
        with self.lock:
            if self._deferring:
                self._dirty_meta = True
                return
            self._dirty_meta = False
            meta = {
                "format": FORMAT_VERSION,
                "counters": self.counters,
                "clock_offset": self.clock.offset,
                "owners": [
                    {"login": o.login, "id": o.id, "kind": o.kind} for o in self.owners.values()
                ],
                "repos": [r.meta_dict() for r in self.repos.values()],
            }
            _atomic_write(self.data_dir / STATE_FILE, json.dumps(meta, indent=1).encode())

    def save_repo(self, repo: Repo) -> None:
        with self.lock:
            repo.version += 1
            if len(self._list_cache) > 256:
                self._list_cache.clear()
            if self._deferring:
                self._dirty_repos[repo.full_name.lower()] = repo
                self._dirty_meta = True
                return
            self._write_repo(repo)
            # Counters (issue and comment ids) moved too.
            self.save_meta()

    def _write_repo(self, repo: Repo) -> None:
        data = json.dumps(repo.issues_dict(), separators=(",", ":")).encode()
        _atomic_write(self._repo_file(repo), data)

    def next_id(self, kind: str) -> int:
        with self.lock:
            value = self.counters.get(kind, 0) + 1
            self.counters[kind] = value
            return value

    # ---------------------------------------------------------------- owners and repositories

    def owner(self, login: str) -> Owner | None:
        return self.owners.get(login.lower())

    def ensure_owner(self, login: str, kind: str | None = None) -> Owner:
        """The account ``login``, created (as ``kind``, default user) when unknown."""
        if not login or "/" in login:
            raise validation_failed({"resource": "User", "code": "invalid", "field": "login"})
        if kind is not None and kind not in {"user", "org", "bot"}:
            raise validation_failed({"resource": "User", "code": "invalid", "field": "kind"})
        with self.lock:
            found = self.owners.get(login.lower())
            if found is None:
                # GitHub Apps act as ``name[bot]``: such a login is always a bot account.
                default = "bot" if login.lower().endswith("[bot]") else "user"
                found = Owner(login=login, id=self.next_id("user"), kind=kind or default)
                self.owners[login.lower()] = found
                self.save_meta()
            elif kind is not None and found.kind != kind:
                found.kind = kind
                self.save_meta()
            return found

    def repo(self, owner: str, name: str) -> Repo | None:
        return self.repos.get(f"{owner}/{name}".lower())

    def repos_of(self, owner: str) -> list[Repo]:
        with self.lock:
            return sorted(
                (r for r in self.repos.values() if r.owner.lower() == owner.lower()),
                key=lambda r: r.id,
            )

    def git(self, repo: Repo) -> GitRepo:
        return GitRepo(self.git_root / repo.owner / f"{repo.name}.git")

    def create_repo(
        self,
        owner: str,
        name: str,
        *,
        default_branch: str = "main",
        description: str | None = None,
        private: bool = False,
        files: Mapping[str, str] | None = None,
        owner_kind: str | None = None,
    ) -> Repo:
        """Create a repository with a bare git repo whose default branch holds ``files``."""
        if not name or "/" in name or name.startswith(".") or name.endswith(".git"):
            raise validation_failed({"resource": "Repository", "code": "invalid", "field": "name"})
        with self.lock:
            if self.repo(owner, name) is not None:
                raise validation_failed(
                    {
                        "resource": "Repository",
                        "code": "custom",
                        "field": "name",
                        "message": "name already exists on this account",
                    }
                )
            account = self.ensure_owner(owner, owner_kind)
            repo = Repo(
                id=self.next_id("repo"),
                owner=account.login,
                name=name,
                default_branch=default_branch,
                description=description,
                private=private,
                created_at=self.clock.now_int(),
            )
            git = self.git(repo)
            git.init(default_branch)
            content = dict(files or {})
            if not content:
                content = {"README.md": f"# {name}\n"}
            git.commit_files(
                default_branch,
                content,
                message="Initial commit",
                parent=None,
                when=repo.created_at,
            )
            self.repos[repo.full_name.lower()] = repo
            self.save_repo(repo)
            return repo

    # ---------------------------------------------------------------- issues

    def issue(self, repo: Repo, number: int) -> Issue | None:
        return repo.issues.get(number)

    def _label(self, repo: Repo, name: str) -> str:
        """The canonical label name; labels are created on first use, matched ignoring case."""
        for existing in repo.labels:
            if existing.lower() == name.lower():
                return existing
        color = hashlib.sha256(name.lower().encode()).hexdigest()[:6]
        repo.labels[name] = [self.next_id("label"), color]
        return name

    def _new_issue(self, repo: Repo, spec: IssueSpec, pull: PullInfo | None = None) -> Issue:
        now = self.clock.now_int()
        created = spec.created_at if spec.created_at is not None else now
        updated = spec.updated_at if spec.updated_at is not None else max(created, now)
        if spec.created_at is not None and spec.updated_at is None:
            updated = created
        if spec.state not in {"open", "closed"}:
            raise validation_failed({"resource": "Issue", "code": "invalid", "field": "state"})
        if spec.state_reason not in STATE_REASONS:
            raise validation_failed(
                {"resource": "Issue", "code": "invalid", "field": "state_reason"}
            )
        self.ensure_owner(spec.author)
        issue = Issue(
            number=repo.next_number,
            id=self.next_id("issue"),
            title=spec.title,
            body=spec.body,
            author=spec.author,
            author_association=check_association(spec.author_association),
            created_at=created,
            updated_at=updated,
            labels=[self._label(repo, x) for x in dict.fromkeys(spec.labels)],
            pull=pull,
        )
        if spec.state == "closed":
            issue.state = "closed"
            issue.state_reason = spec.state_reason or "completed"
            issue.closed_at = updated
            issue.closed_by = spec.author
        for raw in spec.comments:
            self._append_comment(
                issue,
                body=str(raw.get("body", "")),
                author=str(raw.get("author") or raw.get("user") or "octocat"),
                association=str(raw.get("author_association") or "NONE"),
                created_at=_opt_ts(raw.get("created_at")),
                bump=False,
            )
        repo.next_number += 1
        repo.issues[issue.number] = issue
        return issue

    def create_issue(self, repo: Repo, spec: IssueSpec) -> Issue:
        with self.lock:
            issue = self._new_issue(repo, spec)
            self.save_repo(repo)
            return issue

    def bulk_create(self, repo: Repo, specs: Iterable[IssueSpec]) -> list[Issue]:
        """Create many issues with one disk write (10,000 issues take well under a second)."""
        with self.lock:
            created = [self._new_issue(repo, spec) for spec in specs]
            self.save_repo(repo)
            return created

    def touch(self, issue: Issue, when: int | None = None) -> None:
        """Move ``updated_at`` to now (or ``when``): the issues listing shows it as changed."""
        self._touch(issue, when)

    def _touch(self, issue: Issue, when: int | None = None) -> None:
        issue.updated_at = when if when is not None else max(self.clock.now_int(), issue.created_at)
        issue.cached_json = None

    def update_issue(
        self,
        repo: Repo,
        issue: Issue,
        changes: Mapping[str, Any],
        *,
        actor: str | None = None,
    ) -> Issue:
        """Apply ``title``, ``body``, ``state``, ``state_reason``, ``labels`` (the full set),
        ``add_labels``, ``remove_labels``, ``author``, ``author_association``, ``created_at``,
        ``updated_at``; anything changed moves ``updated_at`` (unless given explicitly)."""
        allowed = {
            "title",
            "body",
            "state",
            "state_reason",
            "labels",
            "add_labels",
            "remove_labels",
            "author",
            "author_association",
            "created_at",
            "updated_at",
            "actor",
        }
        unknown = set(changes) - allowed
        if unknown:
            raise validation_failed(
                {"resource": "Issue", "code": "invalid", "field": sorted(unknown)[0]}
            )
        # Validate everything first, so a refused change leaves the issue untouched.
        if "title" in changes and not changes["title"]:
            raise validation_failed(
                {"resource": "Issue", "code": "missing_field", "field": "title"}
            )
        association = (
            check_association(str(changes["author_association"]))
            if "author_association" in changes
            else None
        )
        if "state" in changes and changes["state"] not in {"open", "closed"}:
            raise validation_failed({"resource": "Issue", "code": "invalid", "field": "state"})
        if changes.get("state_reason") not in STATE_REASONS:
            raise validation_failed(
                {"resource": "Issue", "code": "invalid", "field": "state_reason"}
            )
        explicit = _opt_ts(changes.get("updated_at"))
        created = _opt_ts(changes.get("created_at"))
        with self.lock:
            when = explicit if explicit is not None else max(self.clock.now_int(), issue.created_at)
            before = self._snapshot(issue)
            if "title" in changes:
                issue.title = str(changes["title"])
            if "body" in changes:
                issue.body = changes["body"]
            if "author" in changes:
                issue.author = self.ensure_owner(str(changes["author"])).login
            if association is not None:
                issue.author_association = association
            if "labels" in changes:
                issue.labels = [self._label(repo, str(x)) for x in dict.fromkeys(changes["labels"])]
            for name in changes.get("add_labels") or ():
                canonical = self._label(repo, str(name))
                if canonical not in issue.labels:
                    issue.labels.append(canonical)
            for name in changes.get("remove_labels") or ():
                issue.labels = [x for x in issue.labels if x.lower() != str(name).lower()]
            if created is not None:
                issue.created_at = created
            if "state" in changes and changes["state"] != issue.state:
                self._touch(issue, when)
                self._set_state(
                    issue,
                    str(changes["state"]),
                    changes.get("state_reason"),
                    actor or changes.get("actor") or issue.author,
                )
            elif "state_reason" in changes and issue.state == "closed":
                issue.state_reason = changes["state_reason"]
            if explicit is None and self._snapshot(issue) == before:
                return issue  # nothing changed: GitHub keeps updated_at too
            self._touch(issue, when)
            self.save_repo(repo)
            return issue

    @staticmethod
    def _snapshot(issue: Issue) -> tuple[Any, ...]:
        return (
            issue.title,
            issue.body,
            issue.author,
            issue.author_association,
            tuple(issue.labels),
            issue.state,
            issue.state_reason,
            issue.created_at,
        )

    def _set_state(self, issue: Issue, state: str, reason: Any, actor: str) -> None:
        if state not in {"open", "closed"}:
            raise validation_failed({"resource": "Issue", "code": "invalid", "field": "state"})
        if reason not in STATE_REASONS:
            raise validation_failed(
                {"resource": "Issue", "code": "invalid", "field": "state_reason"}
            )
        if state == issue.state:
            return
        issue.state = state
        if state == "closed":
            issue.state_reason = reason or "completed"
            issue.closed_at = issue.updated_at
            issue.closed_by = self.ensure_owner(actor).login
        else:
            issue.state_reason = "reopened"
            issue.closed_at = None
            issue.closed_by = None

    def _append_comment(
        self,
        issue: Issue,
        *,
        body: str,
        author: str,
        association: str,
        created_at: int | None,
        bump: bool = True,
    ) -> Comment:
        when = created_at if created_at is not None else self.clock.now_int()
        self.ensure_owner(author)
        comment = Comment(
            id=self.next_id("comment"),
            body=body,
            author=author,
            author_association=check_association(association),
            created_at=when,
            updated_at=when,
        )
        issue.comments.append(comment)
        if bump:
            self._touch(issue, max(when, issue.updated_at))
        issue.cached_json = None
        return comment

    def add_comment(
        self,
        repo: Repo,
        issue: Issue,
        *,
        body: str,
        author: str,
        association: str,
        created_at: int | None = None,
    ) -> Comment:
        if not isinstance(body, str) or not body:
            raise validation_failed(
                {"resource": "IssueComment", "code": "missing_field", "field": "body"}
            )
        with self.lock:
            comment = self._append_comment(
                issue, body=body, author=author, association=association, created_at=created_at
            )
            self.save_repo(repo)
            return comment

    # ---------------------------------------------------------------- pull requests

    def open_pull_for_head(self, repo: Repo, head_ref: str) -> Issue | None:
        for issue in repo.issues.values():
            if issue.pull and issue.state == "open" and issue.pull.head_ref == head_ref:
                return issue
        return None

    def create_pull(
        self,
        repo: Repo,
        *,
        title: str,
        body: str | None,
        head_ref: str,
        base_ref: str,
        head_sha: str,
        base_sha: str,
        draft: bool,
        author: str,
        association: str,
        refuse_duplicate: bool = True,
    ) -> Issue:
        """Open a pull request; refuses (422) a second open one for the same head, atomically
        (unless ``refuse_duplicate`` is False: then it opens another, as a test asked)."""
        with self.lock:
            if refuse_duplicate and self.open_pull_for_head(repo, head_ref) is not None:
                raise validation_failed(
                    {
                        "resource": "PullRequest",
                        "code": "custom",
                        "message": f"A pull request already exists for {repo.owner}:{head_ref}.",
                    },
                    documentation_url="https://docs.github.com/rest/pulls/pulls#create-a-pull-request",
                )
            pull = PullInfo(
                id=self.next_id("pull"),
                head_ref=head_ref,
                base_ref=base_ref,
                head_sha=head_sha,
                base_sha=base_sha,
                draft=draft,
            )
            spec = IssueSpec(title=title, body=body, author=author, author_association=association)
            issue = self._new_issue(repo, spec, pull=pull)
            self.save_repo(repo)
            return issue

    def touch_pulls_with_heads(self, repo: Repo, heads: Iterable[str]) -> list[int]:
        """New commits on these branches: GitHub moves the ``updated_at`` of the open PRs whose
        head they are (not of those whose base moved). Returns the PR numbers touched."""
        wanted = set(heads)
        with self.lock:
            touched = [
                issue
                for issue in repo.issues.values()
                if issue.pull is not None
                and issue.state == "open"
                and issue.pull.head_ref in wanted
            ]
            if not touched:
                return []
            now = self.clock.now_int()
            for issue in touched:
                self._touch(issue, max(now, issue.updated_at))
            self.save_repo(repo)
            return [issue.number for issue in touched]

    def close_pull(self, repo: Repo, issue: Issue, *, actor: str, head_sha: str | None) -> Issue:
        if issue.pull is None:
            raise ApiError(404, "Not Found")
        with self.lock:
            if head_sha:
                issue.pull.head_sha = head_sha
            self._touch(issue)
            self._set_state(issue, "closed", None, actor)
            issue.state_reason = None
            self.save_repo(repo)
            return issue

    def mark_merged(
        self, repo: Repo, issue: Issue, *, sha: str, head_sha: str, base_sha: str, actor: str
    ) -> Issue:
        assert issue.pull is not None
        with self.lock:
            self._touch(issue)
            issue.pull.merged = True
            issue.pull.merged_at = issue.updated_at
            issue.pull.merge_commit_sha = sha
            issue.pull.merged_by = self.ensure_owner(actor).login
            issue.pull.head_sha = head_sha
            issue.pull.base_sha = base_sha
            self._set_state(issue, "closed", None, actor)
            issue.state_reason = None
            self.save_repo(repo)
            return issue

    # ---------------------------------------------------------------- queries

    def list_issues(
        self,
        repo: Repo,
        *,
        state: str = "open",
        labels: tuple[str, ...] = (),
        since: int | None = None,
        sort: str = "created",
        direction: str = "desc",
        pulls_only: bool = False,
        head: str | None = None,
        base: str | None = None,
    ) -> list[Issue]:
        """Filtered and sorted issues; cached until the repository next changes."""
        key = (
            repo.full_name.lower(),
            repo.version,
            state,
            labels,
            since,
            sort,
            direction,
            pulls_only,
            head,
            base,
        )
        with self.lock:
            cached = self._list_cache.get(key)
            if cached is not None:
                return cached
            wanted = {x.lower() for x in labels}
            result: list[Issue] = []
            for issue in repo.issues.values():
                if state != "all" and issue.state != state:
                    continue
                if since is not None and issue.updated_at < since:
                    continue
                if pulls_only:
                    if issue.pull is None:
                        continue
                    if head is not None and issue.pull.head_ref != head:
                        continue
                    if base is not None and issue.pull.base_ref != base:
                        continue
                if wanted and not wanted <= {x.lower() for x in issue.labels}:
                    continue
                result.append(issue)
            reverse = direction == "desc"
            if sort == "updated":
                result.sort(key=lambda i: (i.updated_at, i.number), reverse=reverse)
            elif sort == "comments":
                result.sort(key=lambda i: (len(i.comments), i.number), reverse=reverse)
            elif sort == "long-running":
                result.sort(key=lambda i: (i.updated_at - i.created_at, i.number), reverse=reverse)
            else:
                result.sort(key=lambda i: (i.created_at, i.number), reverse=reverse)
            self._list_cache[key] = result
            return result
