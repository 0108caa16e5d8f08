"""The scripted agent's test-only entry keys used by the phase tests: ``cost_usd`` and
``wait_for`` (validated like the others)."""

from __future__ import annotations

import pytest

from ghw.agents.scripted_script import ScriptError, parse_script


def test_cost_and_wait_for_are_parsed() -> None:
    script = parse_script(
        {"issues": {3: {"plan": {"cost_usd": 0.25, "wait_for": "/tmp/go", "text": "t"}}}}
    )
    entry = script.entry("o/r#3", "plan")
    assert entry is not None
    assert (entry.cost_usd, entry.wait_for) == (0.25, "/tmp/go")
    default = parse_script({"issues": {3: {"plan": {"text": "t"}}}}).entry("o/r#3", "plan")
    assert default is not None and (default.cost_usd, default.wait_for) == (0.0, None)


@pytest.mark.parametrize(
    "entry",
    [{"cost_usd": -1}, {"cost_usd": "lots"}, {"cost_usd": True}, {"wait_for": "relative"}],
)
def test_bad_values_are_refused(entry: dict) -> None:
    with pytest.raises(ScriptError):
        parse_script({"issues": {1: {"plan": entry}}})
