"""What one replica needs: seconds until ready, resident memory and CPU under load, memory across a reload.

    python -m deploy.footprint                      # the newest version under artifacts/sentiment
    python -m deploy.footprint --seconds 20 --model-dir path/to/versions

The Kubernetes manifests size their startup probe and their resource requests and limits from these
figures. It copies the newest version into a temporary model folder and starts the real service on
it (`python -m app`, polling that folder every second), times the start until /readyz answers 200,
then sends single reviews from 64 wrk connections and reads the process's peak resident memory and CPU time.
Then it writes a copy of the version under the next number, as a new version would arrive on a
mounted volume, waits until the service serves it, loads it again and reads the peak once more: for
a moment a reload holds two versions. Bounded in time; all traffic stays on loopback.
"""

import argparse
import json
import logging
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.harness import RunningService, request, service
from benchmarks.load import Request, run_wrk
from benchmarks.serving import review_texts
from deploy.versions import publish_copy
from model.artifact import configured_model_dir, newest_version, version_of

logger = logging.getLogger("deploy.footprint")
CLIENTS = 64


def served_version(running: RunningService) -> int | None:
    status, payload = request(running.port, "GET", "/readyz")
    return json.loads(payload).get("model_version") if status == 200 else None


def loaded(running: RunningService, texts: list[str], seconds: float) -> dict:
    """Peak memory and CPU cores used while wrk's CLIENTS connections send single reviews for `seconds`."""
    cpu_before, started = running.cpu_seconds(), time.monotonic()
    result = run_wrk(running.url, [Request.predict({"text": text}) for text in texts], CLIENTS, seconds)
    cores = (running.cpu_seconds() - cpu_before) / (time.monotonic() - started)
    answered = result["statuses"].get(200, 0)
    return {
        "reviews_per_s": answered / (result["duration_us"] / 1e6),
        "errors": sum(count for status, count in result["statuses"].items() if status != 200),
        "cpu_cores": cores,
        "rss_bytes": running.rss_bytes(),
        "peak_rss_bytes": running.peak_rss_bytes(),
    }


def measure(model_dir: Path, seconds: float) -> dict:
    texts, _ = review_texts(None, 256, seed=0)
    source = newest_version(model_dir)
    with tempfile.TemporaryDirectory(prefix="footprint-") as scratch:
        scratch_dir = Path(scratch)
        shutil.copytree(source, scratch_dir / source.name)
        started = time.monotonic()
        with service(scratch_dir, {"MODEL_POLL_INTERVAL_S": "1"}) as running:
            result: dict[str, Any] = {"version": version_of(source), "ready_s": time.monotonic() - started}
            result["ready_rss_bytes"] = running.rss_bytes()
            result["under_load"] = loaded(running, texts, seconds)
            new_version = version_of(publish_copy(source, scratch_dir))
            reload_started = time.monotonic()
            while served_version(running) != new_version:
                if time.monotonic() - reload_started > 180:
                    raise RuntimeError(f"version {new_version} was not served within 180 s")
                time.sleep(0.2)
            result["reload_s"] = time.monotonic() - reload_started
            result["after_reload"] = loaded(running, texts, seconds)
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
