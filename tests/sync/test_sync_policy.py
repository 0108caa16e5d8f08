"""Eligibility through the sync, against fakehub: decisions come from what GitHub says now and
record their facts; a re-check from recorded facts never widens; labels and names are
case-insensitive (issue 13, items 2 and 11)."""

from __future__ import annotations

from urllib.parse import parse_qs

from sync_helpers import SyncRig, type_counts

from ghw.fakehub import FakeHub

REPO = "acme/widgets"
TRUSTING = {"policy.trusted_associations": ["OWNER", "MEMBER", "COLLABORATOR", "CONTRIBUTOR"]}


def _query(request: dict) -> dict[str, list[str]]:
    return parse_qs(request["query"] or "")


async def test_a_widening_policy_is_decided_from_githubs_answer_not_the_recorded_association(
    rig: SyncRig, hub: FakeHub
) -> None:
    # Two pages, so the cursor moves past the old issues: an unchanged one is not listed again.
    c = hub.control
    c.create_issue(REPO, "Old, by a contributor", author="carl", author_association="CONTRIBUTOR",
                   updated_at="2023-01-01T00:00:00Z")  # fmt: skip
    c.create_issue(REPO, "Old, by another", author="dora", author_association="CONTRIBUTOR",
                   updated_at="2023-01-02T00:00:00Z")  # fmt: skip
    c.bulk_create_issues(
        REPO,
        [
            {"title": f"New {n}", "updated_at": f"2024-02-{1 + n // 24:02d}T{n % 24:02d}:00:00Z"}
            for n in range(120)
        ],
    )
    first = await rig.sync(REPO)
    assert first.result.ok and first.result.repos[0].requests == 2
    views = await rig.issues(REPO)
    assert views[1].state == views[2].state == "skipped"

    # carl is no contributor any more (GitHub leaves the issue's updated_at alone), dora is
    c.edit_issue(REPO, 1, author_association="NONE", updated_at="2023-01-01T00:00:00Z")
    mark = rig.last_seq()
    run = await rig.sync(REPO, settings=TRUSTING)
    assert run.result.ok

    # Trusting contributors would make both eligible by what the ledger recorded; sync asked
    # GitHub instead: no ETag, and no `since` (both lie before the cursor).
    log = rig.api_requests(mark)
    assert [r["status"] for r in log] == [200, 200]
    assert "since" not in _query(log[0])
    assert "if-none-match" not in {k.lower() for k in log[0]["headers"]}
    views = await rig.issues(REPO)
    assert views[2].state == "synced" and views[2].eligible
    assert views[1].state == "skipped" and "association NONE" in views[1].skip_reason
    history = [e for e in await rig.events(f"{REPO}#1") if e.type == "EligibilityChanged"]
    assert [(e.payload["eligible"], e.payload["association"]) for e in history] == [
        (False, "NONE")  # the new facts are recorded: the next re-check starts from them
    ]

    # Decided: the next sync is the cursor's request again, and nothing changes.
    mark = rig.last_seq()
    again = await rig.sync(REPO, settings=TRUSTING)
    log = rig.api_requests(mark)
    assert len(log) == 1 and "since" in _query(log[0])
    assert again.result.repos[0].counts == {}
    assert (await rig.issues(REPO))[1].state == "skipped"


async def test_a_narrowing_recheck_of_unlisted_issues_records_its_facts(
    rig: SyncRig, hub: FakeHub
) -> None:
    hub.control.create_issue(REPO, "By a member", author_association="MEMBER", labels=["Bug"])
    await rig.sync(REPO)
    run = await rig.sync(REPO, settings={"policy.exclude_labels": ["bug"]})
    assert run.result.repos[0].counts == {"eligibility": 1}
    (changed,) = [e for e in await rig.events(f"{REPO}#1") if e.type == "EligibilityChanged"]
    assert changed.payload == {
        "eligible": False,
        "reason": "has the excluded label Bug",
        "association": "MEMBER",
        "labels": ["Bug"],
    }


async def test_the_trusted_label_added_and_removed_in_any_case(rig: SyncRig, hub: FakeHub) -> None:
    settings = {"policy.trusted_label": "ghw-trusted"}
    hub.control.create_issue(REPO, "From outside", author="eve", author_association="NONE")
    await rig.sync(REPO, settings=settings)
    assert (await rig.issues(REPO))[1].state == "skipped"

    hub.control.add_labels(REPO, 1, ["Ghw-Trusted"])  # GitHub: the same label as ghw-trusted
    await rig.sync(REPO, settings=settings)
    view = (await rig.issues(REPO))[1]
    assert view.state == "synced" and view.eligible

    hub.control.remove_label(REPO, 1, "Ghw-Trusted")
    await rig.sync(REPO, settings=settings)
    view = (await rig.issues(REPO))[1]
    assert view.state == "skipped" and "'ghw-trusted'" in view.skip_reason
    # unchanged since: later syncs (304s) leave it skipped
    for _ in range(2):
        run = await rig.sync(REPO, settings=settings)
        assert run.result.repos[0].not_modified and run.result.repos[0].counts == {}
    assert (await rig.issues(REPO))[1].state == "skipped"


async def test_reopening_a_closed_untrusted_issue_keeps_it_skipped(
    rig: SyncRig, hub: FakeHub
) -> None:
    hub.control.create_issue(REPO, "Closed, from outside", author_association="NONE",
                             state="closed", state_reason="completed")  # fmt: skip
    hub.control.create_issue(REPO, "Closed, by a member", author="alice",
                             author_association="MEMBER", state="closed",
                             state_reason="completed")  # fmt: skip
    await rig.sync(REPO)
    hub.control.reopen_issue(REPO, 1)
    # alice left the organisation while her issue was closed
    hub.control.edit_issue(REPO, 2, author_association="NONE")
    hub.control.reopen_issue(REPO, 2)
    run = await rig.sync(REPO)
    assert run.result.repos[0].counts == {"reopened": 2}
    views = await rig.issues(REPO)
    assert [(views[n].state, views[n].eligible) for n in (1, 2)] == [
        ("skipped", False),
        ("skipped", False),
    ]
    reopened = [e.payload for e in await rig.events(f"{REPO}#") if e.type == "IssueReopened"]
    assert [(p["eligible"], p["association"]) for p in reopened] == [
        (False, "NONE"),
        (False, "NONE"),
    ]
    again = await rig.sync(REPO)  # a 304: the recorded association is NONE, nothing widens
    assert again.result.repos[0].not_modified and again.result.repos[0].counts == {}
    assert (await rig.issues(REPO))[2].state == "skipped"


async def test_label_filter_and_policy_labels_ignore_case(rig: SyncRig, hub: FakeHub) -> None:
    hub.control.create_issue(REPO, "A bug", labels=["bug"])
    hub.control.create_issue(REPO, "Docs", labels=["Docs"])
    hub.control.create_issue(REPO, "Both", labels=["BUG", "wontfix"])
    run = await rig.sync(
        REPO,
        labels=["Bug"],
        settings={"policy.include_labels": ["BUG"], "policy.exclude_labels": ["WontFix"]},
    )
    assert run.result.ok
    views = await rig.issues(REPO)
    assert sorted(views) == [1, 3]  # --label Bug matched bug and BUG, not Docs
    assert views[1].state == "synced"
    assert views[3].state == "skipped" and views[3].skip_reason == "has the excluded label wontfix"


async def test_owner_pattern_expansion_is_lower_cased(rig: SyncRig, hub: FakeHub) -> None:
    hub.control.create_repo("acme/Gadgets")
    hub.control.create_issue("acme/Gadgets", "In gadgets")
    run = await rig.sync("ACME/*")
    assert run.result.ok, run.result
    assert sorted(r.repo for r in run.result.repos) == ["acme/gadgets", "acme/widgets"]
    assert set(type_counts(await rig.events("acme/gadgets#"))) == {
        ("acme/gadgets#1", "IssueSynced")
    }
    # named in another case, it is the same stream: nothing new
    again = await rig.sync("Acme/Gadgets")
    assert [r.repo for r in again.result.repos] == ["acme/gadgets"]
    assert again.result.repos[0].counts == {}


async def test_an_unknown_owner_pattern_fails_alone(rig: SyncRig, hub: FakeHub) -> None:
    hub.control.create_issue(REPO, "In widgets")
    hub.control.create_repo("acme/gadgets")
    hub.control.create_issue("acme/gadgets", "In gadgets")
    run = await rig.sync("nosuch/*", "acme/*", REPO)
    assert not run.result.ok and run.result.error is None  # not the phase: one repository
    outcome = {r.repo: r for r in run.result.repos}
    assert sorted(outcome) == ["acme/gadgets", "acme/widgets", "nosuch/*"]
    assert not outcome["nosuch/*"].ok and "cannot expand nosuch/*" in outcome["nosuch/*"].error
    assert outcome["acme/widgets"].ok and outcome["acme/gadgets"].ok
    assert any(line.startswith("  nosuch/*: FAILED") for line in run.lines)
    assert set(await rig.issues()) == {1}  # one issue in each repository, both synced
    assert len(await rig.events("acme/gadgets#")) == 1


async def test_an_issue_github_no_longer_lists_is_not_widened_nor_asked_for_forever(
    rig: SyncRig, hub: FakeHub
) -> None:
    from ghw.ledger.store import Ledger
    from ghw.machine import events as ev

    hub.control.create_issue(REPO, "Still here", author_association="OWNER")
    await rig.sync(REPO)
    # #9 was synced once (skipped: a contributor's) and GitHub lists it no more (deleted)
    async with await Ledger.open(rig.ledger_path) as ledger:
        await ledger.append(
            f"{REPO}#9",
            0,
            [
                ev.IssueSynced(
                    repo=REPO,
                    number=9,
                    title="Gone",
                    association="CONTRIBUTOR",
                    updated_at="2024-01-01T00:00:00Z",
                    eligible=False,
                    reason="untrusted author",
                )
            ],
        )

    run = await rig.sync(REPO, settings=TRUSTING)  # would widen #9: asks GitHub, which has none
    assert run.result.ok and not run.result.repos[0].not_modified
    view = (await rig.issues(REPO))[9]
    assert view.state == "skipped" and not view.eligible
    assert "not listed by GitHub" in view.skip_reason
    for _ in range(2):  # recorded: the next syncs are 304s again, and #9 stays skipped
        again = await rig.sync(REPO, settings=TRUSTING)
        assert again.result.repos[0].not_modified and again.result.repos[0].counts == {}
    assert (await rig.issues(REPO))[9].state == "skipped"
