"""Queue limits and time-outs over HTTP: the service as the settings build it, around the real tiny
model, whose calls a test holds back until it lets them go."""

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.model_store import LoadedModel
from app.settings import Settings

BODY = {"text": "great film"}


@pytest.fixture
def model_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """An open gate in front of every model call: clear it to hold calls back, set it to let them go.

    It is put in place before the app is created, so the batcher that the settings build calls
    through it; it starts open, so loading and warming up the model are not held back.
    """
    gate = threading.Event()
    gate.set()
    predict = LoadedModel.predict

    def held_back(self: LoadedModel, texts: list[str]):
        gate.wait(timeout=60)
        return predict(self, texts)

    monkeypatch.setattr(LoadedModel, "predict", held_back)
    yield gate
    gate.set()


def client_for(model_dir: Path, **settings) -> TestClient:
    return TestClient(create_app(Settings(model_dir=model_dir, model_poll_interval_s=0, **settings)))


def test_a_full_queue_answers_503_with_retry_after(tiny_model_dir: Path, model_calls: threading.Event):
    # One model call at a time, so that exactly one text is held in it.
    limits = {"max_queue_items": 2, "max_batch_items": 2, "max_batch_size": 1, "model_workers": 1}
    with client_for(tiny_model_dir, **limits) as client, ThreadPoolExecutor(max_workers=6) as pool:
        model_calls.clear()
        answers = [pool.submit(client.post, "/predict", json=BODY) for _ in range(6)]
        # One text is in the held model call and at most two wait in the queue: the others are
        # refused at once, while the model call is still held.
        done, _ = wait(answers, timeout=30, return_when="FIRST_COMPLETED")
        assert done and all(answer.result().status_code == 503 for answer in done)
        model_calls.set()
        statuses = sorted(answer.result(timeout=30).status_code for answer in answers)
    refused = [answer.result() for answer in answers if answer.result().status_code == 503]
    assert set(statuses) == {200, 503}
    assert 1 <= statuses.count(200) <= 3
    assert all(answer.headers["retry-after"] == "1" and "busy" in answer.json()["detail"] for answer in refused)


def test_a_request_that_waits_too_long_answers_504(tiny_model_dir: Path, model_calls: threading.Event):
    with client_for(tiny_model_dir, request_timeout_s=0.2) as client:
        model_calls.clear()
        answer = client.post("/predict", json=BODY)
        model_calls.set()
        assert client.post("/predict", json=BODY).status_code == 200
    assert answer.status_code == 504
    assert "took too long" in answer.json()["detail"]


def test_settings_refuse_a_queue_smaller_than_a_request():
    with pytest.raises(ValueError, match="MAX_QUEUE_ITEMS"):
        Settings(max_queue_items=8, max_batch_items=16)
