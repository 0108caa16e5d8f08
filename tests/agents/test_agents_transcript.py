from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from ghw.agents.transcript import Redactor, TranscriptWriter, transcript_path


def test_redactor_raw_and_json_escaped() -> None:
    secret = 'tok"en\\value'
    r = Redactor([secret, "", "ab"])
    line = json.dumps({"a": f"x {secret} y"})
    assert secret not in r(line) and json.dumps(secret)[1:-1] not in r(line)
    assert "***" in r(line)
    assert r("ab stays") == "ab stays"  # too short to be a secret


def test_writer_hash_and_records(tmp_path: Path) -> None:
    path = tmp_path / "t" / "plan-1.jsonl"
    w = TranscriptWriter(path, Redactor(["s3cr3t-value"]))
    w.meta("start", prompt="use s3cr3t-value")
    w.stdout('{"type":"x"}')
    w.stdout("plain text")
    w.stderr("warn")
    sha = w.close()
    data = path.read_bytes()
    assert sha == hashlib.sha256(data).hexdigest()
    recs = [json.loads(x) for x in data.decode().splitlines()]
    assert recs[0]["ghw"] == "start" and recs[0]["prompt"] == "use ***"
    assert recs[1] == {"type": "x"}
    assert recs[2] == {"ghw": "stdout", "text": "plain text"}
    assert recs[3] == {"ghw": "stderr", "text": "warn"}
    assert path.stat().st_mode & 0o077 == 0


def test_no_path_no_file() -> None:
    w = TranscriptWriter(None, Redactor([]))
    w.stdout("x")
    assert w.close() is None


def test_transcript_path() -> None:
    p = transcript_path(Path("/data"), "octo/app#42", "implement", 17)
    assert p == Path("/data/octo/app/42/transcripts/implement-17.jsonl")
    for bad in ("octo/app", "octo#1", "../x#1", "a/b/c#1", "o/r#x", "o/..#1"):
        with pytest.raises(ValueError):
            transcript_path(Path("/data"), bad, "plan", 1)
