"""SIGTERM with SHUTDOWN_DELAY_S: /readyz turns 503 at once while requests are still served, then a clean exit."""

import signal
import time
from pathlib import Path

import httpx
import pytest

from benchmarks.harness import service

pytestmark = [pytest.mark.slow, pytest.mark.e2e]
DELAY_S = 3.0


def test_sigterm_first_turns_readyz_to_503_and_keeps_serving_for_the_delay_then_exits_0(
    tiny_model_dir: Path, tmp_path: Path
):
    environment = {"SHUTDOWN_DELAY_S": str(DELAY_S), "LOG_LEVEL": "info"}
    log = tmp_path / "service.log"
    with log.open("w") as output, service(tiny_model_dir, environment, output) as running:
        base_url, process = running.url, running.process
        assert httpx.get(f"{base_url}/readyz", timeout=5).status_code == 200
        process.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        # The handler runs as soon as the main thread gets the signal; give it a moment.
        deadline = signalled + 1.0
        while (ready := httpx.get(f"{base_url}/readyz", timeout=5)).status_code == 200 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert (ready.status_code, ready.json()) == (503, {"status": "shutting down", "model_version": None})
        answer = httpx.post(f"{base_url}/predict", json={"text": "wonderful superb brilliant film"}, timeout=10)
        assert answer.status_code == 200
        assert time.monotonic() - signalled < DELAY_S, "the checks above took longer than the delay"
        assert process.wait(timeout=60) == 0
        assert time.monotonic() - signalled >= DELAY_S
    assert "Application shutdown complete" in log.read_text()
