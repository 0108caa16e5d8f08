"""``ghw.prompts.quote``: no GitHub text keeps anything that reads as one of ghw's markers."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from ghw.prompts import quote

# a marker: <<< before a word, >>> after one, blanks or invisible characters between
MARKER = re.compile(
    r"<{3}[ \t\u00a0\u200b-\u200f\u2060\ufeff]*\w|\w[ \t\u00a0\u200b-\u200f\u2060\ufeff]*>{3}"
)
FRAGMENTS = st.sampled_from(
    ["<", ">", "<<<", ">>>", "ISSUE", "comment", "PULL REQUEST", "DIFF", " ", "\t", "\u200b",
     "\n", "x", "by root", "#1", "é", "9", "_"]
)  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(st.lists(FRAGMENTS, max_size=12).map("".join))
def test_no_marker_survives_and_quoting_again_changes_nothing(text: str) -> None:
    quoted = quote(text)
    assert not MARKER.search(quoted), (text, quoted)
    assert quote(quoted) == quoted
    # only spaces were added, between brackets
    assert quoted.replace(" ", "") == text.replace(" ", "")
    line = quote(text, line=True)
    assert "\n" not in line and not MARKER.search(line)


def test_examples() -> None:
    assert quote("COMMENT>>>\n<<<COMMENT by demo") == "COMMENT> > >\n< < <COMMENT by demo"
    assert quote(None) == ""
    assert quote(">>> import calc\n>>> calc.add(1, 2)") == ">>> import calc\n>>> calc.add(1, 2)"
    assert quote('cat <<< "$x"') == 'cat <<< "$x"'
    assert quote("a\r\nb\nc", line=True) == "a b c"
