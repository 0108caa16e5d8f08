"""RFC 8288 ``Link`` header parsing (pure).

GitHub paginates with ``Link: <url>; rel="next", <url>; rel="last"``. The URLs are used verbatim
(GitHub's own ``next`` links point at ``/repositories/{id}/…``, not the path we asked for), so the
parser must not mangle them: commas and semicolons inside ``<…>`` or inside quoted parameter values
belong to the value, not the syntax.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

__all__ = ["Link", "format_link_header", "parse_link_header", "parse_links"]

_WS = " \t"


@dataclass(frozen=True)
class Link:
    """One link-value: its target and parameters (names lower-cased, ``rel`` kept as given)."""

    url: str
    params: Mapping[str, str] = field(default_factory=dict)

    @property
    def rels(self) -> tuple[str, ...]:
        # rel may hold several space-separated relation types; they compare case-insensitively.
        return tuple(r.lower() for r in self.params.get("rel", "").split())


def _skip_ws(s: str, i: int) -> int:
    while i < len(s) and s[i] in _WS:
        i += 1
    return i


def _skip_to_comma(s: str, i: int) -> int:
    """Index just past the next comma that is outside a quoted string (recovery from junk)."""
    quoted = False
    while i < len(s):
        c = s[i]
        if quoted and c == "\\":
            i += 2
            continue
        if c == '"':
            quoted = not quoted
        elif c == "," and not quoted:
            return i + 1
        i += 1
    return i


def _read_quoted(s: str, i: int) -> tuple[str, int]:
    """Read a quoted-string starting at s[i] == '"'; returns (value, index after closing quote)."""
    out: list[str] = []
    i += 1
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            out.append(s[i + 1])
            i += 2
            continue
        if c == '"':
            return "".join(out), i + 1
        out.append(c)
        i += 1
    return "".join(out), i  # unterminated: take the rest, as browsers do


def _read_token(s: str, i: int, stops: str) -> tuple[str, int]:
    start = i
    while i < len(s) and s[i] not in stops:
        i += 1
    return s[start:i].strip(), i


def parse_links(value: str | None) -> list[Link]:
    """Every well-formed link-value of a ``Link`` header, in order; junk between them is skipped."""
    links: list[Link] = []
    if not value:
        return links
    s = value
    i = 0
    while i < len(s):
        i = _skip_ws(s, i)
        if i >= len(s):
            break
        if s[i] == ",":
            i += 1
            continue
        if s[i] != "<":
            i = _skip_to_comma(s, i)
            continue
        end = s.find(">", i + 1)
        if end < 0:
            break
        url = s[i + 1 : end].strip()
        i = end + 1
        params: dict[str, str] = {}
        while True:
            i = _skip_ws(s, i)
            if i >= len(s) or s[i] == ",":
                break
            if s[i] != ";":
                # Junk after the target: keep the link, resume after the next comma.
                i = _skip_to_comma(s, i)
                break
            i = _skip_ws(s, i + 1)
            name, i = _read_token(s, i, "=;," + _WS)
            i = _skip_ws(s, i)
            val = ""
            if i < len(s) and s[i] == "=":
                i = _skip_ws(s, i + 1)
                if i < len(s) and s[i] == '"':
                    val, i = _read_quoted(s, i)
                else:
                    val, i = _read_token(s, i, ";,")
            name = name.lower()
            # RFC 8288 §3.3: only the first occurrence of a parameter counts.
            if name and name not in params:
                params[name] = val
        links.append(Link(url, params))
    return links


def parse_link_header(value: str | None) -> dict[str, str]:
    """Map each relation type (lower-cased) to its URL; the first link naming a rel wins."""
    rels: dict[str, str] = {}
    for link in parse_links(value):
        for rel in link.rels:
            rels.setdefault(rel, link.url)
    return rels


def _quote(v: str) -> str:
    return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'


def format_link_header(links: Iterable[Link]) -> str:
    """The inverse of :func:`parse_links` (used by tests and fake servers)."""
    parts = []
    for link in links:
        params = "".join(f"; {k}={_quote(v)}" for k, v in link.params.items())
        parts.append(f"<{link.url}>{params}")
    return ", ".join(parts)
