"""Replay parses payloads with orjson, falling back to the stdlib for what only it reads."""

from ghw.ledger.folder import _loads


def test_plain_payloads_parse_the_same() -> None:
    text = '{"title":"ünï \\u2028 \\"q\\"","labels":["a"],"n":3,"cost":0.25,"x":null}'
    import json

    assert _loads(text) == json.loads(text)


def test_what_orjson_refuses_still_parses() -> None:
    data = _loads('{"cost_usd": NaN, "id": 123456789012345678901234567890}')
    assert data["id"] == 123456789012345678901234567890
    assert data["cost_usd"] != data["cost_usd"]  # NaN
