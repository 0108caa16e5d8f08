"""Generate fixtures-server scenarios AUTHORED BY US for what GitHub's recordings lack.

@octokit/fixtures has no pull-request, comment or 304 recordings. These scenarios use the same nock
JSON format; their response bodies are GitHub's own examples from the OpenAPI description
(``components/examples``), their status codes and headers follow GitHub's documentation (the
duplicate-PR 422 body is GitHub's real shape, see shared/reference/github-api.md §3). The contract
tests validate them against the description like everything else.

Run after changing this file (needs .tools/openapi from scripts/install/github-tools.sh):
    .venv/bin/python tests/github/fixtures_server/make_scenarios.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SPEC = HERE.parents[2] / ".tools" / "openapi" / "api.github.com.json"
OUT = HERE / "scenarios"
SCOPE = "https://api.github.com:443"
REPO = "/repos/octocat/Hello-World"
HEADERS = {
    "content-type": "application/json; charset=utf-8",
    "x-ratelimit-limit": "5000",
    "x-ratelimit-remaining": "4999",
    "x-ratelimit-reset": "1507651200",
    "x-ratelimit-used": "1",
    "x-ratelimit-resource": "core",
    "x-github-media-type": "github.v3; format=json",
    "vary": "Accept, Authorization, Cookie, X-GitHub-OTP",
}
REQ = {
    "accept": "application/vnd.github+json",
    "authorization": "token 0000000000000000000000000000000000000001",
}
DUPLICATE_422 = {
    "message": "Validation Failed",
    "errors": [
        {
            "resource": "PullRequest",
            "code": "custom",
            "message": "A pull request already exists for octocat:new-topic.",
        }
    ],
    "documentation_url": "https://docs.github.com/rest/pulls/pulls#create-a-pull-request",
    "status": "422",
}


def example(spec: dict[str, Any], name: str) -> Any:
    value = spec["components"]["examples"][name]["value"]
    value = json.loads(json.dumps(value))
    # GitHub's PR examples lack the required requested_teams[].type; [] is valid data.
    for item in value if isinstance(value, list) else [value]:
        if "requested_teams" in item:
            item["requested_teams"] = []
    return value


def step(
    method: str,
    path: str,
    status: int,
    response: Any,
    *,
    body: Any = "",
    headers: dict[str, str] | None = None,
    reqheaders: dict[str, str] | None = None,
) -> dict[str, Any]:
    req = dict(REQ)
    if body != "":
        req["content-type"] = "application/json; charset=utf-8"
    req.update(reqheaders or {})
    return {
        "scope": SCOPE,
        "method": method,
        "path": path,
        "body": body,
        "status": status,
        "reqheaders": req,
        "responseIsBinary": False,
        "headers": {**HEADERS, **(headers or {})},
        "response": response,
    }


def pr_flow(spec: dict[str, Any]) -> list[dict[str, Any]]:
    create = {"title": "Amazing new feature", "head": "new-topic", "base": "master", "body": "b"}
    etag = '"pr-etag-1"'
    comment = example(spec, "issue-comment")
    return [
        step("post", f"{REPO}/pulls", 201, example(spec, "pull-request"), body=create,
             headers={"location": f"https://api.github.com{REPO}/pulls/1347"}),
        step("post", f"{REPO}/pulls", 422, DUPLICATE_422, body=create),
        step("get", f"{REPO}/pulls?head=octocat%3Anew-topic&state=open&per_page=100", 200,
             example(spec, "pull-request-simple-items")),
        step("get", f"{REPO}/pulls/1347", 200, example(spec, "pull-request"),
             headers={"etag": etag}),
        step("get", f"{REPO}/pulls/1347", 304, "", headers={"etag": etag},
             reqheaders={"if-none-match": etag}),
        step("get", f"{REPO}/issues/1347/comments?per_page=100", 200,
             example(spec, "issue-comment-items")),
        step("post", f"{REPO}/issues/1347/comments", 201, comment,
             body={"body": "Looks good\n\n<!-- ghw:key=review-1347 -->"}),
    ]  # fmt: skip


def main() -> int:
    if not SPEC.exists():
        print(f"missing {SPEC}: run `bash scripts/install/github-tools.sh`", file=sys.stderr)
        return 1
    spec = json.loads(SPEC.read_text(encoding="utf-8"))
    OUT.mkdir(exist_ok=True)
    for name, build in {"ghw-pr-flow": pr_flow}.items():
        (OUT / f"{name}.json").write_text(json.dumps(build(spec), indent=1) + "\n")
        print(f"wrote {OUT / name}.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
