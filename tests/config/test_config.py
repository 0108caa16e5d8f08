"""Configuration: defaults, precedence, and errors that name file, line, key and fix (§8)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from ghw.config import load_config
from ghw.config.edit import set_key
from ghw.config.schema import KEYS
from ghw.errors import ConfigError, MissingIssuesPathError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_cover_the_whole_key_table(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, "issues_path: /srv/ghw\n"), {})
    for spec in KEYS:
        assert spec.key in cfg.values
    assert cfg["plan.parallelism"] == 2
    assert cfg["retry.backoff"] == timedelta(minutes=1)
    assert cfg["policy.trusted_associations"] == ("OWNER", "MEMBER", "COLLABORATOR")
    assert cfg["policy.max_new_per_cycle"] == 5
    assert cfg["github.write_interval"] == timedelta(seconds=1)
    assert cfg.ledger_path == Path("/srv/ghw/ghw.db")
    assert cfg.agent_for("plan") == "claude-code"


def test_loopback_api_url_defaults_write_interval_to_zero(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, "github:\n  api_url: http://127.0.0.1:8000\n"), {})
    assert cfg["github.write_interval"] == timedelta(0)


def test_precedence_flag_over_env_over_file_over_default(tmp_path: Path) -> None:
    path = write(tmp_path, "plan:\n  parallelism: 3\nimplement:\n  parallelism: 4\n")
    env = {
        "GHW_PLAN_PARALLELISM": "5",
        "GHW_IMPLEMENT_PARALLELISM": "6",
        "GHW_REVIEW_PARALLELISM": "7",
    }
    cfg = load_config(path, env, {"plan.parallelism": "9"})
    assert cfg["plan.parallelism"] == 9 and cfg.sources["plan.parallelism"] == "flag"
    assert cfg["implement.parallelism"] == 6
    assert cfg.sources["implement.parallelism"] == "env:GHW_IMPLEMENT_PARALLELISM"
    assert cfg["review.parallelism"] == 7
    cfg2 = load_config(path, {})
    assert cfg2["plan.parallelism"] == 3 and cfg2.sources["plan.parallelism"].endswith(":2")
    assert cfg2["review.parallelism"] == 2 and cfg2.sources["review.parallelism"] == "default"


def test_env_lists_and_agent_keys(tmp_path: Path) -> None:
    env = {
        "GHW_REPOS": "a/b, c/d",
        "GHW_AGENTS_CLAUDE_CODE_MODEL": "sonnet",
        "GHW_ISSUES_PATH": "/x",
    }
    cfg = load_config(write(tmp_path, ""), env)
    assert cfg["repos"] == ("a/b", "c/d")
    assert cfg.agent("claude-code")["model"] == "sonnet"
    assert cfg.issues_path == Path("/x")


def test_relative_paths_resolve_against_the_config_file(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, "issues_path: data\n"), {})
    assert cfg.issues_path == tmp_path / "data"


def test_malformed_yaml_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "issues_path: /x\nplan:\n  parallelism: [1, 2\nrepos: []\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, {})
    message = str(info.value)
    assert str(path) in message and "line" in message and "not valid YAML" in message
    assert info.value.exit_code == 2


def test_unknown_key_names_the_closest_valid_one(tmp_path: Path) -> None:
    path = write(tmp_path, "issues_path: /x\nplan:\n  paralelism: 3\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, {})
    assert "`plan.paralelism`" in str(info.value) and "`plan.parallelism`" in str(info.value)
    assert "line 3" in str(info.value)


def test_wrong_type_names_key_line_and_fix(tmp_path: Path) -> None:
    path = write(tmp_path, "issues_path: /x\nreview:\n  comment: maybe\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, {})
    msg = str(info.value)
    assert "`review.comment`" in msg and "true or false" in msg and "line 3" in msg
    assert "ghw config set review.comment" in msg


def test_invalid_duration_names_accepted_forms(tmp_path: Path) -> None:
    path = write(tmp_path, "retry:\n  backoff: 5 minutes\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, {})
    assert "`retry.backoff`" in str(info.value) and "1h30m" in str(info.value)


def test_bad_env_value_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, ""), {"GHW_PLAN_PARALLELISM": "lots"})
    assert "GHW_PLAN_PARALLELISM" in str(info.value)


def test_missing_issues_path_says_how_to_set_it(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, "repos: []\n"), {})
    with pytest.raises(MissingIssuesPathError) as info:
        _ = cfg.issues_path
    assert "ghw init --issues-path" in str(info.value)
    assert "ghw config set issues_path" in str(info.value)


def test_unknown_agent_name_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="claude-code"):
        load_config(write(tmp_path, "agent:\n  default: claude-cod\n"), {})


def test_config_set_keeps_comments_and_validates(tmp_path: Path) -> None:
    path = write(
        tmp_path, "# top comment\nissues_path: /x  # where\nplan:\n  parallelism: 2 # two\n"
    )
    set_key(path, "plan.parallelism", "4")
    set_key(path, "review.comment", "true")
    set_key(path, "policy.include_labels", "bug,ghw")
    text = path.read_text()
    assert "# top comment" in text and "# where" in text and "# two" in text
    cfg = load_config(path, {})
    assert cfg["plan.parallelism"] == 4 and cfg["review.comment"] is True
    assert cfg["policy.include_labels"] == ("bug", "ghw")
    with pytest.raises(ConfigError):
        set_key(path, "plan.parallelism", "many")
    with pytest.raises(ConfigError, match=r"plan\.parallelism"):
        set_key(path, "plan.parallelsm", "3")
    assert load_config(path, {})["plan.parallelism"] == 4


def test_redaction_of_agent_env(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "agents:\n  claude-code:\n    env:\n      ANTHROPIC_API_KEY: sk-secret\n      OTHER: ${MY_KEY}\n",
    )
    shown = dict((k, v) for k, v, _s in load_config(path, {}).shown())
    assert shown["agents.claude-code.env"] == {"ANTHROPIC_API_KEY": "***", "OTHER": "${MY_KEY}"}


# --- hardening (issue 13, items 13, 15, 16) --------------------------------------------------


def test_a_key_written_twice_names_both_lines(tmp_path: Path) -> None:
    path = write(tmp_path, "issues_path: /x\nlease:\n  ttl: 5m\nrepos: []\nlease:\n  ttl: 1m\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, {})
    assert str(info.value).startswith(f"{path}, line 5: `lease` is set twice (lines 2 and 5)")
    path = write(tmp_path, "agents:\n  codex: {model: a}\n  codex: {model: b}\n")
    with pytest.raises(ConfigError, match=r"`agents\.codex` is set twice \(lines 2 and 3\)"):
        load_config(path, {})
    path = write(tmp_path, "agents:\n  codex:\n    model: a\n    model: b\n")
    with pytest.raises(ConfigError, match=r"`agents\.codex\.model` is set twice \(lines 3 and 4\)"):
        load_config(path, {})


@pytest.mark.parametrize(
    "key", ["lease.ttl", "github.timeout", "agents.claude-code.timeout", "agents.mine.timeout"]
)
def test_zero_is_refused_where_it_is_meaningless(tmp_path: Path, key: str) -> None:
    *section, leaf = key.split(".")
    text = "agents:\n  mine:\n    type: codex\n" if "mine" in key else ""
    lines = [f"{'  ' * i}{part}:" for i, part in enumerate(section) if not text or i > 1]
    if text:
        text += f"    {leaf}: 0s\n"
    else:
        text = "\n".join(lines) + f"\n{'  ' * len(section)}{leaf}: 0s\n"
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text), {})
    assert f"`{key}` must be a duration longer than 0s" in str(info.value)
    env = {"GHW_" + key.upper().replace(".", "_").replace("-", "_"): "0s"}
    if "mine" not in key:
        with pytest.raises(ConfigError, match="environment variable GHW_"):
            load_config(write(tmp_path, ""), env)


def test_zero_is_accepted_where_it_means_something(tmp_path: Path) -> None:
    text = (
        "retry: {backoff: 0s, max_backoff: 0s}\n"
        "shutdown: {grace: 0s}\n"
        "github: {write_interval: 0s, max_rate_wait: 0s}\n"
        "loop: {failure_backoff_max: 0s}\n"
        "agents: {scripted: {delay: 0s}}\n"
    )
    cfg = load_config(write(tmp_path, text), {})
    assert cfg["shutdown.grace"] == timedelta(0) and cfg["github.max_rate_wait"] == timedelta(0)


def test_trusted_associations_are_github_names_in_any_case(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, "policy:\n  trusted_associations: [owner, Member]\n"), {})
    assert cfg["policy.trusted_associations"] == ("OWNER", "MEMBER")
    env = {"GHW_POLICY_TRUSTED_ASSOCIATIONS": "contributor,first_time_contributor"}
    cfg = load_config(write(tmp_path, ""), env)
    assert cfg["policy.trusted_associations"] == ("CONTRIBUTOR", "FIRST_TIME_CONTRIBUTOR")
    assert (
        load_config(write(tmp_path, "policy: {trusted_associations: []}\n"), {})[
            "policy.trusted_associations"
        ]
        == ()
    )
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, "policy:\n  trusted_associations: [OWNER, MEMBERS]\n"), {})
    msg = str(info.value)
    assert msg.startswith(f"{tmp_path / 'config.yaml'}, line 2: `policy.trusted_associations`")
    assert "`MEMBERS`" in msg and "Did you mean `MEMBER`?" in msg and "MANNEQUIN" in msg
    with pytest.raises(ConfigError, match="GHW_POLICY_TRUSTED_ASSOCIATIONS=OWNER"):
        load_config(write(tmp_path, ""), {"GHW_POLICY_TRUSTED_ASSOCIATIONS": "ADMIN"})


def test_agent_types_are_built_in_adapters(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, "agents:\n  fast: {type: claude-code, model: haiku}\n"), {})
    assert cfg.agent("fast")["type"] == "claude-code" and "fast" in cfg.agent_names
    cases = {
        "agents:\n  fast: {type: claude}\n": ("line 2", "`agents.fast.type` is `claude`"),
        "agents:\n  fast:\n    model: haiku\n": ("line 2", "needs `agents.fast.type`"),
        "agents:\n  codex: {type: gemini}\n": ("line 2", "`codex` is a built-in agent"),
        "agents:\n  fast:\n": ("line 2", "`agents.fast` must map its settings"),
    }
    for text, (line, expect) in cases.items():
        with pytest.raises(ConfigError) as info:
            load_config(write(tmp_path, text), {})
        assert f"config.yaml, {line}:" in str(info.value) and expect in str(info.value), text
    with pytest.raises(ConfigError, match="GHW_AGENTS_CODEX_TYPE"):
        load_config(write(tmp_path, ""), {"GHW_AGENTS_CODEX_TYPE": "nope"})


def test_repos_are_kept_as_the_validator_returns_them(tmp_path: Path) -> None:
    from ghw.refs import validate_repo_or_pattern

    # GitHub names are case-insensitive; the validator decides the canonical spelling (ADR
    # 0005: lower case), and the loader keeps what it returns, once, not what was written
    assert validate_repo_or_pattern("Demo/Calc") == "demo/calc"
    cfg = load_config(write(tmp_path, "repos: [Demo/Calc, demo/calc, Octo/*]\n"), {})
    assert cfg["repos"] == ("demo/calc", "octo/*")
    cfg = load_config(write(tmp_path, ""), {"GHW_REPOS": "A/B,a/b"})
    assert cfg["repos"] == ("a/b",)


def test_issues_path_a_file_or_uncreatable_names_key_source_and_fix(tmp_path: Path) -> None:
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    for issues, problem in (
        (blocker, "which is a file, not a directory"),
        (blocker / "a" / "b", f"which cannot be created: {blocker} is a file"),
    ):
        cfg = load_config(write(tmp_path, f"repos: []\nissues_path: {issues}\n"), {})
        with pytest.raises(ConfigError) as info:
            _ = cfg.issues_path
        msg = str(info.value)
        assert msg.startswith(f"{tmp_path / 'config.yaml'}, line 2: `issues_path` is {issues}, ")
        assert problem in msg and "ghw config set issues_path" in msg
        assert info.value.exit_code == 2
        with pytest.raises(ConfigError):
            _ = cfg.ledger_path
    cfg = load_config(write(tmp_path, ""), {"GHW_ISSUES_PATH": str(blocker)})
    with pytest.raises(ConfigError) as info:
        _ = cfg.issues_path
    assert str(info.value).startswith("environment variable GHW_ISSUES_PATH: `issues_path`")
    assert "Set GHW_ISSUES_PATH=" in str(info.value)
    # a path that can be created is fine, and looking at it creates nothing
    fresh = tmp_path / "new" / "issues"
    cfg = load_config(write(tmp_path, f"issues_path: {fresh}\n"), {})
    assert cfg.issues_path == fresh and not (tmp_path / "new").exists()


def test_ghw_config_naming_a_missing_file_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError) as info:
        load_config(missing, {"GHW_CONFIG": str(missing)})
    assert str(info.value).startswith(f"{missing}: the config file named by GHW_CONFIG")
    # the default location may be missing: an empty configuration
    assert load_config(missing, {})["plan.parallelism"] == 2


@pytest.mark.parametrize(
    "text",
    [
        "issues_path: [unclosed\n",
        "- a list\n",
        "plan:\n  parallelism: x\n",
        "plan:\n  paralelism: 3\n",
        "agent:\n  default: nosuch\n",
        "repos: [a/b/c]\n",
        "lease:\n  ttl: 0s\n",
        "agents: 3\n",
    ],
)
def test_messages_start_with_their_location(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path, {})
    assert str(info.value).startswith(f"{path}, line "), str(info.value)
    assert "configuration error" not in str(info.value)


async def test_the_orchestrator_says_configuration_error_once(tmp_path: Path) -> None:
    import io

    from ghw.orchestrator import WorkOrchestrator

    path = write(tmp_path, f"issues_path: {tmp_path}\nlease:\n  ttl: 0s\n")
    out = io.StringIO()
    orch = WorkOrchestrator(config_path=path, environ={"HOME": str(tmp_path)}, stdout=out)
    result = await orch.run_cycle()
    assert not result.ok
    assert out.getvalue().startswith(f"configuration error: {path}, line 3: `lease.ttl`")
    assert out.getvalue().count("configuration error") == 1


def test_check_runtime_files_checks_only_the_phases_it_is_given(tmp_path: Path) -> None:
    from ghw.phases.preflight import check_runtime_files

    (tmp_path / "plan.md").write_text("Plan {title}\n")
    path = write(
        tmp_path,
        "prompts:\n  plan: plan.md\n  review: missing.md\n"
        "agent:\n  implement: scripted\n"
        "agents:\n  scripted:\n    script: play.yaml\n",
    )
    cfg = load_config(path, {})
    check_runtime_files(cfg, ["sync", "plan"])  # plan.md exists
    with pytest.raises(ConfigError) as info:
        check_runtime_files(cfg, ["review"])
    assert str(info.value) == (
        f"{path}, line 3: `prompts.review` names {tmp_path / 'missing.md'}, which does not exist. "
        "Create it, or remove `prompts.review` to use the built-in review template."
    )
    with pytest.raises(ConfigError, match=r"line 8: `agents\.scripted\.script` names .*play\.yaml"):
        check_runtime_files(cfg, ["implement"])
    with pytest.raises(ConfigError) as info:
        check_runtime_files(cfg, ["sync", "plan", "implement", "review"])
    assert len(str(info.value).splitlines()) == 2  # every problem, one line each
    (tmp_path / "play.yaml").write_text("issues: [not, a, mapping]\n")
    with pytest.raises(ConfigError, match=r"`agents\.scripted\.script`: "):
        check_runtime_files(cfg, ["implement"])
    (tmp_path / "play.yaml").write_text("issues:\n  1:\n    implement: {text: done}\n")
    check_runtime_files(cfg, ["implement"])
    (tmp_path / "plan.md").write_text("Plan {title\n")
    with pytest.raises(ConfigError, match=r"`prompts\.plan` names .* not a usable template"):
        check_runtime_files(cfg, ["plan"])


def test_format_value_is_plain(tmp_path: Path) -> None:
    from ghw.config.loader import format_value

    assert format_value(None) == "(not set)"
    assert format_value(("a", "b")) == "[a, b]" and format_value(()) == "[]"
    assert format_value({"K": "v", "N": None}) == "{K: v, N: null}"
    assert format_value(True) == "true" and format_value(timedelta(minutes=90)) == "1h30m"
    assert format_value(tmp_path) == str(tmp_path) and format_value("") == '""'


def test_config_set_refuses_what_would_not_load_and_keeps_the_file(tmp_path: Path) -> None:
    text = "issues_path: /x\nrepos: [demo/calc]\nagents: {fast: {type: codex}}\n"
    path = write(tmp_path, text)
    for key, value in (("repos", "a/b/c"), ("agent.default", "nosuch"), ("lease.ttl", "0s")):
        with pytest.raises(ConfigError) as info:
            set_key(path, key, value)
        assert "Nothing was written" in str(info.value), key
        assert path.read_text() == text
    set_key(path, "agent.default", "fast")
    assert "agent:\n  default: fast\n" in path.read_text()
    # a value under something that is no section: refused, never a traceback
    path = write(tmp_path, "issues_path: /x\nplan: {x: 1}\nreview: 3\n")
    for key in ("plan.parallelism", "review.comment"):
        with pytest.raises(ConfigError, match="Nothing was written"):
            set_key(path, key, "4" if key.startswith("plan") else "true")
    assert path.read_text() == "issues_path: /x\nplan: {x: 1}\nreview: 3\n"


def test_parallelism_has_an_upper_bound(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A typo (100000000000) must not start that many agents (issue 13)."""
    import pytest

    from ghw.config import load_config
    from ghw.errors import ConfigError

    path = tmp_path / "c.yaml"
    path.write_text(f"issues_path: {tmp_path}\nimplement:\n  parallelism: 100000000000\n")
    with pytest.raises(ConfigError, match="from 1 to 64"):
        load_config(path, {}, None, must_exist=True)
    path.write_text(f"issues_path: {tmp_path}\nimplement:\n  parallelism: 64\n")
    assert load_config(path, {}, None, must_exist=True)["implement.parallelism"] == 64
