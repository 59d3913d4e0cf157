"""The service as users run it: `python -m app` in its own process, spoken to over HTTP on loopback."""

import asyncio
import json
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from benchmarks.harness import HOST, RunningService, service

pytestmark = [pytest.mark.slow, pytest.mark.e2e]


@pytest.fixture(scope="module")
def server(tiny_model_dir: Path) -> Iterator[str]:
    with service(tiny_model_dir) as running:
        yield running.url


def test_the_real_server_answers_predict_over_http(server):
    answer = httpx.post(
        f"{server}/predict", json={"texts": ["wonderful superb brilliant film", "awful boring dull film"]}, timeout=30
    )
    assert answer.status_code == 200
    assert [prediction["label"] for prediction in answer.json()["predictions"]] == ["positive", "negative"]


def test_the_real_server_refuses_bad_input_with_json(server):
    answer = httpx.post(f"{server}/predict", content=b"{oops", headers={"content-type": "application/json"})
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["type"] == "json_invalid"


def queue_depth(base_url: str) -> float:
    for line in httpx.get(f"{base_url}/metrics", timeout=10).text.splitlines():
        if line.startswith("sentiment_queue_depth "):
            return float(line.split()[1])
    return 0.0


async def send_then_read(port: int, bodies: list[bytes], after_sending) -> list[tuple[int, dict]]:
    """Write every request on its own connection, call `after_sending`, then read every answer.

    Raw sockets on purpose: every request must be on the wire before the signal, which a client
    that sends and waits in one call cannot promise."""
    connections = [await asyncio.open_connection(HOST, port) for _ in bodies]
    for (_, writer), body in zip(connections, bodies, strict=True):
        head = f"POST /predict HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n"
        writer.write(f"{head}Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body)
        await writer.drain()
    await asyncio.to_thread(after_sending)
    answers = []
    for reader, writer in connections:
        response = await reader.read()
        head, _, payload = response.partition(b"\r\n\r\n")
        answers.append((int(head.split()[1]), json.loads(payload)))
        writer.close()
    return answers


def test_sigterm_answers_every_queued_request_then_exits_0(tiny_model_dir: Path, tmp_path: Path):
    # One text per model call makes 12 requests of 64 texts (within the queue limit) seconds of work.
    log = tmp_path / "service.log"
    with (
        log.open("w") as output,
        service(
            tiny_model_dir, {"MAX_BATCH_SIZE": "1", "SHUTDOWN_TIMEOUT_S": "60", "LOG_LEVEL": "info"}, output=output
        ) as running,
    ):
        bodies = [
            json.dumps({"texts": [f"wonderful film number {n} {i}" for i in range(64)]}).encode() for n in range(12)
        ]

        def terminate_once_queued(running: RunningService = running) -> None:
            deadline = time.monotonic() + 30
            while queue_depth(running.url) < 64 and time.monotonic() < deadline:
                time.sleep(0.05)
            running.process.send_signal(signal.SIGTERM)

        answers = asyncio.run(send_then_read(running.port, bodies, terminate_once_queued))
        assert running.process.wait(timeout=90) == 0
    assert [status for status, _ in answers] == [200] * 12
    assert all(len(payload["predictions"]) == 64 for _, payload in answers)
    assert "Application shutdown complete" in log.read_text()
