"""Soak test: 64 connections send a mix of good and bad requests for a fixed time; no 5xx, little memory growth.

    python -m benchmarks.soak --seconds 600            # or: make soak
    python -m benchmarks.soak --seconds 30 --model-dir path/to/versions

It starts the real service on 127.0.0.1, warms it up with the same mix, then records resident memory,
runs the soak with wrk (each request picked at random from the mix), and reports requests served,
answers by status code and memory at start and end. Bounded in time; all traffic stays on loopback.
"""

import argparse
import json
import logging
import sys
from pathlib import Path

from benchmarks.harness import service
from benchmarks.load import Request, run_wrk
from model.artifact import configured_model_dir

logger = logging.getLogger("benchmarks.soak")
CONNECTIONS = 64
WARM_UP_S = 5.0
REVIEW = "A moving film with a wonderful cast, though the plot drags in the middle. Still, I loved it."

# (weight, request): mostly good traffic, with every kind of bad request.
MIX = [
    (30, Request.predict({"text": REVIEW})),
    (10, Request.predict({"texts": [REVIEW, "Dull and far too long."] * 8})),
    (4, Request("POST", "/predict", "{not json")),
    (4, Request.predict({"texts": []})),
    # A valid body whose texts the model cannot judge: 200, with an error in each text's place.
    (4, Request.predict({"texts": ["?!?! 🎬", REVIEW]})),
    (2, Request.predict({"text": "great " * 5000})),
    (2, Request.predict({"texts": [1, None]})),
    (2, Request("POST", "/predict", json.dumps({"text": REVIEW}), "text/plain")),
    (2, Request("GET", "/predict")),
    (2, Request("GET", "/readyz")),
    (1, Request("GET", "/metrics")),
    (1, Request("GET", "/no-such-route")),
]


def weighted(mix: list[tuple[int, Request]]) -> list[Request]:
    """Each request as many times as its weight, so that a uniform pick follows the weights."""
    return [entry for weight, entry in mix for _ in range(weight)]


def run(model_dir: Path, seconds: float) -> dict:
    requests = weighted(MIX)
    with service(model_dir) as running:
        run_wrk(running.url, requests, CONNECTIONS, WARM_UP_S, order="random")
        rss_start = running.rss_bytes()
        result = run_wrk(running.url, requests, CONNECTIONS, seconds, order="random")
        rss_end = running.rss_bytes()
    statuses = result["statuses"]
    return {
        "seconds": seconds,
        "connections": CONNECTIONS,
        "requests": result["requests"],
        "statuses": dict(sorted(statuses.items())),
        "socket_errors": result["socket_errors"],
        "server_errors": sum(count for status, count in statuses.items() if status >= 500),
        "rss_start_bytes": rss_start,
        "rss_end_bytes": rss_end,
        "rss_growth": rss_end / rss_start - 1,
    }


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(prog="python -m benchmarks.soak", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=600.0)
    parser.add_argument("--model-dir", type=Path, default=configured_model_dir())
    parser.add_argument("--output", type=Path, default=Path("soak-results.json"))
    arguments = parser.parse_args(argv)
    result = run(arguments.model_dir, arguments.seconds)
    arguments.output.write_text(json.dumps(result, indent=2) + "\n")
    sys.stdout.write(
        f"{result['requests']:,} requests in {result['seconds']:.0f} s from {CONNECTIONS} connections; "
        f"statuses {result['statuses']}; socket errors {result['socket_errors']}; 5xx: {result['server_errors']}; "
        f"RSS {result['rss_start_bytes'] / 2**20:.0f} MiB -> {result['rss_end_bytes'] / 2**20:.0f} MiB "
        f"({result['rss_growth']:+.1%})\nwritten to {arguments.output}\n"
    )
    return 0 if result["server_errors"] == 0 and result["rss_growth"] <= 0.10 else 1


if __name__ == "__main__":
    sys.exit(main())
