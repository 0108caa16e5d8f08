"""Which PR feedback ghw acts on, and why not (ghw/phases/feedback.py, and the watch's pure plan)."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from ghw.github.models import (
    CheckRun,
    CombinedStatus,
    Comment,
    PullRequest,
    Review,
    ReviewComment,
)
from ghw.ledger.records import StoredEvent
from ghw.machine import events as ev
from ghw.machine.view import IssueView
from ghw.phases.feedback import (
    BODY_CAP,
    Trust,
    ci_state,
    decide_checks,
    decide_comment,
    decide_conflict,
    decide_review,
    decide_review_comment,
    describe,
    ignore_reason,
    sha256,
)
from ghw.phases.watch import _Look, plan_look

HEAD = "a" * 40
BASE = "b" * 40
TRUST = Trust(("OWNER", "MEMBER", "COLLABORATOR"), "ghw-bot")
ASSOCIATIONS = ["OWNER", "MEMBER", "COLLABORATOR", "CONTRIBUTOR", "NONE", "member", "Owner", ""]


def _user(login: str, kind: str = "User") -> dict[str, Any]:
    return {"login": login, "type": kind}


def review(
    state: str, body: str = "fix it", login: str = "ann", assoc: str = "MEMBER", kind: str = "User"
) -> Review:
    return Review.from_json(
        {
            "id": 7,
            "state": state,
            "body": body,
            "user": _user(login, kind),
            "author_association": assoc,
            "commit_id": HEAD,
            "html_url": "https://example/r/7",
        }
    )


def comment(body: str, login: str = "ann", assoc: str = "MEMBER", kind: str = "User") -> Comment:
    return Comment.from_json(
        {"id": 9, "body": body, "user": _user(login, kind), "author_association": assoc}
    )


def pull(**extra: Any) -> PullRequest:
    raw = {
        "number": 5,
        "title": "t",
        "state": "open",
        "head": {"ref": "ghw/issue-1", "sha": HEAD},
        "base": {"ref": "main", "sha": BASE},
        "mergeable": True,
        "mergeable_state": "clean",
        "updated_at": "2026-12-01T10:00:00Z",
        **extra,
    }
    return PullRequest.from_json(raw)


def check(run_id: int, status: str, conclusion: str | None, name: str = "tests") -> CheckRun:
    return CheckRun.from_json(
        {
            "id": run_id,
            "name": name,
            "head_sha": HEAD,
            "status": status,
            "conclusion": conclusion,
            "output": {"title": f"{name} said {conclusion}", "summary": "why", "text": "log"},
        }
    )


def combined(states: list[tuple[str, str]]) -> CombinedStatus:
    statuses = [
        {"id": i, "state": state, "context": context, "description": f"{context} {state}"}
        for i, (context, state) in enumerate(states)
    ]
    return CombinedStatus.from_json(
        {"state": "x", "sha": HEAD, "total_count": len(statuses)}, statuses
    )


# --- who is acted on ------------------------------------------------------------------------


@given(
    author=st.sampled_from(["ann", "GHW-BOT", "ghw-bot", "dependabot[bot]", "Lint[Bot]", "eve"]),
    association=st.sampled_from(ASSOCIATIONS),
    author_type=st.sampled_from(["User", "Bot", "bot", "", "Organization"]),
    marker=st.booleans(),
    text=st.text(max_size=40),
)
def test_only_trusted_humans_other_than_ghw_are_acted_on(
    author: str, association: str, author_type: str, marker: bool, text: str
) -> None:
    body = text + ("\n<!-- ghw:key=1 -->" if marker else "")
    reason = ignore_reason(author, association, author_type, body, TRUST)
    ghw = "<!-- ghw:" in body or author.casefold() == "ghw-bot"
    bot = author_type.casefold() == "bot" or author.casefold().endswith("[bot]")
    trusted = (association.upper() or "NONE") in TRUST.associations
    if ghw:
        assert reason == "ghw itself"
    elif bot:
        assert reason == "bot"
    elif not trusted:
        assert reason == f"untrusted author ({association.upper() or 'NONE'})"
    else:
        assert reason == ""


def test_without_the_token_login_the_markers_still_tell_ghw() -> None:
    trust = Trust(("OWNER",), None)
    assert ignore_reason("ghw-bot", "OWNER", "User", "ok", trust) == ""
    assert ignore_reason("ann", "OWNER", "User", "x <!-- ghw:revision=1 -->", trust) == "ghw itself"


# --- reviews and comments -------------------------------------------------------------------


def test_review_states() -> None:
    changes = decide_review(review("CHANGES_REQUESTED"), HEAD, TRUST)
    assert changes is not None and changes.actionable and changes.source == "review"
    assert changes.github_id == "7" and changes.body == "fix it" and changes.head_sha == HEAD
    commented = decide_review(review("COMMENTED", "why this?"), HEAD, TRUST)
    assert commented is not None and commented.actionable
    approved = decide_review(review("APPROVED", ""), HEAD, TRUST)
    assert approved is not None and not approved.actionable and approved.reason == "approval"
    assert decide_review(review("PENDING"), HEAD, TRUST) is None
    assert decide_review(review("COMMENTED", "  "), HEAD, TRUST) is None  # line comments' holder


@given(
    state=st.sampled_from(["CHANGES_REQUESTED", "COMMENTED", "APPROVED"]),
    body=st.text(min_size=1, max_size=BODY_CAP + 50),
    association=st.sampled_from(ASSOCIATIONS),
    login=st.sampled_from(["ann", "x[bot]"]),
)
def test_body_only_when_acted_on_its_hash_always(
    state: str, body: str, association: str, login: str
) -> None:
    decided = decide_review(review(state, body, login, association), HEAD, TRUST)
    if decided is None:
        assert state == "COMMENTED" and not body.strip()
        return
    assert decided.body_sha256 == sha256(body)
    if decided.actionable:
        assert decided.reason == "" and len(decided.body) <= BODY_CAP
        assert body.startswith(decided.body.removesuffix("\n… (truncated)"))
    else:
        assert decided.body == "" and decided.reason


def test_comments_and_review_comments() -> None:
    plain = decide_comment(comment("please rename"), HEAD, TRUST)
    assert plain.source == "comment" and plain.actionable and plain.github_id == "9"
    assert plain.summary == "comment by ann: please rename"
    bot = decide_comment(comment("coverage -2%", "codecov[bot]", "NONE", "Bot"), HEAD, TRUST)
    assert not bot.actionable and bot.reason == "bot" and bot.body == ""
    line = ReviewComment.from_json(
        {
            "id": 11,
            "path": "calc.py",
            "line": 3,
            "body": "off by one",
            "user": _user("ann"),
            "author_association": "OWNER",
            "commit_id": HEAD,
        }
    )
    decided = decide_review_comment(line, HEAD, TRUST)
    assert decided.source == "review_comment" and decided.actionable
    assert decided.summary.startswith("calc.py:3")


# --- CI -------------------------------------------------------------------------------------

RUN_STATES = [
    ("queued", None),
    ("in_progress", None),
    ("completed", "success"),
    ("completed", "failure"),
    ("completed", "timed_out"),
    ("completed", "startup_failure"),
    ("completed", "action_required"),
    ("completed", "neutral"),
    ("completed", "cancelled"),
    ("completed", "skipped"),
]


@given(
    runs=st.lists(st.sampled_from(RUN_STATES), max_size=6),
    statuses=st.lists(st.sampled_from(["pending", "success", "failure", "error"]), max_size=4),
)
def test_ci_result_and_feedback(runs: list[tuple[str, str | None]], statuses: list[str]) -> None:
    checks = [check(i + 1, status, conclusion) for i, (status, conclusion) in enumerate(runs)]
    status = combined([(f"ctx{i}", s) for i, s in enumerate(statuses)])
    found, ci = decide_checks(checks, status, HEAD)
    pending = any(s != "completed" for s, _ in runs) or "pending" in statuses
    failing = [c for s, c in runs if c in ("failure", "timed_out", "startup_failure")]
    failing_statuses = [s for s in statuses if s in ("failure", "error")]
    approve = [c for _, c in runs if c == "action_required"]
    if pending:
        assert ci == "pending"
    elif failing or failing_statuses:
        assert ci == "failure"
    elif approve:
        assert ci == "action_required"
    elif runs or statuses:
        assert ci == "success"
    else:
        assert ci == ""
    acted = [f for f in found if f.actionable]
    assert len(acted) == len(failing) + len(failing_statuses)
    ignored = [f for f in found if not f.actionable]
    assert len(ignored) == len(approve)
    assert all(f.reason == "action_required: a person must approve the run" for f in ignored)
    assert all(f.source == "ci" and f.head_sha == HEAD for f in found)
    assert len({f.github_id for f in found}) == len(found)


def test_a_failing_check_names_itself() -> None:
    (item,), ci = decide_checks([check(42, "completed", "failure", "lint")], None, HEAD)
    assert ci == "failure" and item.github_id == "42"
    assert item.summary == "lint: lint said failure" and item.body == "why\n\nlog"
    (status,), _ = decide_checks([], combined([("deploy", "error")]), HEAD)
    assert status.github_id == f"status:deploy:{HEAD}" and status.actionable


def test_ci_state_order() -> None:
    assert ci_state(["success", "failure", "pending"]) == "pending"
    assert ci_state(["success", "action_required", "failure"]) == "failure"
    assert ci_state(["success", "action_required"]) == "action_required"
    assert ci_state([]) == ""


# --- conflicts, the console line --------------------------------------------------------------


def test_conflict_once_per_head_and_base() -> None:
    dirty = decide_conflict(pull(mergeable=False, mergeable_state="dirty"))
    assert dirty is not None and dirty.actionable and dirty.github_id == f"{HEAD}:{BASE}"
    assert "main" in dirty.body and dirty.body_sha256 == sha256(dirty.body)
    assert decide_conflict(pull()) is None
    assert decide_conflict(pull(mergeable=None, mergeable_state="unknown")) is None


def test_describe() -> None:
    items = [
        decide_review(review("CHANGES_REQUESTED"), HEAD, TRUST),
        decide_comment(comment("+1", "x[bot]"), HEAD, TRUST),
        decide_comment(comment("+1", "y[bot]"), HEAD, TRUST),
    ]
    assert describe([i for i in items if i]) == "1 review (acted on), 2 comments ignored (bot)"


# --- the watch's plan ---------------------------------------------------------------------------


def view(**extra: Any) -> IssueView:
    base: dict[str, Any] = {
        "stream_id": "o/r#1",
        "repo": "o/r",
        "number": 1,
        "state": "reviewed",
        "version": 9,
        "pr_number": 5,
        "pr_seen_updated_at": "2026-12-01T09:00:00Z",
        "pr_head_sha": HEAD,
        "ci": "success",
    }
    return IssueView(**{**base, **extra})


def recorded(*items: ev.Event) -> list[StoredEvent]:
    return [
        StoredEvent(
            seq=i + 1,
            event_id=str(i),
            stream_id="o/r#1",
            version=i + 1,
            type=item.TYPE,
            schema_version=1,
            payload=item.payload(),
            ts="2026-12-01T09:00:00.000000Z",
            actor={},
            cycle_id=None,
            correlation_id=None,
            causation_id=None,
            prev_hash="",
            hash="",
        )
        for i, item in enumerate(items)
    ]


def test_plan_records_each_item_once() -> None:
    first = decide_review(review("CHANGES_REQUESTED"), HEAD, TRUST)
    assert first is not None
    look = _Look(pull=pull(), reviews=[review("CHANGES_REQUESTED")], comments=[comment("and this")])
    events, unsettled = plan_look(view(), recorded(first), look, TRUST)
    assert not unsettled
    assert [e.TYPE for e in events] == ["PullRequestWatched", "FeedbackReceived"]
    assert events[1].source == "comment"  # type: ignore[attr-defined]
    watched = events[0]
    assert isinstance(watched, ev.PullRequestWatched)
    assert watched.updated_at == "2026-12-01T10:00:00Z" and watched.ci == "success"


def test_plan_while_github_computes_mergeable_keeps_the_look_open() -> None:
    events, unsettled = plan_look(
        view(), [], _Look(pull=pull(mergeable=None, mergeable_state="unknown")), TRUST
    )
    assert unsettled
    assert isinstance(events[0], ev.PullRequestWatched) and events[0].updated_at == ""


def test_plan_merged_and_closed() -> None:
    merged = pull(
        state="closed", merged=True, merged_at="2026-12-01T11:00:00Z", merged_by=_user("ann")
    )
    events, _ = plan_look(view(), [], _Look(pull=merged), TRUST)
    assert [e.TYPE for e in events] == ["PullRequestWatched", "PullRequestMerged"]
    assert events[1].merged_by == "ann"  # type: ignore[attr-defined]
    closed = _Look(pull=pull(state="closed"))
    events, _ = plan_look(view(), [], closed, TRUST)
    assert [e.TYPE for e in events] == ["PullRequestWatched", "Held"]
    events, _ = plan_look(view(state="held"), [], closed, TRUST)
    assert [e.TYPE for e in events] == ["PullRequestWatched"]
    assert plan_look(view(state="closed"), [], closed, TRUST) == ([], False)
