#!/usr/bin/env python3
"""Fill a ledger with N issues with random legal histories (deterministic per seed).

Usage: python scripts/seed_ledger.py --ledger PATH --issues N [--seed S] [--repos R] [--events E]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from pathlib import Path

from ghw.ledger.records import AppendRequest
from ghw.ledger.store import Ledger
from ghw.machine.simulate import random_history


async def seed_ledger(
    path: Path,
    issues: int,
    *,
    seed: int = 0,
    repos: int = 10,
    mean_events: int = 7,
    batch: int = 500,
) -> dict[str, float]:
    rng = random.Random(seed)
    started = time.perf_counter()
    total = 0
    ledger = await Ledger.open(path, worker="seed")
    try:
        requests: list[AppendRequest] = []
        for i in range(issues):
            repo = f"seed/repo{i % repos}"
            number = i // repos + 1
            length = max(1, min(int(rng.expovariate(1 / mean_events)) + 1, 4 * mean_events))
            events = random_history(rng, repo=repo, number=number, length=length, settle=True)
            total += len(events)
            requests.append(AppendRequest(f"{repo}#{number}", 0, events))
            if len(requests) >= batch:
                await ledger.append_batch(requests)
                requests = []
        if requests:
            await ledger.append_batch(requests)
    finally:
        await ledger.close()
    return {"issues": issues, "events": total, "seconds": round(time.perf_counter() - started, 3)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ledger", required=True, type=Path)
    parser.add_argument("--issues", required=True, type=int)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repos", type=int, default=10)
    parser.add_argument("--events", type=int, default=7, help="mean events per issue")
    args = parser.parse_args(argv)
    if args.issues < 0 or args.repos < 1:
        parser.error("--issues must be ≥ 0 and --repos ≥ 1")
    result = asyncio.run(
        seed_ledger(
            args.ledger, args.issues, seed=args.seed, repos=args.repos, mean_events=args.events
        )
    )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
