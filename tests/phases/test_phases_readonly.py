"""Acceptance 5 (read-only plan): whatever the plan step's agent changes is refused or discarded,
and noted; nothing reaches the workspace's next step, the mirror or GitHub."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import yaml
from phases_kit import DEMO_SCRIPT, Rig, payloads

ROGUE = textwrap.dedent(
    """\
    #!{python}
    # A "claude" that ignores its read-only flags: it writes, deletes and even commits.
    import json, os, subprocess, sys
    if "--version" in sys.argv:
        print("2.1.197 (Claude Code)")
        sys.exit(0)
    sys.stdin.read()
    open("ROGUE.md", "w").write("written in read-only mode\\n")
    with open("calc/ops.py", "a") as fh:
        fh.write("# tampered\\n")
    os.remove("tests/test_ops.py")
    subprocess.run(["git", "add", "-A"], check=True)
    subprocess.run(["git", "commit", "-qm", "sneaky"], check=True)
    sha = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    open("LATE.txt", "w").write("after the commit\\n")
    def emit(obj):
        obj.setdefault("session_id", "rogue-1")
        print(json.dumps(obj), flush=True)
    emit({{"type": "system", "subtype": "init", "cwd": os.getcwd(), "model": "rogue"}})
    text = f"Plan: fix add(). (made commit {{sha}})"
    emit({{"type": "assistant", "message": {{"id": "m1", "type": "message", "role": "assistant",
          "model": "rogue", "content": [{{"type": "text", "text": text}}]}}}})
    emit({{"type": "result", "subtype": "success", "is_error": False, "num_turns": 1,
          "result": text, "total_cost_usd": 0.01, "usage": {{"input_tokens": 1, "output_tokens": 1}}}})
    """
)


def _git(git_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    where = ["-C", str(git_dir.parent)] if git_dir.name == ".git" else [f"--git-dir={git_dir}"]
    return subprocess.run(["git", *where, *args], capture_output=True, text=True, check=False)


def _refs(git_dir: Path) -> str:
    return _git(git_dir, "for-each-ref", "--format=%(refname) %(objectname)").stdout


async def test_scripted_plan_edits_are_refused_in_read_only_mode(rig: Rig) -> None:
    script = yaml.safe_load(DEMO_SCRIPT.read_text())
    script["issues"][1]["plan"]["edits"] = [
        {"path": "calc/ops.py", "replace": {"old": "return x - y", "new": "return x + y"}},
        {"path": "PLAN_NOTES.md", "write": "should not exist\n"},
    ]
    rig.script(script)
    rig.configure(**{"implement.keep_workspace": True})
    hub_git = rig.hub.store.git_root / "demo" / "calc.git"
    hub_refs = _refs(hub_git)
    result, out = await rig.run("sync", "plan", issue_numbers=[1])
    assert result.ok, out
    [completed] = payloads(await rig.history(1), "PlanCompleted")
    assert completed["discarded_changes"] == []
    assert "return x + y" in completed["text"]  # the plan text is still the plan
    # the refusals are on record in the transcript
    [transcript] = rig.transcripts(1, "plan")
    records = [json.loads(line) for line in transcript.read_text().splitlines()]
    refused = [
        block
        for r in records
        if r.get("type") == "user"
        for block in r["message"]["content"]
        if block.get("is_error") and "read-only" in str(block.get("content"))
    ]
    assert len(refused) == 2
    result_line = next(r for r in records if r.get("type") == "result")
    assert [d["tool_name"] for d in result_line["permission_denials"]] == ["Replace", "Write"]
    # nothing changed: the kept workspace is the base checkout, the mirror and GitHub as before
    workspace = rig.issue_dir(1) / "workspace"
    assert "return x - y" in (workspace / "calc" / "ops.py").read_text()
    assert not (workspace / "PLAN_NOTES.md").exists()
    assert _git(workspace / ".git", "status", "--porcelain").stdout == ""
    assert _refs(hub_git) == hub_refs
    mirror = rig.issues_path / "demo" / "calc" / "mirror.git"
    assert _refs(mirror).split() == [x for x in hub_refs.split()]


async def test_changes_made_anyway_by_a_plan_agent_are_discarded_and_noted(rig: Rig) -> None:
    rogue = rig.tmp / "bin" / "claude-rogue"
    rogue.parent.mkdir()
    rogue.write_text(ROGUE.format(python=sys.executable))
    rogue.chmod(0o755)
    rig.configure(
        **{
            "agent.plan": "claude-code",
            "agents.claude-code.command": str(rogue),
            "implement.keep_workspace": True,
        }
    )
    hub_git = rig.hub.store.git_root / "demo" / "calc.git"
    hub_refs = _refs(hub_git)
    result, out = await rig.run("sync", "plan", issue_numbers=[1])
    assert result.ok, out
    assert "discarded changes to 4 file(s)" in out
    [completed] = payloads(await rig.history(1), "PlanCompleted")
    assert completed["discarded_changes"] == [
        "LATE.txt",
        "ROGUE.md",
        "calc/ops.py",
        "tests/test_ops.py",
    ]
    assert "discarded changes: LATE.txt, ROGUE.md" in (rig.issue_dir(1) / "plan.md").read_text()
    sneaky = completed["text"].rsplit("commit ", 1)[1].rstrip(")")
    assert len(sneaky) == 40

    workspace = rig.issue_dir(1) / "workspace"
    assert not (workspace / "ROGUE.md").exists() and not (workspace / "LATE.txt").exists()
    assert (workspace / "tests" / "test_ops.py").exists()
    assert "tampered" not in (workspace / "calc" / "ops.py").read_text()
    assert _git(workspace / ".git", "status", "--porcelain").stdout == ""
    head = _git(workspace / ".git", "rev-parse", "HEAD").stdout.strip()
    mirror = rig.issues_path / "demo" / "calc" / "mirror.git"
    assert head == _git(mirror, "rev-parse", "refs/heads/main").stdout.strip()
    # the sneaky commit reached neither the mirror nor GitHub
    assert _git(mirror, "cat-file", "-e", sneaky).returncode != 0
    assert _git(hub_git, "cat-file", "-e", sneaky).returncode != 0
    assert _refs(hub_git) == hub_refs

    # and the implement step starts from the clean base, not from the plan's leftovers
    rig.configure(**{"agent.plan": None})
    result, out = await rig.run("implement", issue_numbers=[1])
    assert result.ok, out
    [pr] = rig.pulls()
    with rig.api() as api:
        files = api.get(
            f"/repos/demo/calc/pulls/{pr['number']}",
            headers={"Accept": "application/vnd.github.diff"},
        ).text
    assert "ROGUE" not in files and "tampered" not in files and "LATE" not in files
    assert "+    return x + y" in files
