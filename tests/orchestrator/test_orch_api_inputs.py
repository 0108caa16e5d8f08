"""The Python API takes what a Python caller naturally passes (issue 13, item 16): a lone string
is one repository or label, tuples work like lists, and errors name the API's parameters."""

from __future__ import annotations

import pytest

from ghw.errors import UsageError
from ghw.orchestrator import PHASES, WorkOrchestrator


def test_a_lone_string_is_one_repository_or_label_not_its_characters() -> None:
    orch = WorkOrchestrator(repos="Octocat/Hello-World", labels="bug", environ={})
    assert orch.repos == ("octocat/hello-world",)
    assert orch.labels == ("bug",)


def test_phases_as_a_tuple_a_list_or_a_comma_separated_string() -> None:
    for phases in (("sync", "plan"), ["plan", "sync"], "sync,plan"):
        assert WorkOrchestrator(phases=phases, environ={}).phases == ("sync", "plan")
    assert WorkOrchestrator(environ={}).phases == PHASES


def test_issue_numbers_ints_ranges_and_strings() -> None:
    orch = WorkOrchestrator(issue_numbers=[3, (10, 12), "20-21"], environ={})
    assert orch.numbers == (3, (10, 12), (20, 21))
    assert WorkOrchestrator(issue_numbers=7, environ={}).numbers == (7,)


@pytest.mark.parametrize(
    ("kwargs", "names"),
    [
        ({"issue_numbers": [2**64]}, "issue_numbers"),
        ({"issue_numbers": [0]}, "issue_numbers"),
        ({"issue_numbers": [(5, 2)]}, "issue_numbers"),
        ({"issue_numbers": [1.5]}, "issue_numbers"),
        ({"parallelism": 0}, "parallelism"),
        ({"parallelism": True}, "parallelism"),
        ({"since": "yesterday"}, "since"),
        ({"phases": ["sync", "deploy"]}, "deploy"),
    ],
)
def test_bad_arguments_name_the_parameter(kwargs: dict, names: str) -> None:
    with pytest.raises(UsageError, match=names):
        WorkOrchestrator(environ={}, **kwargs)


async def test_run_continuous_refuses_an_endless_or_empty_frequency() -> None:
    orch = WorkOrchestrator(environ={})
    with pytest.raises(ValueError, match="frequency '2999999d' is too long"):
        await orch.run_continuous("2999999d")
    for frequency in ("0s", "10"):
        with pytest.raises(UsageError, match="1h30m"):
            await orch.run_continuous(frequency)
    with pytest.raises(UsageError, match="max_cycles"):
        await orch.run_continuous("1h", max_cycles=0)
