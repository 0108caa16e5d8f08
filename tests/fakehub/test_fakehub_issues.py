"""The issues API: auth, pagination with Link, ETag/304, since, labels, sort, comments."""

from __future__ import annotations

import httpx

from ghw.fakehub import FakeHub


def test_missing_token_is_401_with_github_body(hub: FakeHub) -> None:
    response = httpx.get(f"{hub.base_url}/repos/demo/calc/issues")
    assert response.status_code == 401
    assert response.json() == {
        "message": "Requires authentication",
        "documentation_url": "https://docs.github.com/rest",
        "status": "401",
    }
    empty = httpx.get(f"{hub.base_url}/repos/demo/calc", headers={"Authorization": "Basic !!"})
    assert empty.status_code == 401
    assert empty.json()["message"] == "Bad credentials"
    ok = httpx.get(f"{hub.base_url}/repos/demo/calc", headers={"Authorization": "token abc"})
    assert ok.status_code == 200


def test_headers_are_github_shaped(api: httpx.Client) -> None:
    first = api.get("/repos/demo/calc")
    second = api.get("/repos/demo/calc")
    assert first.headers["content-type"] == "application/json; charset=utf-8"
    assert first.headers["x-github-media-type"] == "github.v3; format=json"
    assert first.headers["x-ratelimit-limit"] == "5000"
    assert first.headers["x-ratelimit-resource"] == "core"
    assert int(second.headers["x-ratelimit-used"]) == int(first.headers["x-ratelimit-used"]) + 1
    assert int(second.headers["x-ratelimit-remaining"]) == 5000 - int(
        second.headers["x-ratelimit-used"]
    )
    assert int(first.headers["x-ratelimit-reset"]) > 1_600_000_000  # epoch seconds
    assert first.headers["etag"].startswith('W/"')


def test_repo_shape(api: httpx.Client, hub: FakeHub) -> None:
    repo = api.get("/repos/demo/calc").json()
    assert repo["full_name"] == "demo/calc"
    assert repo["name"] == "calc"
    assert repo["owner"]["login"] == "demo"
    assert repo["default_branch"] == "main"
    assert repo["clone_url"] == f"{hub.base_url}/demo/calc.git"
    assert repo["html_url"] == f"{hub.base_url}/demo/calc"
    assert repo["private"] is False
    assert api.get("/repos/demo/nope").status_code == 404


def test_issue_shape_and_one_number_sequence(api: httpx.Client, hub: FakeHub) -> None:
    issue = api.get("/repos/demo/calc/issues/1").json()
    assert issue["number"] == 1
    assert issue["title"] == "add() returns the difference instead of the sum"
    assert issue["user"]["login"] == "demo"
    assert issue["author_association"] == "OWNER"
    assert [label["name"] for label in issue["labels"]] == ["bug"]
    assert issue["state"] == "open"
    assert issue["comments"] == 2
    assert issue["html_url"] == f"{hub.base_url}/demo/calc/issues/1"
    assert issue["url"] == f"{hub.base_url}/repos/demo/calc/issues/1"
    assert "pull_request" not in issue
    assert issue["created_at"].endswith("Z") and issue["closed_at"] is None
    hub.control.push_files("demo/calc", "feature", {"NEW.md": "new\n"})
    pull = api.post(
        "/repos/demo/calc/pulls", json={"title": "PR", "head": "feature", "base": "main"}
    ).json()
    later = hub.control.create_issue("demo/calc", "After the PR")
    assert (pull["number"], later["number"]) == (5, 6)
    assert api.get("/repos/demo/calc/issues/99").status_code == 404


def test_pagination_link_headers(api: httpx.Client, hub: FakeHub) -> None:
    hub.control.bulk_create_issues("demo/calc", [{"title": f"extra {n}"} for n in range(8)])
    # 12 open issues, 5 per page -> 3 pages, newest first by default.
    first = api.get("/repos/demo/calc/issues", params={"per_page": 5})
    assert [i["number"] for i in first.json()] == [12, 11, 10, 9, 8]
    base = f"{hub.base_url}/repos/demo/calc/issues"
    assert first.headers["link"] == (
        f'<{base}?per_page=5&page=2>; rel="next", <{base}?per_page=5&page=3>; rel="last"'
    )
    middle = api.get(first.links["next"]["url"])
    assert [i["number"] for i in middle.json()] == [7, 6, 5, 4, 3]
    assert middle.links["prev"]["url"] == f"{base}?per_page=5&page=1"
    assert middle.links["first"]["url"] == f"{base}?per_page=5&page=1"
    assert middle.links["next"]["url"] == f"{base}?per_page=5&page=3"
    last = api.get(middle.links["next"]["url"])
    assert [i["number"] for i in last.json()] == [2, 1]
    assert set(last.links) == {"prev", "first"}
    single = api.get("/repos/demo/calc/issues", params={"per_page": 100})
    assert len(single.json()) == 12 and "link" not in single.headers


def test_per_page_default_30_and_max_100(api: httpx.Client, hub: FakeHub) -> None:
    hub.control.bulk_create_issues("demo/calc", [{"title": f"n{n}"} for n in range(150)])
    assert len(api.get("/repos/demo/calc/issues").json()) == 30
    assert len(api.get("/repos/demo/calc/issues", params={"per_page": 500}).json()) == 100


def test_etag_304_until_content_changes(api: httpx.Client, hub: FakeHub) -> None:
    url = "/repos/demo/calc/issues?state=all&per_page=100"
    first = api.get(url)
    etag = first.headers["etag"]
    again = api.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    # A 304 is free, as on GitHub.
    assert again.headers["x-ratelimit-used"] == first.headers["x-ratelimit-used"]
    other_page = api.get(
        "/repos/demo/calc/issues?state=all&per_page=2", headers={"If-None-Match": etag}
    )
    assert other_page.status_code == 200
    hub.control.edit_issue("demo/calc", 2, title="divide() is wrong")
    changed = api.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    assert any(i["title"] == "divide() is wrong" for i in changed.json())


def test_no_op_edit_keeps_updated_at_and_etag(api: httpx.Client, hub: FakeHub) -> None:
    url = "/repos/demo/calc/issues?state=all"
    first = api.get(url)
    hub.control.set_clock(offset=7200)
    hub.control.add_labels("demo/calc", 1, ["BUG"])  # already there (labels ignore case)
    hub.control.edit_issue("demo/calc", 2, title=first.json()[2]["title"])
    again = api.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    edited = hub.control.edit_issue("demo/calc", 2, body="new body")
    assert edited["updated_at"] > first.json()[2]["updated_at"]


def test_since_filters_on_updated_at_inclusive(api: httpx.Client, hub: FakeHub) -> None:
    repo = "demo/calc"
    for n in (1, 2, 3, 4):
        hub.control.edit_issue(repo, n, updated_at=f"2030-01-0{n}T00:00:00Z")
    got = api.get(
        "/repos/demo/calc/issues",
        params={
            "state": "all",
            "since": "2030-01-03T00:00:00Z",
            "sort": "updated",
            "direction": "asc",
        },
    ).json()
    assert [i["number"] for i in got] == [3, 4]
    assert got[0]["updated_at"] == "2030-01-03T00:00:00Z"
    bad = api.get("/repos/demo/calc/issues", params={"since": "yesterday"})
    assert bad.status_code == 422


def test_state_and_labels_filters(api: httpx.Client, hub: FakeHub) -> None:
    hub.control.close_issue("demo/calc", 3, state_reason="completed")
    hub.control.add_labels("demo/calc", 2, ["urgent"])
    open_numbers = [i["number"] for i in api.get("/repos/demo/calc/issues").json()]
    assert open_numbers == [4, 2, 1]
    closed = api.get("/repos/demo/calc/issues", params={"state": "closed"}).json()
    assert [(i["number"], i["state"], i["state_reason"]) for i in closed] == [
        (3, "closed", "completed")
    ]
    assert closed[0]["closed_at"] is not None
    both = api.get("/repos/demo/calc/issues", params={"labels": "bug,URGENT", "state": "all"})
    assert [i["number"] for i in both.json()] == [2]
    docs = api.get("/repos/demo/calc/issues", params={"labels": "documentation"}).json()
    assert [i["number"] for i in docs] == [4]
    hub.control.remove_label("demo/calc", 2, "urgent")
    assert api.get("/repos/demo/calc/issues", params={"labels": "urgent"}).json() == []
    hub.control.reopen_issue("demo/calc", 3)
    assert api.get("/repos/demo/calc/issues/3").json()["state"] == "open"
    assert api.get("/repos/demo/calc/issues", params={"state": "bogus"}).status_code == 422


def test_sort_updated_and_created(api: httpx.Client, hub: FakeHub) -> None:
    hub.control.edit_issue("demo/calc", 1, updated_at="2031-01-01T00:00:00Z")
    by_updated = api.get("/repos/demo/calc/issues", params={"sort": "updated"}).json()
    assert by_updated[0]["number"] == 1
    asc = api.get("/repos/demo/calc/issues", params={"sort": "created", "direction": "asc"})
    assert [i["number"] for i in asc.json()] == [1, 2, 3, 4]


def test_pull_requests_appear_in_issue_list(api: httpx.Client, hub: FakeHub) -> None:
    hub.control.push_files("demo/calc", "ghw/issue-1", {"calc/ops.py": "x = 1\n"})
    api.post(
        "/repos/demo/calc/pulls", json={"title": "Fix", "head": "demo:ghw/issue-1", "base": "main"}
    )
    items = api.get("/repos/demo/calc/issues", params={"state": "all"}).json()
    pulls = [i for i in items if "pull_request" in i]
    assert [p["number"] for p in pulls] == [5]
    assert pulls[0]["pull_request"]["html_url"] == f"{hub.base_url}/demo/calc/pull/5"
    assert pulls[0]["pull_request"]["merged_at"] is None
    assert pulls[0]["html_url"] == f"{hub.base_url}/demo/calc/pull/5"
    assert all("pull_request" not in i for i in items if i["number"] != 5)


def test_comments_list_and_create(api: httpx.Client, hub: FakeHub) -> None:
    listed = api.get("/repos/demo/calc/issues/1/comments").json()
    assert [(c["user"]["login"], c["author_association"]) for c in listed] == [
        ("demo", "OWNER"),
        ("mallory", "NONE"),
    ]
    before = api.get("/repos/demo/calc/issues/1").json()["updated_at"]
    hub.control.set_clock(offset=3600)
    created = api.post("/repos/demo/calc/issues/1/comments", json={"body": "Review: ok"})
    assert created.status_code == 201
    comment = created.json()
    assert comment["body"] == "Review: ok"
    assert comment["user"]["login"] == "ghw-bot"
    assert comment["html_url"] == (
        f"{hub.base_url}/demo/calc/issues/1#issuecomment-{comment['id']}"
    )
    assert created.headers["location"] == comment["url"]
    issue = api.get("/repos/demo/calc/issues/1").json()
    assert issue["comments"] == 3
    assert issue["updated_at"] > before
    assert api.post("/repos/demo/calc/issues/1/comments", json={}).status_code == 422
    assert api.post("/repos/demo/calc/issues/77/comments", json={"body": "x"}).status_code == 404
    for n in range(4):
        hub.control.add_comment(
            "demo/calc", 2, f"c{n}", author="alice", author_association="MEMBER"
        )
    page = api.get("/repos/demo/calc/issues/2/comments", params={"per_page": 3})
    assert [c["body"] for c in page.json()] == ["c0", "c1", "c2"]
    assert [c["body"] for c in api.get(page.links["next"]["url"]).json()] == ["c3"]


def test_org_and_user_repo_listing(hub: FakeHub, api: httpx.Client) -> None:
    hub.control.create_repo("acme/widgets", owner_kind="org")
    hub.control.create_repo("acme/gadgets")
    org = api.get("/orgs/acme/repos").json()
    assert sorted(r["full_name"] for r in org) == ["acme/gadgets", "acme/widgets"]
    assert [r["full_name"] for r in api.get("/users/demo/repos").json()] == ["demo/calc"]
    assert api.get("/orgs/demo/repos").status_code == 404
    assert api.get("/users/nobody/repos").status_code == 404
