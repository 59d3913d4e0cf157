"""Soak test: 64 clients send a mix of good and bad requests for a fixed time; no 5xx, little memory growth.

    python -m benchmarks.soak --seconds 600            # or: make soak
    python -m benchmarks.soak --seconds 30 --model-dir path/to/versions

It starts the real service on 127.0.0.1, warms it up with the same mix, then records resident memory,
runs the soak, and reports requests served, answers by status code and memory at start and end.
Bounded in time; all traffic stays on loopback.
"""

import argparse
import asyncio
import json
import logging
import os
import random
import sys
import time
from pathlib import Path

from benchmarks.serving import Connection, memory_bytes, service

logger = logging.getLogger("benchmarks.soak")
CLIENTS = 64
WARM_UP_S = 5.0
REVIEW = "A moving film with a wonderful cast, though the plot drags in the middle. Still, I loved it."

# (weight, method, path, body, content type): mostly good traffic, with every kind of bad request.
MIX = [
    (30, "POST", "/predict", json.dumps({"text": REVIEW}), "application/json"),
    (10, "POST", "/predict", json.dumps({"texts": [REVIEW, "Dull and far too long."] * 8}), "application/json"),
    (4, "POST", "/predict", "{not json", "application/json"),
    (4, "POST", "/predict", json.dumps({"texts": []}), "application/json"),
    (4, "POST", "/predict", json.dumps({"texts": ["?!?! 🎬"]}), "application/json"),
    (2, "POST", "/predict", json.dumps({"text": "great " * 5000}), "application/json"),
    (2, "POST", "/predict", json.dumps({"texts": [1, None]}), "application/json"),
    (2, "POST", "/predict", json.dumps({"text": REVIEW}), "text/plain"),
    (2, "GET", "/predict", "", "application/json"),
    (2, "GET", "/readyz", "", "application/json"),
    (1, "GET", "/metrics", "", "application/json"),
    (1, "GET", "/no-such-route", "", "application/json"),
]


async def soak(port: int, seconds: float, seed: int) -> dict[int, int]:
    """Answers by status code over `seconds` of traffic from CLIENTS clients."""
    rng = random.Random(seed)
    weights = [entry[0] for entry in MIX]
    statuses: dict[int, int] = {}
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        connection = Connection(port)
        try:
            while time.perf_counter() < deadline:
                _, method, path, body, content_type = rng.choices(MIX, weights)[0]
                status, _ = await connection.request(method, path, body.encode(), content_type)
                statuses[status] = statuses.get(status, 0) + 1
        finally:
            connection.close()

    await asyncio.gather(*(client() for _ in range(CLIENTS)))
    return statuses


def run(model_dir: Path, seconds: float, seed: int = 0) -> dict:
    with service(model_dir, {}) as (port, pid):
        asyncio.run(soak(port, WARM_UP_S, seed))
        rss_start = memory_bytes(pid, "VmRSS")
        statuses = asyncio.run(soak(port, seconds, seed + 1))
        rss_end = memory_bytes(pid, "VmRSS")
    return {
        "seconds": seconds,
        "clients": CLIENTS,
        "requests": sum(statuses.values()),
        "statuses": dict(sorted(statuses.items())),
        "server_errors": sum(count for status, count in statuses.items() if status >= 500),
        "rss_start_bytes": rss_start,
        "rss_end_bytes": rss_end,
        "rss_growth": rss_end / rss_start - 1,
    }


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(prog="python -m benchmarks.soak", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=600.0)
    parser.add_argument("--model-dir", type=Path, default=Path(os.environ.get("MODEL_DIR", "artifacts/sentiment")))
    parser.add_argument("--output", type=Path, default=Path("soak-results.json"))
    arguments = parser.parse_args(argv)
    result = run(arguments.model_dir, arguments.seconds)
    arguments.output.write_text(json.dumps(result, indent=2) + "\n")
    sys.stdout.write(
        f"{result['requests']:,} requests in {result['seconds']:.0f} s from {CLIENTS} clients; "
        f"statuses {result['statuses']}; 5xx: {result['server_errors']}; "
        f"RSS {result['rss_start_bytes'] / 2**20:.0f} MiB -> {result['rss_end_bytes'] / 2**20:.0f} MiB "
        f"({result['rss_growth']:+.1%})\nwritten to {arguments.output}\n"
    )
    return 0 if result["server_errors"] == 0 and result["rss_growth"] <= 0.10 else 1


if __name__ == "__main__":
    sys.exit(main())
