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
