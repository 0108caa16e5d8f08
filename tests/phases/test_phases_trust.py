"""Eligibility is never widened from stale facts (issue 13, item 2), against fakehub.

The demo's issue 2 is by alice, a MEMBER. She leaves the organisation (association NONE); GitHub
does not touch the issue's ``updated_at`` for that, so the listing may show the change or answer
``304``. Either way the issue is skipped from then on and no agent ever sees it.
"""

from __future__ import annotations

import pytest
from phases_kit import Rig

REPO = "demo/calc"


async def _sync(rig: Rig) -> None:
    result, out = await rig.run("sync")
    assert result.ok, out


@pytest.mark.parametrize("bump", [False, True], ids=["updated_at_kept", "updated_at_moved"])
async def test_a_downgraded_author_stays_skipped_through_later_304s(rig: Rig, bump: bool) -> None:
    await _sync(rig)
    assert (await rig.view(2)).eligible

    with rig.api() as api:
        updated_at = api.get(f"/repos/{REPO}/issues/2").json()["updated_at"]
    keep = {} if bump else {"updated_at": updated_at}  # as GitHub does for a membership change
    rig.hub.control.edit_issue(REPO, 2, author_association="NONE", **keep)
    for _ in range(3):  # the sync that sees the change, then unchanged ones (304)
        await _sync(rig)
        view = await rig.view(2)
        assert view.state == "skipped" and not view.eligible, view
        assert "NONE" in view.skip_reason
    # decided once, from the association GitHub listed, and recorded with it
    changed = [e.payload for e in await rig.history(2) if e.type == "EligibilityChanged"]
    assert [(p["eligible"], p["association"]) for p in changed] == [(False, "NONE")]

    result, out = await rig.run("plan", issue_numbers=[2])
    assert result.ok, out
    assert not rig.issue_dir(2).joinpath("transcripts").exists()
    assert "PlanStarted" not in await rig.types(2)
    assert await rig.state(2) == "skipped"
