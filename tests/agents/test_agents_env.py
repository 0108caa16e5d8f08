from __future__ import annotations

from pathlib import Path

import pytest

from ghw.agents.env import AgentHome, build_agent_env, prepare_ghw_home, resolve_refs
from ghw.errors import ConfigError

TOKEN = "ghp_exampleTokenValue1234567890"
HOME = AgentHome(Path("/g/gh"), Path("/g/gitconfig"))


def test_clean_base_only() -> None:
    parent = {
        "PATH": "/bin",
        "HOME": "/root",
        "LANG": "C.UTF-8",
        "TERM": "xterm",
        "TMPDIR": "/tmp",
        "USER": "me",
        "AWS_SECRET_ACCESS_KEY": "nope",
        "SSH_AUTH_SOCK": "/run/agent",
        "GITHUB_TOKEN": TOKEN,
    }
    env = build_agent_env(parent, {}, home=HOME, secrets=[TOKEN])
    assert env == {
        "PATH": "/bin",
        "HOME": "/root",
        "LANG": "C.UTF-8",
        "TERM": "xterm",
        "TMPDIR": "/tmp",
        "USER": "me",
        "GH_CONFIG_DIR": "/g/gh",
        "GIT_CONFIG_GLOBAL": "/g/gitconfig",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_TERMINAL_PROMPT": "0",
    }


def test_configured_env_resolves_refs_and_adapter_env_is_layered() -> None:
    parent = {"PATH": "/bin", "MY_KEY": "sk-abc", "GITHUB_TOKEN": TOKEN}
    env = build_agent_env(
        parent,
        {"ANTHROPIC_API_KEY": "${MY_KEY}", "LITERAL": "a$$b", "MIX": "x-${MY_KEY}-y"},
        home=HOME,
        secrets=[TOKEN],
        adapter_env={"CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1", "LITERAL": "adapter"},
    )
    assert env["ANTHROPIC_API_KEY"] == "sk-abc"
    assert env["LITERAL"] == "a$b"  # configuration wins over the adapter default
    assert env["MIX"] == "x-sk-abc-y"
    assert env["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"] == "1"
    assert "MY_KEY" not in env  # referenced, not copied


def test_tokens_never_pass_even_when_configured() -> None:
    parent = {"PATH": "/bin", "GITHUB_TOKEN": TOKEN, "MY_TOKEN_VAR": TOKEN}
    env = build_agent_env(
        parent,
        {
            "GITHUB_TOKEN": "${GITHUB_TOKEN}",
            "GH_TOKEN": "literal-other-value",
            "SNEAKY": "${MY_TOKEN_VAR}",
            "EMBEDDED": f"Bearer {TOKEN}",
            "CUSTOM_TOKEN_ENV": "whatever",
        },
        home=HOME,
        secrets=[TOKEN],
        secret_env_names=["CUSTOM_TOKEN_ENV"],
    )
    assert not {"GITHUB_TOKEN", "GH_TOKEN", "SNEAKY", "EMBEDDED", "CUSTOM_TOKEN_ENV"} & set(env)
    assert all(TOKEN not in v for v in env.values())


def test_isolation_vars_cannot_be_overridden() -> None:
    env = build_agent_env(
        {"PATH": "/bin"},
        {"GH_CONFIG_DIR": "/home/me/.config/gh", "GIT_TERMINAL_PROMPT": "1"},
        home=HOME,
    )
    assert env["GH_CONFIG_DIR"] == "/g/gh" and env["GIT_TERMINAL_PROMPT"] == "0"


def test_unset_reference_is_a_config_error_naming_both() -> None:
    with pytest.raises(ConfigError) as err:
        resolve_refs("${NOPE_KEY}", {}, key="OPENAI_API_KEY")
    assert "NOPE_KEY" in str(err.value) and "OPENAI_API_KEY" in str(err.value)


def test_tiny_secrets_are_ignored() -> None:
    env = build_agent_env({"PATH": "/bin", "LANG": "C"}, {}, home=HOME, secrets=["", "C"])
    assert env["LANG"] == "C"


def test_prepare_ghw_home(tmp_path: Path) -> None:
    home = prepare_ghw_home(tmp_path / "h")
    assert home.gh_config_dir.is_dir() and not any(home.gh_config_dir.iterdir())
    text = home.git_config_global.read_text()
    assert "[user]" in text and "helper =" in text
    home.git_config_global.write_text("[credential]\n\thelper = store\n")
    prepare_ghw_home(tmp_path / "h")  # ghw owns the file: it is restored
    assert home.git_config_global.read_text() == text
