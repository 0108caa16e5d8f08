"""Control-API faults of every kind, and the request log."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from fakehub_helpers import TOKEN, git, git_auth_args

from ghw.fakehub import FakeHub, FakeHubControlError

ISSUES = "/repos/demo/calc/issues"


def test_status_fault_fires_count_times(api: httpx.Client, hub: FakeHub) -> None:
    fault = hub.control.fail("/repos/*/issues", status=502, count=2)
    assert fault["kind"] == "status" and fault["count"] == 2
    assert api.get("/repos/demo/calc").status_code == 200  # other paths unaffected
    first = api.get(ISSUES)
    assert first.status_code == 502
    assert first.json()["message"] == "Bad Gateway"
    assert api.get(ISSUES).status_code == 502
    assert api.get(ISSUES).status_code == 200
    assert hub.control.faults() == []


def test_fault_by_method_and_regex(api: httpx.Client, hub: FakeHub) -> None:
    hub.control.add_fault(regex=r"/issues/\d+/comments$", method="POST", status=503, count=None)
    assert api.get("/repos/demo/calc/issues/1/comments").status_code == 200
    for _ in range(3):
        assert api.post("/repos/demo/calc/issues/1/comments", json={"body": "x"}).status_code == 503
    assert len(hub.control.faults()) == 1
    assert hub.control.faults()[0]["hits"] == 3
    hub.control.clear_faults()
    assert api.post("/repos/demo/calc/issues/1/comments", json={"body": "x"}).status_code == 201


def test_regex_sees_query(api: httpx.Client, hub: FakeHub) -> None:
    hub.control.add_fault(regex=r"page=2", status=500)
    assert api.get(ISSUES, params={"per_page": 1}).status_code == 200
    assert api.get(ISSUES, params={"per_page": 1, "page": 2}).status_code == 500


def test_primary_rate_limit(api: httpx.Client, hub: FakeHub) -> None:
    hub.control.rate_limit(ISSUES, reset_in=120)
    now = int(time.time())
    response = api.get(ISSUES)
    assert response.status_code == 403
    assert response.headers["x-ratelimit-remaining"] == "0"
    reset = int(response.headers["x-ratelimit-reset"])
    assert now + 100 <= reset <= now + 140
    assert response.json()["message"].startswith("API rate limit exceeded")
    assert "retry-after" not in response.headers
    assert api.get(ISSUES).status_code == 200


def test_primary_rate_limit_follows_the_clock(api: httpx.Client, hub: FakeHub) -> None:
    hub.control.set_clock(now="2035-06-01T00:00:00Z")
    hub.control.rate_limit(ISSUES, reset_in=10, status=429)
    response = api.get(ISSUES)
    assert response.status_code == 429
    assert int(response.headers["x-ratelimit-reset"]) - 2064268800 in range(9, 13)


@pytest.mark.parametrize("status", [403, 429])
def test_secondary_rate_limit(api: httpx.Client, hub: FakeHub, status: int) -> None:
    hub.control.secondary_rate_limit("/repos/*/pulls", retry_after=7, status=status, method="POST")
    response = api.post("/repos/demo/calc/pulls", json={"title": "x", "head": "a", "base": "main"})
    assert response.status_code == status
    assert response.headers["retry-after"] == "7"
    assert "secondary rate limit" in response.json()["message"]
    assert response.headers["x-ratelimit-remaining"] != "0"


def test_connection_reset_is_seen_by_httpx(api: httpx.Client, hub: FakeHub) -> None:
    hub.control.reset_connection(ISSUES)
    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        api.get(ISSUES)
    assert api.get(ISSUES).status_code == 200
    logged = [e for e in hub.control.requests() if e["path"] == ISSUES]
    assert logged[0]["status"] is None and logged[0]["fault"] == "reset"
    assert logged[1]["status"] == 200


def test_latency_delays_then_answers(api: httpx.Client, hub: FakeHub) -> None:
    hub.control.delay(ISSUES, delay_ms=300)
    started = time.perf_counter()
    response = api.get(ISSUES)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200
    assert elapsed >= 0.3
    started = time.perf_counter()
    api.get(ISSUES)
    assert time.perf_counter() - started < 0.3


def test_git_paths_take_faults_too(hub: FakeHub, tmp_path: Path) -> None:
    hub.control.fail("/demo/calc.git/*", status=503)
    failed = git(
        *git_auth_args(), "clone", hub.clone_url("demo/calc"), str(tmp_path / "a"), check=False
    )
    assert failed.returncode != 0
    git(*git_auth_args(), "clone", "--quiet", hub.clone_url("demo/calc"), str(tmp_path / "b"))


def test_list_remove_and_refuse_bad_faults(hub: FakeHub) -> None:
    one = hub.control.fail("/a", count=None)
    hub.control.fail("/b")
    assert [f["path"] for f in hub.control.faults()] == ["/a", "/b"]
    hub.control.remove_fault(one["id"])
    assert [f["path"] for f in hub.control.faults()] == ["/b"]
    with pytest.raises(FakeHubControlError) as err:
        hub.control.add_fault("/x", kind="explode")
    assert err.value.status == 422
    with pytest.raises(FakeHubControlError):
        hub.control.add_fault(regex="(")
    with pytest.raises(FakeHubControlError):
        hub.control.secondary_rate_limit(status=500)


def test_request_log_redacts_tokens_and_clears(api: httpx.Client, hub: FakeHub) -> None:
    hub.control.clear_requests()
    api.get(ISSUES, params={"state": "all"}, headers={"If-None-Match": '"abc"'})
    api.get("/repos/demo/calc/issues/999")
    log = hub.control.requests()
    assert [(e["method"], e["path"], e["status"]) for e in log] == [
        ("GET", ISSUES, 200),
        ("GET", "/repos/demo/calc/issues/999", 404),
    ]
    assert log[0]["query"] == "state=all"
    assert log[0]["headers"]["Authorization"] == "Bearer [redacted]"
    assert log[0]["headers"]["If-None-Match"] == '"abc"'
    assert TOKEN not in str(log)
    assert [e["seq"] for e in hub.control.requests(after=log[0]["seq"])] == [log[1]["seq"]]
    hub.control.clear_requests()
    assert hub.control.requests() == []


# ---------------------------------------------------------------- faults after the effect

PULLS = "/repos/demo/calc/pulls"


def _open_pulls(hub: FakeHub, head: str) -> list[int]:
    repo = hub.store.repo("demo", "calc")
    assert repo is not None
    return [
        i.number
        for i in repo.issues.values()
        if i.pull and i.pull.head_ref == head and i.state == "open"
    ]


def _feature_branch(hub: FakeHub, branch: str = "feature") -> None:
    hub.control.push_files("demo/calc", branch, {"feature.txt": "new\n"})


def test_reset_after_the_pull_is_created(api: httpx.Client, hub: FakeHub) -> None:
    _feature_branch(hub)
    fault = hub.control.reset_connection(PULLS, method="POST", when="after")
    assert fault["when"] == "after" and fault["kind"] == "reset"
    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        api.post(PULLS, json={"title": "F", "head": "feature", "base": "main"})
    assert len(_open_pulls(hub, "feature")) == 1  # the effect happened, the answer did not
    assert hub.control.faults() == []
    entry = [e for e in hub.control.requests() if e["path"] == PULLS][-1]
    assert entry["status"] is None and entry["fault"] == "reset"
    assert entry["fault_when"] == "after" and entry["handled_status"] == 201
    listed = api.get(PULLS, params={"head": "demo:feature", "state": "all"}).json()
    assert [p["number"] for p in listed] == _open_pulls(hub, "feature")


def test_status_after_the_comment_is_posted(api: httpx.Client, hub: FakeHub) -> None:
    comments = "/repos/demo/calc/issues/2/comments"
    before = len(api.get(comments).json())
    hub.control.fail(comments, status=502, method="POST", when="after")
    answer = api.post(comments, json={"body": "posted despite the 502"})
    assert answer.status_code == 502 and answer.json()["message"] == "Bad Gateway"
    bodies = [c["body"] for c in api.get(comments).json()]
    assert len(bodies) == before + 1 and bodies[-1] == "posted despite the 502"
    entry = [e for e in hub.control.requests() if e["method"] == "POST"][-1]
    assert (entry["status"], entry["fault"], entry["handled_status"]) == (502, "status", 201)


def test_close_after_the_push_is_accepted(hub: FakeHub, tmp_path: Path) -> None:
    work = tmp_path / "work"
    git(*git_auth_args(), "clone", "--quiet", hub.clone_url("demo/calc"), str(work))
    git("checkout", "--quiet", "-b", "pushed", cwd=work)
    (work / "pushed.txt").write_text("pushed\n")
    git("add", "-A", cwd=work)
    git("commit", "--quiet", "-m", "pushed", cwd=work)
    sha = git("rev-parse", "HEAD", cwd=work).stdout.strip()
    hub.control.close_connection("/demo/calc.git/git-receive-pack", method="POST", when="after")
    pushed = git(*git_auth_args(), "push", "origin", "pushed", cwd=work, check=False)
    assert pushed.returncode != 0, pushed.stderr  # the client never heard back...
    repo = hub.store.repo("demo", "calc")
    assert repo is not None
    assert hub.store.git(repo).branch_sha("pushed") == sha  # ...but the refs were updated
    pushes = [e for e in hub.control.requests() if e["path"].endswith("git-receive-pack")]
    dropped = [e for e in pushes if e.get("fault")]
    assert len(dropped) == 1 and dropped[0] == pushes[0]
    assert dropped[0]["git"] and dropped[0]["fault"] == "close"
    assert dropped[0]["status"] is None and dropped[0]["handled_status"] == 200
    # curl sends the POST again on a fresh connection when a reused one closes without an
    # answer; that retry finds the ref already created and is rejected, as on a real server
    assert all(e["status"] == 200 for e in pushes[1:])
    # no fault armed: the next push goes through normally (and is up to date)
    git(*git_auth_args(), "push", "--quiet", "origin", "pushed", cwd=work)


def test_an_after_fault_waits_for_a_request_that_succeeds(api: httpx.Client, hub: FakeHub) -> None:
    _feature_branch(hub)
    hub.control.reset_connection(PULLS, method="POST", when="after")
    refused = api.post(PULLS, json={"title": "F", "head": "nosuch", "base": "main"})
    assert refused.status_code == 422  # a failed request has no effect to lose: still armed
    assert [f["hits"] for f in hub.control.faults()] == [0]
    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        api.post(PULLS, json={"title": "F", "head": "feature", "base": "main"})
    assert hub.control.faults() == []


def test_close_before_and_latency_after(api: httpx.Client, hub: FakeHub) -> None:
    hub.control.close_connection(ISSUES, method="POST")
    with pytest.raises(httpx.RemoteProtocolError):
        api.post(ISSUES, json={"title": "never made"})
    assert "never made" not in [i["title"] for i in api.get(ISSUES).json()]
    hub.control.delay(ISSUES, delay_ms=300, method="GET", when="after")
    started = time.perf_counter()
    assert api.get(ISSUES).status_code == 200
    assert time.perf_counter() - started >= 0.3


def test_after_faults_refused_where_they_make_no_sense(hub: FakeHub) -> None:
    for kind in ("primary_rate_limit", "secondary_rate_limit"):
        with pytest.raises(FakeHubControlError) as err:
            hub.control.add_fault("/x", kind=kind, when="after")
        assert err.value.status == 422 and err.value.body["errors"][0]["field"] == "when"
    with pytest.raises(FakeHubControlError):
        hub.control.add_fault("/x", when="during")
    assert hub.control.faults() == []
    assert hub.control.fail("/x")["when"] == "before"


def test_duplicate_pull_refusal_can_be_switched_off(api: httpx.Client, hub: FakeHub) -> None:
    _feature_branch(hub)
    assert hub.control.settings() == {"refuse_duplicate_pulls": True}
    spec = {"title": "F", "head": "feature", "base": "main"}
    first = api.post(PULLS, json=spec)
    assert first.status_code == 201
    duplicate = api.post(PULLS, json=spec)
    assert duplicate.status_code == 422
    assert "already exists" in duplicate.json()["errors"][0]["message"]
    hub.control.refuse_duplicate_pulls(False)
    assert hub.control.settings() == {"refuse_duplicate_pulls": False}
    second = api.post(PULLS, json=spec)
    assert second.status_code == 201 and second.json()["number"] != first.json()["number"]
    assert len(_open_pulls(hub, "feature")) == 2
    hub.control.refuse_duplicate_pulls(True)
    assert api.post(PULLS, json=spec).status_code == 422
    with pytest.raises(FakeHubControlError) as err:
        hub.control.update_settings(refuse_duplicates=False)  # type: ignore[arg-type]
    assert err.value.status == 422
