"""The eligibility policy of §4.2, as ``decide()`` applies it: examples and properties.

An issue reaches an agent only if its author association is trusted or it carries the trusted
label, it carries the trigger label when one is set, one of the included labels when any are set,
and none of the excluded labels. GitHub compares labels and association values without regard to
case, and so must ghw. The properties check ``decide()`` against that sentence written out
(``expected``), under case changes, reordering and duplicates; the sync's re-check never widens.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ghw.github.models import Issue
from ghw.machine.view import IssueView
from ghw.phases.eligibility import Policy, decide
from ghw.phases.sync import plan_issue_events, recheck_events

DEFAULT = Policy()
ASSOCIATIONS = (
    "OWNER",
    "MEMBER",
    "COLLABORATOR",
    "CONTRIBUTOR",
    "FIRST_TIMER",
    "FIRST_TIME_CONTRIBUTOR",
    "MANNEQUIN",
    "NONE",
)
NAMES = ("bug", "ghw", "ghw-trusted", "wontfix", "docs", "Straße", "needs-plan")


# --- examples -----------------------------------------------------------------------------------


@pytest.mark.parametrize("association", ["OWNER", "MEMBER", "COLLABORATOR"])
def test_trusted_associations_are_eligible(association: str) -> None:
    assert decide(association, [], DEFAULT) == (True, "")


@pytest.mark.parametrize(
    "association", ["CONTRIBUTOR", "FIRST_TIMER", "FIRST_TIME_CONTRIBUTOR", "MANNEQUIN", "NONE"]
)
def test_other_associations_are_skipped_with_the_reason(association: str) -> None:
    eligible, reason = decide(association, ["bug"], DEFAULT)
    assert not eligible
    assert reason.startswith("untrusted author") and association in reason


@pytest.mark.parametrize("association", [None, "", "  "])
def test_a_missing_association_is_none(association: str | None) -> None:
    eligible, reason = decide(association, [], DEFAULT)
    assert not eligible and "association NONE" in reason
    assert decide(association, [], Policy(trusted_associations=("NONE",)))[0]


@pytest.mark.parametrize("association", ["member", "Member", "oWnEr", " collaborator "])
def test_association_case_does_not_matter(association: str) -> None:
    assert decide(association, [], DEFAULT)[0]
    assert decide("MEMBER", [], Policy(trusted_associations=("member",)))[0]


def test_the_trusted_label_trusts_an_untrusted_author_and_its_removal_does_not() -> None:
    policy = Policy(trusted_label="ghw-trusted")
    assert decide("NONE", ["bug", "ghw-trusted"], policy) == (True, "")
    eligible, reason = decide("NONE", ["bug"], policy)  # the label removed
    assert not eligible and "'ghw-trusted'" in reason
    assert not decide("NONE", ["ghw-trusted"], DEFAULT)[0]  # no trusted label configured
    assert not decide("NONE", [""], Policy(trusted_label=""))[0]  # an empty one trusts nobody


@pytest.mark.parametrize("spelling", ["Ghw-Trusted", "GHW-TRUSTED", "ghw-trusted"])
def test_the_trusted_label_matches_in_any_case(spelling: str) -> None:
    assert decide("NONE", [spelling], Policy(trusted_label="ghw-trusted"))[0]
    assert decide("NONE", ["ghw-trusted"], Policy(trusted_label=spelling))[0]


def test_the_trigger_label_is_required_when_set_even_for_the_owner() -> None:
    policy = Policy(trigger_label="ghw")
    eligible, reason = decide("OWNER", ["bug"], policy)
    assert not eligible and reason == "missing the trigger label 'ghw'"
    assert decide("OWNER", ["GHW", "bug"], policy) == (True, "")
    # trust comes first: the trigger does not trust an untrusted author
    assert decide("NONE", ["ghw"], policy)[0] is False


def test_include_labels_need_one_of_them() -> None:
    policy = Policy(include_labels=("bug", "docs"))
    assert not decide("OWNER", [], policy)[0]
    eligible, reason = decide("OWNER", ["feature"], policy)
    assert not eligible and "none of the included labels bug, docs" in reason
    assert decide("OWNER", ["Docs"], policy)[0]


def test_exclude_labels_skip_whoever_wrote_it() -> None:
    policy = Policy(exclude_labels=("wontfix",), trusted_label="ghw-trusted")
    eligible, reason = decide("OWNER", ["bug", "WontFix"], policy)
    assert not eligible and reason == "has the excluded label WontFix"
    assert not decide("NONE", ["ghw-trusted", "wontfix"], policy)[0]
    assert decide("OWNER", ["bug"], policy)[0]


def test_excluded_wins_over_included_and_trigger() -> None:
    policy = Policy(trigger_label="ghw", include_labels=("bug",), exclude_labels=("bug",))
    assert not decide("OWNER", ["ghw", "bug"], policy)[0]


def test_no_trusted_association_at_all_leaves_only_the_label() -> None:
    policy = Policy(trusted_associations=(), trusted_label="ok")
    assert not decide("OWNER", [], policy)[0]
    assert decide("NONE", ["OK"], policy)[0]
    assert "(none)" in decide("OWNER", [], policy)[1]


# --- what sync does with it: a reopened untrusted issue, and re-checks --------------------------


def _issue(association: str | None, labels: list[str], state: str = "open") -> Issue:
    return Issue(
        number=7,
        title="A title",
        body="A body",
        state=state,
        labels=tuple(labels),
        user_login="someone",
        author_association=association,
        created_at="2024-04-01T00:00:00Z",
        updated_at="2024-05-01T00:00:00Z",
        closed_at=None,
        html_url=None,
        node_id=None,
        is_pull_request=False,
        raw={},
    )


def _view(issue: Issue, policy: Policy, state: str | None = None) -> IssueView:
    """The view the first sync of ``issue`` leaves."""
    from ghw.phases.eligibility import content_hash

    eligible, reason = decide(issue.author_association, issue.labels, policy)
    return IssueView(
        stream_id="o/r#7",
        repo="o/r",
        number=7,
        state=state or ("synced" if eligible else "skipped"),
        version=1,
        title=issue.title,
        labels=list(issue.labels),
        association=issue.author_association or "",
        content_hash=content_hash(issue.title, issue.body, issue.labels),
        eligible=eligible,
        skip_reason=reason,
    )


def test_reopening_a_closed_untrusted_issue_keeps_it_skipped() -> None:
    issue = _issue("NONE", ["bug"])
    view = _view(issue, DEFAULT, state="closed")
    events = plan_issue_events(issue, view, "o/r", DEFAULT)
    assert [e.TYPE for e in events] == ["IssueReopened"]
    reopened = events[0]
    assert reopened.eligible is False and "untrusted" in reopened.reason
    assert (reopened.association, reopened.labels) == ("NONE", ["bug"])


def test_reopening_after_a_downgrade_decides_from_the_association_listed_now() -> None:
    before = _issue("MEMBER", [])
    view = _view(before, DEFAULT, state="closed")
    assert view.eligible
    events = plan_issue_events(_issue("NONE", []), view, "o/r", DEFAULT)
    assert [(e.TYPE, e.eligible, e.association) for e in events] == [
        ("IssueReopened", False, "NONE")
    ]


def test_a_downgrade_seen_in_the_listing_is_recorded_with_its_facts() -> None:
    view = _view(_issue("MEMBER", ["Bug"]), DEFAULT)
    events = plan_issue_events(_issue(None, ["Bug"]), view, "o/r", DEFAULT)
    assert [e.TYPE for e in events] == ["EligibilityChanged"]
    assert (events[0].eligible, events[0].association, events[0].labels) == (False, "NONE", ["Bug"])


def test_a_recheck_narrows_but_never_widens() -> None:
    contributor = _view(_issue("CONTRIBUTOR", []), DEFAULT)
    assert not contributor.eligible
    trusting = Policy(trusted_associations=(*DEFAULT.trusted_associations, "CONTRIBUTOR"))
    assert recheck_events(contributor, trusting) == []  # widening waits for GitHub's answer

    member = _view(_issue("MEMBER", []), DEFAULT)
    narrowed = recheck_events(member, Policy(trigger_label="ghw"))
    assert [(e.TYPE, e.eligible, e.association, e.labels) for e in narrowed] == [
        ("EligibilityChanged", False, "MEMBER", [])
    ]
    # recorded facts newer than the view's are the ones used
    assert recheck_events(member, DEFAULT, ("NONE", []))[0].association == "NONE"


# --- properties ---------------------------------------------------------------------------------


def _spellings(name: str) -> st.SearchStrategy[str]:
    return st.sampled_from([name, name.upper(), name.lower(), name.title(), name.swapcase()])


labels_st = st.lists(st.sampled_from(NAMES).flatmap(_spellings), max_size=5)
association_st = st.one_of(
    st.none(), st.just(""), st.sampled_from(ASSOCIATIONS).flatmap(_spellings)
)
optional_label_st = st.one_of(st.none(), st.sampled_from(NAMES).flatmap(_spellings))
policy_st = st.builds(
    Policy,
    trusted_associations=st.lists(
        st.sampled_from(ASSOCIATIONS).flatmap(_spellings), max_size=4
    ).map(tuple),
    trusted_label=optional_label_st,
    trigger_label=optional_label_st,
    include_labels=st.lists(st.sampled_from(NAMES).flatmap(_spellings), max_size=2).map(tuple),
    exclude_labels=st.lists(st.sampled_from(NAMES).flatmap(_spellings), max_size=2).map(tuple),
)


def expected(association: str | None, labels: list[str], policy: Policy) -> bool:
    """§4.2 written out, comparing as GitHub does (case-insensitively)."""

    def same(a: str, b: str) -> bool:
        return a.casefold() == b.casefold()

    def has(name: str | None) -> bool:
        return bool(name) and any(same(label, name) for label in labels)  # type: ignore[arg-type]

    who = (association or "").strip() or "NONE"
    trusted = any(same(who, t.strip()) for t in policy.trusted_associations) or has(
        policy.trusted_label
    )
    triggered = not policy.trigger_label or has(policy.trigger_label)
    included = not policy.include_labels or any(has(i) for i in policy.include_labels)
    excluded = any(has(x) for x in policy.exclude_labels)
    return trusted and triggered and included and not excluded


@settings(max_examples=600, deadline=None)
@given(association=association_st, labels=labels_st, policy=policy_st)
def test_decide_is_the_policy(association: str | None, labels: list[str], policy: Policy) -> None:
    eligible, reason = decide(association, labels, policy)
    assert eligible == expected(association, labels, policy)
    assert (reason == "") == eligible  # a skip always says why


@settings(max_examples=300, deadline=None)
@given(
    association=association_st,
    labels=labels_st,
    policy=policy_st,
    data=st.data(),
)
def test_case_order_and_duplicates_do_not_matter(
    association: str | None, labels: list[str], policy: Policy, data: st.DataObject
) -> None:
    respelled = [data.draw(_spellings(label)) for label in labels]
    shuffled = data.draw(st.permutations(respelled)) + respelled[:1]
    assoc = data.draw(_spellings(association)) if association else association
    assert decide(association, labels, policy)[0] == decide(assoc, shuffled, policy)[0]
    policy2 = replace(
        policy,
        trusted_associations=tuple(a.lower() for a in policy.trusted_associations),
        trusted_label=policy.trusted_label and policy.trusted_label.upper(),
        trigger_label=policy.trigger_label and policy.trigger_label.swapcase(),
        include_labels=tuple(i.title() for i in policy.include_labels),
        exclude_labels=tuple(x.upper() for x in policy.exclude_labels),
    )
    assert decide(association, labels, policy)[0] == decide(association, labels, policy2)[0]


@settings(max_examples=300, deadline=None)
@given(
    first=association_st,
    first_labels=labels_st,
    then=association_st,
    then_labels=labels_st,
    old=policy_st,
    new=policy_st,
)
def test_sync_decides_from_the_facts_it_records_and_rechecks_never_widen(
    first: str | None,
    first_labels: list[str],
    then: str | None,
    then_labels: list[str],
    old: Policy,
    new: Policy,
) -> None:
    view = _view(_issue(first, first_labels), old)
    # the issue listed again, perhaps changed, under a new policy: the decision is the fresh
    # facts' and records them
    issue = _issue(then, then_labels)
    for event in plan_issue_events(issue, view, "o/r", new):
        if event.TYPE in ("EligibilityChanged", "IssueChanged", "IssueReopened"):
            assert event.eligible == decide(then, then_labels, new)[0]
            assert event.labels == then_labels
            assert (event.association or "NONE") == (then or "NONE")
    # not listed: a re-check from recorded facts can only narrow
    for event in recheck_events(view, new):
        assert event.eligible is False and view.eligible
        assert not decide(view.association, view.labels, new)[0]
    if not view.eligible:
        assert recheck_events(view, new) == []


def test_the_label_filter_ignores_case() -> None:
    from ghw.phases.context import Filters

    assert Filters(labels=("Bug",)).matches_labels(["bug", "docs"])
    assert Filters(labels=("bug", "x")).matches_labels(["BUG"])
    assert not Filters(labels=("bug",)).matches_labels(["docs"])
    assert Filters().matches_labels([])
