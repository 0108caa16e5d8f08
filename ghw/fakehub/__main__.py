"""``python -m ghw.fakehub [serve] [--port N] [--data DIR] [--seed demo|FILE]``.

``serve`` is the only command, so it may be left out.
"""

from __future__ import annotations

import sys

# an entry point, not a library module: it sits on top, beside the CLI that owns `serve`
from ghw.cli.fakehub_cmd import main

if __name__ == "__main__":
    if len(sys.argv) == 1 or (sys.argv[1].startswith("--") and sys.argv[1] != "--help"):
        sys.argv.insert(1, "serve")
    main()
