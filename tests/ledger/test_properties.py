"""Hypothesis properties of the ledger (§3, issue acceptance 2)."""

from __future__ import annotations

import asyncio
import random
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ghw.errors import ConcurrencyError, IllegalTransitionError, LeaseLostError, StaleFenceError
from ghw.ledger.projection import issue_row
from ghw.ledger.records import AppendRequest, RetryPolicy
from ghw.ledger.replay import replay
from ghw.ledger.store import Ledger
from ghw.machine import events as ev
from ghw.machine.fold import apply, fold
from ghw.machine.simulate import ISSUE_EVENT_TYPES, legal_types, make_event, random_history
from ghw.machine.states import RUNNING

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class Clock:
    def __init__(self) -> None:
        from datetime import UTC, datetime

        self.now = datetime(2026, 3, 1, tzinfo=UTC)

    def __call__(self):  # type: ignore[no-untyped-def]
        return self.now

    def advance(self, seconds: float) -> None:
        from datetime import timedelta

        self.now += timedelta(seconds=seconds)


def _records(history: list[ev.Event], sid: str) -> list:  # type: ignore[type-arg]
    from types import SimpleNamespace

    return [
        SimpleNamespace(
            stream_id=sid, type=e.TYPE, payload=e.payload(), seq=i + 1, version=i + 1, ts="t"
        )
        for i, e in enumerate(history)
    ]


def _run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


@given(st.integers(0, 2**32), st.integers(1, 6))
@SETTINGS
def test_legal_histories_fold_to_the_stored_projection(seed: int, issues: int) -> None:
    async def go() -> None:
        rng = random.Random(seed)
        with tempfile.TemporaryDirectory() as tmp:
            ledger = await Ledger.open(Path(tmp) / "l.db")
            try:
                histories = {}
                for n in range(1, issues + 1):
                    history = random_history(
                        rng, number=n, length=rng.randrange(1, 25), settle=True
                    )
                    histories[f"o/r#{n}"] = history
                    # appended in random chunks, cut only where the issue is not running
                    cuts, view = [], None
                    for i, rec in enumerate(_records(history, f"o/r#{n}")):
                        view = apply(view, rec)
                        if view.state not in RUNNING and rng.random() < 0.4:
                            cuts.append(i + 1)
                    start = 0
                    for cut in [*cuts, len(history)]:
                        if cut > start:
                            await ledger.append(f"o/r#{n}", start, history[start:cut])
                            start = cut
                for sid, history in histories.items():
                    stored_events = await ledger.history(sid)
                    assert [e.type for e in stored_events] == [e.TYPE for e in history]
                    expected = fold(stored_events)
                    assert issue_row(await ledger.issue(sid)) == issue_row(expected)
            finally:
                await ledger.close()

    _run(go())


@given(st.integers(0, 2**32), st.integers(0, 15))
@SETTINGS
def test_illegal_transition_is_refused_and_writes_nothing(seed: int, length: int) -> None:
    async def go() -> None:
        rng = random.Random(seed)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "l.db"
            ledger = await Ledger.open(path)
            try:
                history = random_history(rng, length=length, settle=True) if length else []
                if history:
                    await ledger.append("o/r#1", 0, history)
                view = await ledger.issue("o/r#1")
                illegal = [t for t in ISSUE_EVENT_TYPES if t not in legal_types(view)]
                event = make_event(rng.choice(illegal), view, rng)
                count = await ledger.count_events()
                try:
                    await ledger.append("o/r#1", len(history), [event])
                except IllegalTransitionError:
                    pass
                else:
                    raise AssertionError(
                        f"{event.TYPE} accepted in {view.state if view else 'new'}"
                    )
                assert await ledger.count_events() == count
                assert await ledger.issue("o/r#1") == view
            finally:
                await ledger.close()

    _run(go())


@given(st.integers(0, 2**32))
@settings(max_examples=25, deadline=None)
def test_two_writers_same_expected_version_exactly_one_wins(seed: int) -> None:
    async def go() -> None:
        rng = random.Random(seed)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "l.db"
            a, b = await Ledger.open(path), await Ledger.open(path)
            try:
                history = random_history(rng, length=rng.randrange(1, 8), settle=True)
                await a.append("o/r#1", 0, history)
                v = len(history)
                results = await asyncio.gather(
                    a.append(
                        "o/r#1",
                        v,
                        [ev.Held(reason="a")]
                        if (await a.issue("o/r#1")).state != "held"
                        else [ev.Released()],
                    ),
                    b.append(
                        "o/r#1",
                        v,
                        [ev.IssueClosed()]
                        if (await b.issue("o/r#1")).state != "closed"
                        else [ev.IssueReopened()],
                    ),
                    return_exceptions=True,
                )
                wins = [r for r in results if not isinstance(r, Exception)]
                losses = [r for r in results if isinstance(r, Exception)]
                assert len(wins) == 1 and len(losses) == 1
                assert isinstance(losses[0], ConcurrencyError)
                assert await a.count_events() == v + 1
            finally:
                await a.close()
                await b.close()

    _run(go())


OPS = st.lists(
    st.sampled_from(
        [
            "sync",
            "claim_plan",
            "claim_impl",
            "claim_review",
            "finish",
            "fail",
            "renew",
            "release",
            "expire",
            "hold",
            "release_hold",
            "retry",
            "close",
            "change",
            "reap",
        ]
    ),
    min_size=5,
    max_size=60,
)


@given(st.integers(0, 2**32), OPS)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_after_random_operations_replay_equals_projection(seed: int, ops: list[str]) -> None:
    async def go() -> None:
        rng = random.Random(seed)
        clock = Clock()
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "l.db"
            ledger = await Ledger.open(path, clock=clock)
            claims: list = []  # type: ignore[type-arg]
            n = 0
            try:
                for op in ops:
                    clock.advance(rng.choice([1, 10, 100]))
                    try:
                        await _operate(ledger, op, rng, claims, clock, n)
                    except (
                        IllegalTransitionError,
                        ConcurrencyError,
                        StaleFenceError,
                        LeaseLostError,
                    ):
                        pass
                    if op == "sync":
                        n += 1
                before = {
                    k: await ledger.projection_rows(k) for k in ("issue", "repo", "cycle", "loop")
                }
                report = await replay(ledger, verify=True)
                assert report.verified, report.problem
                await replay(ledger)
                after = {
                    k: await ledger.projection_rows(k) for k in ("issue", "repo", "cycle", "loop")
                }
                assert before == after
            finally:
                await ledger.close()

    _run(go())


async def _operate(
    ledger: Ledger, op: str, rng: random.Random, claims: list, clock: Clock, n: int
) -> None:  # type: ignore[type-arg]
    sids = [v.stream_id for v in await ledger.issues()]
    sid = rng.choice(sids) if sids else None
    if op == "sync":
        await ledger.append(f"o/r#{n + 1}", 0, [make_event("IssueSynced", None, rng, number=n + 1)])
    elif op.startswith("claim_"):
        phase, states, cls = {
            "claim_plan": ("plan", ["synced", "plan_failed"], ev.PlanStarted),
            "claim_impl": ("implement", ["planned", "implement_failed"], ev.ImplementStarted),
            "claim_review": ("review", ["implemented", "review_failed"], ev.ReviewStarted),
        }[op]
        r = await ledger.claim(phase, states, ttl=rng.choice([50, 500]), started=cls(agent="x"))
        if r:
            claims.append(r[0])
    elif op in ("finish", "fail", "renew", "release") and claims:
        claim = claims.pop(rng.randrange(len(claims)))
        if op == "renew":
            claims.append(await ledger.renew(claim, ttl=100))
        elif op == "release":
            await ledger.release(claim)
        else:
            view = await ledger.issue(claim.stream_id)
            events: list[ev.Event]
            if op == "fail":
                cls = {
                    "plan": ev.PlanFailed,
                    "implement": ev.ImplementFailed,
                    "review": ev.ReviewFailed,
                }[claim.phase]
                events = [
                    cls(
                        error="boom",
                        next_retry_at=None if rng.random() < 0.3 else "2026-03-01T00:00:00.000000Z",
                        cost_usd=0.01,
                    )
                ]
            elif claim.phase == "plan":
                events = [ev.PlanCompleted(text="p", cost_usd=0.02)]
            elif claim.phase == "implement":
                events = [
                    ev.BranchPushed(branch=view.branch()),
                    ev.PullRequestOpened(number=7),
                    ev.ImplementCompleted(pr_number=7),
                ]
            else:
                events = [ev.ReviewCompleted(verdict="approve", text="ok")]
            await ledger.append(claim.stream_id, claim.version, events, fence=claim)
    elif op == "expire":
        clock.advance(600)
    elif op == "reap":
        await ledger.reap(retry=RetryPolicy(max_attempts=rng.choice([1, 3])))
    elif sid is not None:
        event = {
            "hold": ev.Held(reason="operator"),
            "release_hold": ev.Released(),
            "retry": ev.RetryRequested(),
            "close": ev.IssueClosed(),
            "change": ev.IssueChanged(title="new", eligible=rng.random() < 0.8),
        }.get(op)
        if event is not None:
            await ledger.append_batch([AppendRequest(sid, None, [event])])
