"""Queue limits and time-outs over HTTP, with a real batcher around the real tiny model slowed down."""

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.batching import MicroBatcher
from app.main import create_app
from app.serving import ServingUnit
from app.settings import Settings


def slow_client(model_dir: Path, **limits) -> TestClient:
    return TestClient(create_app(Settings(model_dir=model_dir, max_batch_items=2, **limits)))


def slow_down(client: TestClient, delay_s: float, **batcher_options) -> MicroBatcher:
    """Serve the same model through a batcher whose model calls take `delay_s` longer."""
    model = client.app.state.slot.current.model

    def slow_predict(texts: list[str]):
        time.sleep(delay_s)
        return model.predict(texts)

    batcher = MicroBatcher(slow_predict, max_batch_size=1, max_wait_s=0.0, **batcher_options)
    client.portal.call(batcher.start)
    old, client.app.state.slot.current = client.app.state.slot.current, ServingUnit(model, batcher)
    client.portal.call(old.batcher.stop)
    return batcher


def test_a_full_queue_answers_503_with_retry_after(tiny_model_dir: Path):
    with slow_client(tiny_model_dir, max_queue_items=2) as client:
        batcher = slow_down(client, 0.3, max_queue_items=2)
        with ThreadPoolExecutor(max_workers=6) as pool:
            answers = list(pool.map(lambda _: client.post("/predict", json={"text": "great film"}), range(6)))
        client.portal.call(batcher.stop)
    statuses = sorted(answer.status_code for answer in answers)
    assert 200 in statuses and 503 in statuses
    refused = next(answer for answer in answers if answer.status_code == 503)
    assert refused.headers["retry-after"] == "1"
    assert "busy" in refused.json()["detail"]


def test_a_request_that_waits_too_long_answers_504(tiny_model_dir: Path):
    with slow_client(tiny_model_dir) as client:
        batcher = slow_down(client, 0.5, timeout_s=0.2)
        answer = client.post("/predict", json={"text": "great film"})
        client.portal.call(batcher.stop)
    assert answer.status_code == 504
    assert "took too long" in answer.json()["detail"]


def test_settings_refuse_a_queue_smaller_than_a_request():
    with pytest.raises(ValueError, match="MAX_QUEUE_ITEMS"):
        Settings(max_queue_items=8, max_batch_items=16)
