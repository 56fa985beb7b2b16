"""POST /api/v1/tars/ against a bare Django+DRF endpoint (bench/bare/app.py), side by side
(issue 16; target: the portal at >= 0.5 of the bare endpoint's throughput), and the RSS of
their gunicorn workers (target: < 2x the bare worker's).

    .venv/bin/python bench/bench_submission.py [--tars 2000] [--seconds 8] [--rounds 2]

Both run under gunicorn (2 sync workers, --preload) on 127.0.0.1 against the same PostgreSQL
database (DATABASE_URL, default tar_speed_bench), loaded with --tars TARs by SQL and analyzed.
Rounds alternate bare, portal, bare, portal… with 8 client connections each, so both see the
same machine load; the ratio is what counts, absolute numbers move with the load.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import scale

ROOT = scale.ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(app: str, port: int, env: dict) -> subprocess.Popen:
    process = subprocess.Popen(  # noqa: S603 - our own servers, fixed arguments
        [
            sys.executable,
            "-m",
            "gunicorn",
            app,
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--preload",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise SystemExit(f"{app} did not start")


def worker_memory_mb(master: subprocess.Popen, field: str) -> list[float]:
    """`Rss` (every page the worker maps, shared ones included) or `Pss` (shared pages
    divided among the processes sharing them: what --preload saves) of each worker."""
    children = Path(f"/proc/{master.pid}/task/{master.pid}/children").read_text().split()
    sizes = []
    for pid in children:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith(f"{field}:"):
                sizes.append(int(line.split()[1]) / 1024)
    return sizes


def load(port: int, path: str, bodies: list[dict], headers: dict, seconds: float, connections: int):
    """Each connection posts the bodies in turn (from its own offset) for `seconds`."""
    latencies: list[float] = []
    errors: list[int] = []
    payloads = [json.dumps(body) for body in bodies]
    stop = time.monotonic() + seconds

    def client(offset: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        sent = offset
        while time.monotonic() < stop:
            payload = payloads[sent % len(payloads)]
            sent += 1
            began = time.perf_counter()
            conn.request("POST", path, payload, {"Content-Type": "application/json", **headers})
            response = conn.getresponse()
            response.read()
            if response.status != 201:
                errors.append(response.status)
            latencies.append((time.perf_counter() - began) * 1000)
        conn.close()

    step = max(1, len(payloads) // connections)
    threads = [threading.Thread(target=client, args=(n * step,)) for n in range(connections)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    return len(latencies) / elapsed, scale.percentile(latencies, 0.5), errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tars", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--members", type=int, default=200)
    args = parser.parse_args()

    url = scale.configure("tar_speed_bench")
    from django.db import connection
    from knox.models import AuthToken

    users = scale.world()
    provider = users["provider"]
    # Requests spread over --members members with their own RAFs, as in a plan (each
    # member's history stays small); the bare endpoint gets the same members in turn.
    bodies = scale.submission_bodies(users, args.members)
    bare_bodies = [
        {
            "member": body["member"],
            "servicing_provider": body["servicing_provider"],
            "request_type": body["request_type"],
            "urgency": body["urgency"],
            "place_of_service": body["place_of_service"],
            "code": body["lines"][0]["code"],
            "units": body["lines"][0]["units"],
            "service_date_from": body["lines"][0]["service_date_from"],
            "service_date_to": body["lines"][0]["service_date_to"],
            "diagnosis_codes": body["lines"][0]["diagnosis_codes"],
        }
        for body in bodies
    ]
    _, token = AuthToken.objects.create(provider)
    connection.close()

    env = {**os.environ, "BARE_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    portal_port, bare_port = free_port(), free_port()
    portal = start("tar_portal.wsgi:application", portal_port, env)
    bare = start("bench.bare.app:application", bare_port, env)
    try:
        headers = {"Authorization": f"Token {token}"}
        # One submission first: it must succeed (the template for the bulk load).
        rate, _, errors = load(portal_port, "/api/v1/tars/", bodies[:1], headers, 0.5, 1)
        if errors:
            raise SystemExit(f"portal refused the submission: {errors[:3]}")
        import django.db

        django.db.connection.close()
        present = scale.load_tars(args.tars)
        django.db.connection.close()
        print(f"{present:,} TARs in {url.rsplit('/', 1)[-1]} (analyzed)")
        load(bare_port, "/bare/", bare_bodies, {}, 1, 2)  # warm both
        load(portal_port, "/api/v1/tars/", bodies, headers, 1, 2)
        load(bare_port, "/bare/same-work/", bodies, headers, 1, 2)
        results: dict[str, list[tuple[float, float]]] = {"bare": [], "same-work": [], "portal": []}
        for _ in range(args.rounds):
            for name, port, path, payload, h in (
                ("bare", bare_port, "/bare/", bare_bodies, {}),
                ("same-work", bare_port, "/bare/same-work/", bodies, headers),
                ("portal", portal_port, "/api/v1/tars/", bodies, headers),
            ):
                rate, p50, errors = load(port, path, payload, h, args.seconds, args.connections)
                if errors:
                    raise SystemExit(f"{name}: {len(errors)} errors, e.g. {errors[:3]}")
                results[name].append((rate, p50))
                print(f"  {name:9} {rate:7.1f} req/s   p50 {p50:6.1f} ms")
        bare_rate = sum(r for r, _ in results["bare"]) / args.rounds
        floor_rate = sum(r for r, _ in results["same-work"]) / args.rounds
        portal_rate = sum(r for r, _ in results["portal"]) / args.rounds
        bare_rss = max(worker_memory_mb(bare, "Rss"))
        portal_rss = max(worker_memory_mb(portal, "Rss"))
        bare_pss = max(worker_memory_mb(bare, "Pss"))
        portal_pss = max(worker_memory_mb(portal, "Pss"))
        print()
        print(f"{'':28}{'portal':>10}{'bare':>10}{'ratio':>8}  target")
        print(
            f"{'throughput (req/s)':28}{portal_rate:10.1f}{bare_rate:10.1f}"
            f"{portal_rate / bare_rate:8.2f}  >= 0.50"
        )
        print(
            f"{'  against the same work':28}{portal_rate:10.1f}{floor_rate:10.1f}"
            f"{portal_rate / floor_rate:8.2f}  (raw SQL, one transaction: bench/bare)"
        )
        print(
            f"{'  same work against bare':28}{floor_rate:10.1f}{bare_rate:10.1f}"
            f"{floor_rate / bare_rate:8.2f}  (the ceiling of any implementation)"
        )
        print(
            f"{'worker RSS (MB, largest)':28}{portal_rss:10.1f}{bare_rss:10.1f}"
            f"{portal_rss / bare_rss:8.2f}  < 2.00"
        )
        print(
            f"{'worker PSS (MB, largest)':28}{portal_pss:10.1f}{bare_pss:10.1f}"
            f"{portal_pss / bare_pss:8.2f}"
        )
    finally:
        for process in (portal, bare):
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)


if __name__ == "__main__":
    main()
