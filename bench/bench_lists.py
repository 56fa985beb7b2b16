"""Lists and queues at a large plan's scale against the same lists on a small table, side by
side (issue 16; target: p95 < 50 ms at 1M TARs, within 20 % of the small table's, and the
same number of queries).

    .venv/bin/python bench/bench_lists.py [--tars 20000] [--baseline 1000] [--requests 40]
    .venv/bin/python bench/bench_lists.py --tars 1000000

Two databases (DATABASE_URL's name + `_large` / `_small`), loaded by SQL (bench/scale.py) and
analyzed; each measured in a child process of its own, alternately, through the whole Django
stack in-process (middleware, auth, view, serializer or template) as the test world's nurse
and provider. Ratio = large / small: 1.0 means the cost does not grow with history.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import scale

CASES = [
    ("nurse", "/api/v1/tars/?status=submitted,in_review,pended", "API list, nurse queue"),
    ("nurse", "/api/v1/tars/?status=submitted,in_review,pended&family=facet_mbb", "API, family"),
    ("provider", "/api/v1/tars/", "API list, provider"),
    ("nurse", "/review/", "queue page (portal)"),
    ("nurse", "/review/?q=B0000042M", "queue page, search (CIN)"),
    ("nurse", "/review/?q=BENCH-000000042", "queue page, search (number)"),
    ("nurse", "/review/?sort=-received", "queue page, sort newest"),
    ("nurse", "/review/?family=facet_mbb", "queue page, family"),
    ("provider", "/provider/", "provider dashboard (portal)"),
    ("provider", "/provider/?tab=action", "dashboard, needs your action"),
    ("provider", "/provider/?tab=review", "dashboard, in review"),
    ("provider", "/provider/?tab=decided", "dashboard, decided"),
    ("provider", "/provider/?q=B0000042M", "dashboard, search (CIN)"),
]


def child(db: str, tars: int, requests: int) -> None:
    os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{db}"
    scale.configure(db)
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    users = scale.world()
    scale.ensure_template(users)
    present = scale.load_tars(tars)
    out = {"tars": present, "cases": []}
    for persona, url, label in CASES:
        client = Client()
        client.force_login(users[persona])
        for _ in range(3):
            client.get(url)
        times = []
        for _ in range(requests):
            began = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - began) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        with CaptureQueriesContext(connection) as captured:
            client.get(url)
        out["cases"].append(
            {
                "label": label,
                "p50": scale.percentile(times, 0.5),
                "p95": scale.percentile(times, 0.95),
                "queries": len(captured),
            }
        )
    print("RESULT " + json.dumps(out))


def run(db: str, tars: int, requests: int) -> dict:
    result = subprocess.run(  # noqa: S603 - this script, fixed arguments
        [sys.executable, __file__, "--child", db, "--tars", str(tars), "--requests", str(requests)],
        capture_output=True,
        text=True,
        check=False,
    )
    for line in result.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
        print(line)
    raise SystemExit(result.stderr[-3000:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tars", type=int, default=20_000)
    parser.add_argument("--baseline", type=int, default=1_000)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--child")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.tars, args.requests)
        return
    base = os.environ.get("BENCH_DB", "tar_speed_bench")
    large_db, small_db = f"{base}_large", f"{base}_small"
    runs: dict[str, list[dict]] = {"large": [], "small": []}
    for _ in range(args.rounds):
        runs["small"].append(run(small_db, args.baseline, args.requests))
        runs["large"].append(run(large_db, args.tars, args.requests))
    large_n, small_n = runs["large"][0]["tars"], runs["small"][0]["tars"]
    print(f"\nlarge: {large_n:,} TARs   baseline: {small_n:,} TARs   (ms; best of rounds)")
    print(
        f"{'':32}{'p95 large':>10}{'p95 base':>10}{'ratio':>7}"
        f"{'p50 large':>10}{'p50 base':>10}{'ratio':>7}{'queries':>9}"
    )
    for index, (_, _, label) in enumerate(CASES):
        large = min((r["cases"][index] for r in runs["large"]), key=lambda c: c["p95"])
        small = min((r["cases"][index] for r in runs["small"]), key=lambda c: c["p95"])
        ratio = large["p95"] / small["p95"] if small["p95"] else float("nan")
        ratio50 = large["p50"] / small["p50"] if small["p50"] else float("nan")
        queries = f"{large['queries']}/{small['queries']}"
        print(
            f"{label:32}{large['p95']:10.1f}{small['p95']:10.1f}{ratio:7.2f}"
            f"{large['p50']:10.1f}{small['p50']:10.1f}{ratio50:7.2f}{queries:>9}"
        )


if __name__ == "__main__":
    main()
