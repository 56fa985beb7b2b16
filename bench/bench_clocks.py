"""Throughput of the pure clock functions on one core.

    .venv/bin/python bench/bench_clocks.py [--n 200000] [--seed 1]

Builds the business calendar once, then times ``decision_deadline`` over a mix of request
types and urgencies with random receipts across 2026-2027 (in UTC, Pacific and New York), and
``member_notice_deadline`` over random decision instants. Target: >= 50,000 decision_deadline
computations per second.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from authorizations.clocks import (
    BusinessCalendar,
    RequestType,
    Urgency,
    decision_deadline,
    member_notice_deadline,
)

TARGET_PER_SECOND = 50_000
ZONES = (UTC, ZoneInfo("America/Los_Angeles"), ZoneInfo("America/New_York"))
MIX = (
    (RequestType.PRE_SERVICE, Urgency.ROUTINE),
    (RequestType.PRE_SERVICE, Urgency.ROUTINE),
    (RequestType.CONCURRENT, Urgency.ROUTINE),
    (RequestType.PRE_SERVICE, Urgency.URGENT),
    (RequestType.CONCURRENT, Urgency.URGENT),
    (RequestType.POST_SERVICE, Urgency.ROUTINE),
)


def random_instants(rng: random.Random, n: int) -> list[datetime]:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    span = int((datetime(2028, 1, 1, tzinfo=UTC) - start).total_seconds())
    return [
        (start + timedelta(seconds=rng.randrange(span))).astimezone(rng.choice(ZONES))
        for _ in range(n)
    ]


def rate(n: int, seconds: float) -> str:
    return f"{n / seconds:,.0f}/s"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200_000, help="computations per function")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    started = time.perf_counter()
    # 2025 and 2028 are loaded too: a UTC receipt early on 2026-01-01 is still 2025 in Pacific,
    # and deadlines for late-2027 receipts fall in 2028.
    calendar = BusinessCalendar.california(years=range(2025, 2029))
    print(f"calendar build: {(time.perf_counter() - started) * 1000:,.1f} ms (once)")

    receipts = random_instants(rng, args.n)
    kinds = [rng.choice(MIX) for _ in range(args.n)]
    decisions = random_instants(rng, args.n)

    started = time.perf_counter()
    for received_at, (request_type, urgency) in zip(receipts, kinds, strict=True):
        decision_deadline(
            received_at=received_at, request_type=request_type, urgency=urgency, calendar=calendar
        )
    decision_seconds = time.perf_counter() - started

    started = time.perf_counter()
    for decided_at in decisions:
        member_notice_deadline(decided_at=decided_at, calendar=calendar)
    member_seconds = time.perf_counter() - started

    decision_rate = args.n / decision_seconds
    print(f"decision_deadline: {rate(args.n, decision_seconds)} ({args.n:,} calls)")
    print(f"member_notice_deadline: {rate(args.n, member_seconds)} ({args.n:,} calls)")
    verdict = "meets" if decision_rate >= TARGET_PER_SECOND else "MISSES"
    print(f"target decision_deadline >= {TARGET_PER_SECOND:,}/s: {verdict}")
    return 0 if decision_rate >= TARGET_PER_SECOND else 1


if __name__ == "__main__":
    raise SystemExit(main())
