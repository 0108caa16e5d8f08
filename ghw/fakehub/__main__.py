"""``python -m ghw.fakehub serve [--port N] [--data DIR] [--seed demo|FILE]``."""

from __future__ import annotations

from ghw.fakehub.cli import main

if __name__ == "__main__":
    main()
