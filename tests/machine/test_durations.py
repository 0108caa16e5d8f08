from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ghw import parse_duration
from ghw.durations import format_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("45s", timedelta(seconds=45)),
        ("10m", timedelta(minutes=10)),
        ("30m", timedelta(minutes=30)),
        ("1h", timedelta(hours=1)),
        ("2h", timedelta(hours=2)),
        ("1d", timedelta(days=1)),
        ("7d", timedelta(days=7)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("2d12h", timedelta(days=2, hours=12)),
        ("0s", timedelta(0)),
        ("1d2h3m4s", timedelta(days=1, hours=2, minutes=3, seconds=4)),
    ],
)
def test_accepted_forms(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "10", "1x", "-5m", "m", "1m1h", "1h1h", "1.5h", "1 h", "h1"])
def test_refused_forms_name_the_accepted_ones(text: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_duration(text)
    assert "45s" in str(info.value) and "1h30m" in str(info.value)


@given(st.integers(min_value=0, max_value=10**7))
def test_format_round_trips(seconds: int) -> None:
    td = timedelta(seconds=seconds)
    assert parse_duration(format_duration(td)) == td
