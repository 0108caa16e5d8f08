#!/usr/bin/env python3
"""A longer crash soak than CI's: the crash harness of tests/reliability/test_rel_crash.py with
more kills, more issues and several seeds. Prints one JSON line per seed, then the totals.

    python scripts/soak.py [--seeds 5] [--first-seed 1000] [--kills 200] [--issues 20]

Any failure prints the seed; rerun that seed alone to reproduce it.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "reliability"))

from test_rel_crash import run_crash_harness  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--first-seed", type=int, default=1000)
    ap.add_argument("--kills", type=int, default=200)
    ap.add_argument("--issues", type=int, default=20)
    args = ap.parse_args()
    totals = {"seeds": 0, "kills": 0, "crashpoint_deaths": 0, "events": 0, "prs": 0}
    started = time.monotonic()
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        with tempfile.TemporaryDirectory(prefix=f"ghw-soak-{seed}-") as tmp:
            try:
                figures = run_crash_harness(
                    Path(tmp), seed=seed, kills=args.kills, issues=args.issues
                )
            except BaseException:
                print(
                    f"SOAK FAILED at seed {seed}: python scripts/soak.py --seeds 1 "
                    f"--first-seed {seed} --kills {args.kills} --issues {args.issues}",
                    file=sys.stderr,
                )
                raise
        print(json.dumps({"seed": seed, **figures}), flush=True)
        totals["seeds"] += 1
        for key in ("kills", "crashpoint_deaths", "events", "prs"):
            totals[key] += figures[key]
    totals["duplicate_prs"] = 0
    totals["lost_events"] = 0
    totals["seconds"] = round(time.monotonic() - started)
    print(json.dumps({"totals": totals}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
