"""RFC 8288 Link header parsing: GitHub's real headers, edge cases, and properties."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ghw.github.links import Link, format_link_header, parse_link_header, parse_links

GITHUB = (
    '<https://api.github.com/repositories/1000/issues?per_page=3&page=1>; rel="prev", '
    '<https://api.github.com/repositories/1000/issues?per_page=3&page=3>; rel="next", '
    '<https://api.github.com/repositories/1000/issues?per_page=3&page=5>; rel="last", '
    '<https://api.github.com/repositories/1000/issues?per_page=3&page=1>; rel="first"'
)


def test_githubs_header() -> None:
    rels = parse_link_header(GITHUB)
    assert rels == {
        "prev": "https://api.github.com/repositories/1000/issues?per_page=3&page=1",
        "next": "https://api.github.com/repositories/1000/issues?per_page=3&page=3",
        "last": "https://api.github.com/repositories/1000/issues?per_page=3&page=5",
        "first": "https://api.github.com/repositories/1000/issues?per_page=3&page=1",
    }


def test_commas_and_semicolons_inside_urls_and_quotes() -> None:
    header = '<https://x/a?q=1,2;3>; rel="next"; title="a, b; c", <https://x/b>; rel=last'
    links = parse_links(header)
    assert links == [
        Link("https://x/a?q=1,2;3", {"rel": "next", "title": "a, b; c"}),
        Link("https://x/b", {"rel": "last"}),
    ]


def test_multiple_rels_case_and_first_wins() -> None:
    header = '<https://x/1>; REL="Next Last", <https://x/2>; rel="next"'
    assert parse_link_header(header) == {"next": "https://x/1", "last": "https://x/1"}


def test_junk_is_skipped() -> None:
    assert parse_link_header(None) == {}
    assert parse_link_header("") == {}
    assert parse_link_header('garbage, <https://x/1>; rel="next"') == {"next": "https://x/1"}
    assert parse_link_header("<https://x/1") == {}
    assert parse_link_header('<https://x/1> junk; rel="next", <https://x/2>; rel="last"') == {
        "last": "https://x/2"
    }


def test_escaped_quotes() -> None:
    links = parse_links(r'<u>; rel="next"; title="say \"hi\""')
    assert links[0].params["title"] == 'say "hi"'


urls = st.text(
    alphabet=st.characters(blacklist_characters="<>", blacklist_categories=("Cs", "Cc", "Zs")),
    min_size=1,
    max_size=40,
)
names = st.from_regex(r"[a-z][a-z0-9-]{0,8}", fullmatch=True)
values = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20)
links = st.builds(Link, urls, st.dictionaries(names, values, max_size=4))


@given(st.lists(links, max_size=5))
def test_format_then_parse_round_trips(items: list[Link]) -> None:
    assert parse_links(format_link_header(items)) == items


@given(st.text(max_size=200))
def test_never_raises(text: str) -> None:
    for link in parse_links(text):
        assert isinstance(link.url, str)
