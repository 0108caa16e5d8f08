"""Find secrets on disk: used by security tests (and usable by ``ghw`` itself) to prove that a
token went nowhere it should not."""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterable
from pathlib import Path

from ghw.git.auth import secret_forms

__all__ = ["scrub_check"]


def scrub_check(paths: Iterable[Path], secret: str | Iterable[str]) -> list[Path]:
    """Every file under ``paths`` (files or directories) that holds ``secret`` in any form.

    Forms are the raw token and the base64 encodings git would send. Loose git objects are
    zlib-compressed, so they are also searched decompressed. Symlinks are not followed.
    """
    secrets = [secret] if isinstance(secret, str) else list(secret)
    needles = sorted({f.encode() for s in secrets for f in secret_forms(s)})
    if not needles:
        raise ValueError("scrub_check needs a non-empty secret")
    found: list[Path] = []
    for root in paths:
        for file in _files(Path(root)):
            if _holds(file, needles):
                found.append(file)
    return sorted(found)


def _files(root: Path) -> Iterable[Path]:
    if root.is_symlink():
        return
    if root.is_file():
        yield root
        return
    for dirpath, _dirs, names in os.walk(root, followlinks=False):
        for name in names:
            path = Path(dirpath) / name
            if path.is_file() and not path.is_symlink():
                yield path


def _holds(path: Path, needles: list[bytes]) -> bool:
    try:
        data = path.read_bytes()
    except OSError:
        return False
    if any(n in data for n in needles):
        return True
    if path.parent.parent.name == "objects" and len(path.parent.name) == 2:
        try:
            inflated = zlib.decompress(data)
        except zlib.error:
            return False
        return any(n in inflated for n in needles)
    return False
