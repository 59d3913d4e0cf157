"""The service as users run it: `python -m app` in its own process, spoken to over HTTP on loopback."""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.e2e]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server(tiny_model_dir: Path) -> Iterator[tuple[str, subprocess.Popen]]:
    port = free_port()
    environment = {**os.environ, "MODEL_DIR": str(tiny_model_dir), "HOST": "127.0.0.1", "PORT": str(port)}
    process = subprocess.Popen(
        [sys.executable, "-m", "app"], env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"{base_url}/readyz", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.3)
    else:
        process.kill()
        pytest.fail(f"the server did not become ready:\n{process.stdout.read()[-3000:]}")
    yield base_url, process
    if process.poll() is None:
        process.kill()
        process.wait(timeout=30)


def test_the_real_server_answers_predict_over_http(server):
    base_url, _ = server
    answer = httpx.post(
        f"{base_url}/predict",
        json={"texts": ["wonderful superb brilliant film", "awful boring dull film"]},
        timeout=30,
    )
    assert answer.status_code == 200
    assert [prediction["label"] for prediction in answer.json()["predictions"]] == ["positive", "negative"]


def test_the_real_server_refuses_bad_input_with_json(server):
    base_url, _ = server
    answer = httpx.post(f"{base_url}/predict", content=b"{oops", headers={"content-type": "application/json"})
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["type"] == "json_invalid"


def test_the_real_server_stops_cleanly_on_sigterm(server):
    _, process = server
    process.send_signal(signal.SIGTERM)
    # uvicorn shuts the application down, then re-raises the signal so that the exit status reports it.
    assert process.wait(timeout=30) in (0, -signal.SIGTERM)
    assert "Application shutdown complete" in process.stdout.read()
