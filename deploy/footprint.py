"""What one replica needs: seconds until ready, resident memory and CPU under load, memory across a reload.

    python -m deploy.footprint                      # the newest version under artifacts/sentiment
    python -m deploy.footprint --seconds 20 --model-dir path/to/versions

The Kubernetes manifests size their startup probe and their resource requests and limits from these
figures. It copies the newest version into a temporary model folder and starts the real service on
it (`python -m app`, polling that folder every second), times the start until /readyz answers 200,
then sends single reviews from 64 clients and reads the process's peak resident memory and CPU time.
Then it writes a copy of the version under the next number, as a new version would arrive on a
mounted volume, waits until the service serves it, loads it again and reads the peak once more: for
a moment a reload holds two versions. Bounded in time; all traffic stays on loopback.
"""

import argparse
import asyncio
import json
import logging
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.serving import Connection, load, memory_bytes, review_texts, service
from deploy.versions import publish_copy
from model.artifact import configured_model_dir, newest_version, version_of

logger = logging.getLogger("deploy.footprint")
CLIENTS = 64


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # After the command name: state is field 3 of proc(5), so utime (14) and stime (15) sit at 11 and 12.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def served_version(port: int) -> int | None:
    connection = Connection(port)
    try:
        status, payload = await connection.request("GET", "/readyz")
    finally:
        connection.close()
    return json.loads(payload).get("model_version") if status == 200 else None


def loaded(pid: int, port: int, texts: list[str], seconds: float) -> dict:
    """Peak memory and CPU cores used while CLIENTS clients send single reviews for `seconds`."""
    cpu_before, started = cpu_seconds(pid), time.monotonic()
    run = asyncio.run(load(port, texts, CLIENTS, requests=10**9, max_seconds=seconds))
    cores = (cpu_seconds(pid) - cpu_before) / (time.monotonic() - started)
    return {
        "reviews_per_s": run["reviews_per_s"],
        "errors": run["errors"],
        "cpu_cores": cores,
        "rss_bytes": memory_bytes(pid, "VmRSS"),
        "peak_rss_bytes": memory_bytes(pid),
    }


def measure(model_dir: Path, seconds: float) -> dict:
    texts, _ = review_texts(None, 256, seed=0)
    source = newest_version(model_dir)
    with tempfile.TemporaryDirectory(prefix="footprint-") as scratch:
        scratch_dir = Path(scratch)
        shutil.copytree(source, scratch_dir / source.name)
        started = time.monotonic()
        with service(scratch_dir, {"MODEL_POLL_INTERVAL_S": "1"}) as (port, pid):
            result = {"version": version_of(source), "ready_s": time.monotonic() - started}
            result["ready_rss_bytes"] = memory_bytes(pid, "VmRSS")
            result["under_load"] = loaded(pid, port, texts, seconds)
            new_version = version_of(publish_copy(source, scratch_dir))
            reload_started = time.monotonic()
            while asyncio.run(served_version(port)) != new_version:
                if time.monotonic() - reload_started > 180:
                    raise RuntimeError(f"version {new_version} was not served within 180 s")
                time.sleep(0.2)
            result["reload_s"] = time.monotonic() - reload_started
            result["after_reload"] = loaded(pid, port, texts, seconds)
    return result


def report(result: dict) -> str:
    mib = 2**20
    under_load, after_reload = result["under_load"], result["after_reload"]
    return "\n".join(
        [
            f"version {result['version']}: ready {result['ready_s']:.1f} s after start, "
            f"RSS at ready {result['ready_rss_bytes'] / mib:.0f} MiB",
            f"{CLIENTS} clients: {under_load['reviews_per_s']:.1f} reviews/s, {under_load['cpu_cores']:.2f} cores, "
            f"RSS {under_load['rss_bytes'] / mib:.0f} MiB, peak {under_load['peak_rss_bytes'] / mib:.0f} MiB, "
            f"errors {under_load['errors']}",
            f"reload of a copy under the next number: served after {result['reload_s']:.1f} s; then {CLIENTS} clients: "
            f"RSS {after_reload['rss_bytes'] / mib:.0f} MiB, peak {after_reload['peak_rss_bytes'] / mib:.0f} MiB, "
            f"errors {after_reload['errors']}",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(prog="python -m deploy.footprint", description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", type=Path, default=configured_model_dir())
    parser.add_argument("--seconds", type=float, default=20.0, help="seconds of load before and after the reload")
    arguments = parser.parse_args(argv)
    result = measure(arguments.model_dir, arguments.seconds)
    sys.stdout.write(report(result) + "\n")
    return 0 if not result["under_load"]["errors"] and not result["after_reload"]["errors"] else 1


if __name__ == "__main__":
    sys.exit(main())
