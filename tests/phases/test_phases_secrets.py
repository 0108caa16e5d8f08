"""Acceptance 6: after a full run the token is nowhere under issues_path (workspaces, mirror,
transcripts, issue files, the ledger) and in no agent's environment. (The run is the demo's full
cycle: three PRs, the untrusted issue skipped, and a second cycle that does nothing.)"""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

from phases_kit import TOKEN, Rig

from ghw.git.audit import scrub_check

ENV_DUMP = textwrap.dedent(
    """\
    #!{python}
    # An agent that records the environment and arguments it was given, then does its job.
    import json, os, sys
    prompt = sys.stdin.read()
    record = {{"env": dict(os.environ), "argv": sys.argv, "cwd": os.getcwd(), "prompt": prompt}}
    with open(os.path.join({dumps!r}, f"{{os.getpid()}}.json"), "w") as fh:
        json.dump(record, fh)
    if os.environ.get("GHW_MODE") == "write":
        with open("ENV_CHECKED.md", "w") as fh:
            fh.write("checked by the env-dump agent\\n")
    print("All good.")
    print("VERDICT: approve")
    """
)


async def test_the_token_is_nowhere_after_a_full_run(rig: Rig) -> None:
    dumps = rig.tmp / "dumps"
    dumps.mkdir()
    agent = rig.tmp / "bin" / "env-dump"
    agent.parent.mkdir()
    agent.write_text(ENV_DUMP.format(python=sys.executable, dumps=str(dumps)))
    agent.chmod(0o755)
    rig.env["GH_TOKEN"] = TOKEN  # the same token under the other name too
    rig.env["SOME_CI_SECRET"] = f"prefix-{TOKEN}-suffix"  # any variable holding it
    rig.configure(
        **{
            "agent.default": "command",
            "agents.command.command": str(agent),
            # a configured variable that resolves to the token is not passed on either
            "agents.command.env": {"LEAKY": "${GITHUB_TOKEN}", "HARMLESS": "kept"},
            "review.comment": True,
            "implement.keep_workspace": True,
        }
    )
    result, out = await rig.cycle()
    assert result.ok, out
    assert [await rig.state(n) for n in (1, 2, 3, 4)] == ["reviewed"] * 3 + ["skipped"]
    assert sorted(p["head"]["ref"] for p in rig.pulls()) == [
        "ghw/issue-1",
        "ghw/issue-2",
        "ghw/issue-3",
    ]
    # a second cycle finds nothing to do and opens nothing
    result, out = await rig.cycle()
    assert result.ok, out
    assert len(rig.pulls()) == 3

    # the run really used the token (pushes and API calls went through) ...
    assert (rig.issues_path / "demo" / "calc" / "mirror.git").is_dir()
    workspaces = list(rig.issues_path.glob("demo/calc/*/workspace"))
    assert workspaces
    # ... yet it is in no file under issues_path: mirror, workspaces, transcripts, issue files,
    # plan/review files, the ledger (and its WAL)
    assert rig.ledger_path.is_file()
    assert list(rig.issues_path.glob("demo/calc/*/transcripts/*.jsonl"))
    leaks = scrub_check([rig.issues_path], TOKEN)
    assert leaks == []
    # (the check itself finds the token where it is)
    canary = rig.tmp / "canary.txt"
    canary.write_text(f"x{TOKEN}x")
    assert scrub_check([canary], TOKEN) == [canary]

    # no agent saw it: not by name, not by value, not in its arguments or prompt
    records = [json.loads(p.read_text()) for p in sorted(dumps.glob("*.json"))]
    assert len(records) == 9  # plan, implement, review for three issues
    for record in records:
        env = record["env"]
        assert "GITHUB_TOKEN" not in env and "GH_TOKEN" not in env
        assert "LEAKY" not in env and "SOME_CI_SECRET" not in env
        assert env["HARMLESS"] == "kept"
        assert TOKEN not in json.dumps(record)
        assert env["GIT_TERMINAL_PROMPT"] == "0" and env["GIT_CONFIG_NOSYSTEM"] == "1"
        gh_config = env["GH_CONFIG_DIR"]
        assert list(Path(gh_config).iterdir()) == []
    assert {r["env"]["GHW_PHASE"] for r in records} == {"plan", "implement", "review"}
