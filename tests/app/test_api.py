"""The HTTP API through TestClient, with the lifespan running and a tiny model exported by the real code."""

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings

MAX_ITEMS = 4
MAX_CHARS = 300
MAX_BODY = 4_000


@pytest.fixture(scope="module")
def client(tiny_model_dir: Path):
    settings = Settings(
        model_dir=tiny_model_dir, max_batch_items=MAX_ITEMS, max_text_chars=MAX_CHARS, max_body_bytes=MAX_BODY
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def direct_probabilities(version: Path, texts: list[str]) -> list[float]:
    signature = tf.saved_model.load(str(version)).signatures["serving_default"]
    return signature(texts=tf.constant(texts))["positive_probability"].numpy().tolist()


def test_predict_answers_each_text_in_order_with_the_models_own_probabilities(client, tiny_version: Path):
    texts = ["wonderful superb brilliant film", "awful boring dull film", "the plot was great"]
    answer = client.post("/predict", json={"texts": texts})
    assert answer.status_code == 200
    body = answer.json()
    assert body["model_version"] == int(tiny_version.name)
    positive = [prediction["positive_probability"] for prediction in body["predictions"]]
    np.testing.assert_allclose(positive, direct_probabilities(tiny_version, texts), atol=1e-5)
    assert [prediction["label"] for prediction in body["predictions"]][:2] == ["positive", "negative"]
    for prediction in body["predictions"]:
        expected = (
            prediction["positive_probability"]
            if prediction["label"] == "positive"
            else 1 - prediction["positive_probability"]
        )
        assert prediction["score"] == pytest.approx(expected)
        assert prediction["score"] >= 0.5


def test_a_single_text_is_answered_as_a_one_element_list(client):
    answer = client.post("/predict", json={"text": "superb film"})
    assert answer.status_code == 200
    assert len(answer.json()["predictions"]) == 1


def test_concurrent_requests_each_get_their_own_answers(client):
    texts = [("wonderful " * (n % 5 + 1)) + ("awful " * (n % 3)) for n in range(24)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda text: client.post("/predict", json={"text": text}).json(), texts))
    chunks = [texts[start : start + MAX_ITEMS] for start in range(0, len(texts), MAX_ITEMS)]
    expected = [
        prediction["positive_probability"]
        for chunk in chunks
        for prediction in client.post("/predict", json={"texts": chunk}).json()["predictions"]
    ]
    assert len(answers) == len(expected) == len(texts)
    got = [answer["predictions"][0]["positive_probability"] for answer in answers]
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_a_text_without_known_words_gets_an_error_in_place_and_the_others_are_answered(client, tiny_version: Path):
    texts = ["wonderful superb film", "🎬🍿", "awful boring film", "?!..."]
    answer = client.post("/predict", json={"texts": texts})
    assert answer.status_code == 200
    predictions = answer.json()["predictions"]
    assert len(predictions) == len(texts)
    for index in (1, 3):
        assert set(predictions[index]) == {"index", "error"}
        assert predictions[index]["index"] == index
        assert predictions[index]["error"]["type"] == "no_known_words"
        assert predictions[index]["error"]["message"]
    judged = [predictions[0]["positive_probability"], predictions[2]["positive_probability"]]
    np.testing.assert_allclose(judged, direct_probabilities(tiny_version, [texts[0], texts[2]]), atol=1e-5)


def test_a_single_text_without_known_words_is_answered_in_the_same_shape(client):
    answer = client.post("/predict", json={"text": "🎬🍿"})
    assert answer.status_code == 200
    assert answer.json()["predictions"] == [client.post("/predict", json={"texts": ["🎬🍿"]}).json()["predictions"][0]]
    assert answer.json()["predictions"][0]["index"] == 0


def test_a_chunked_body_over_the_limit_is_refused_while_it_streams(client):
    def chunks():
        yield b'{"texts": ["'
        for _ in range(10):
            yield b"great " * 100
        yield b'"]}'

    answer = client.post("/predict", content=chunks(), headers={"content-type": "application/json"})
    assert answer.status_code == 413
    assert "larger than" in answer.json()["detail"]


def test_non_latin_and_control_characters_get_a_defined_answer(client):
    answer = client.post("/predict", json={"texts": ["great \u0000 film \u0007", "素晴らしい great", "عظيم superb"]})
    assert answer.status_code == 200
    assert len(answer.json()["predictions"]) == 3


def test_health_readiness_and_model_metadata(client, tiny_version: Path):
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready", "model_version": int(tiny_version.name)}
    metadata = client.get("/model").json()
    assert metadata == json.loads((tiny_version / "metadata.json").read_text())


def test_unknown_routes_and_methods_answer_json(client):
    assert client.get("/nope").status_code == 404
    answer = client.get("/predict")
    assert answer.status_code == 405
    assert answer.json() == {"detail": "Method Not Allowed"}


def test_openapi_documents_the_configured_limits_and_both_request_shapes(client):
    assert client.get("/docs").status_code == 200
    document = client.get("/openapi.json").json()
    body = document["paths"]["/predict"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert [option["$ref"].rsplit("/", 1)[1] for option in body["oneOf"]] == ["PredictTexts", "PredictText"]
    schemas = document["components"]["schemas"]
    texts = schemas["PredictTexts"]["properties"]["texts"]
    assert texts["maxItems"] == MAX_ITEMS
    assert texts["items"]["maxLength"] == MAX_CHARS
    assert schemas["PredictText"]["required"] == ["text"]
    assert schemas["PredictTexts"]["additionalProperties"] is False
    # Each entry of an answer is a prediction or, for a text that cannot be judged, an error.
    entries = schemas["PredictResponse"]["properties"]["predictions"]["items"]["anyOf"]
    assert [entry["$ref"].rsplit("/", 1)[1] for entry in entries] == ["Prediction", "PredictionError"]
    assert schemas["ItemError"]["properties"]["type"]["const"] == "no_known_words"


def test_error_locations_name_the_fields_as_the_client_wrote_them(client):
    answer = client.post("/predict", json={"texts": ["great", 3]})
    assert answer.json()["detail"][0]["loc"] == ["body", "texts", 1]
    answer = client.post("/predict", json={"text": None})
    assert answer.json()["detail"][0]["loc"] == ["body", "text"]


def test_the_newest_complete_version_is_served(tmp_path: Path, tiny_version: Path):
    import shutil

    shutil.copytree(tiny_version, tmp_path / "7")
    (tmp_path / "9").mkdir()  # No metadata.json: an incomplete folder, never served.
    (tmp_path / ".tmp-abc").mkdir()
    with TestClient(create_app(Settings(model_dir=tmp_path))) as client:
        # The folder's number is the version, whatever number the copied metadata records.
        assert client.get("/readyz").json()["model_version"] == 7
        assert client.get("/model").json()["version"] == 7


def test_without_a_model_the_service_is_alive_but_not_ready(tmp_path: Path):
    with TestClient(create_app(Settings(model_dir=tmp_path / "empty"))) as client:
        assert client.get("/healthz").status_code == 200
        assert client.get("/readyz").status_code == 503
        answer = client.post("/predict", json={"text": "great"})
        assert answer.status_code == 503
        assert "no model" in answer.json()["detail"]


def test_creating_the_app_touches_no_disk(tmp_path: Path):
    missing = tmp_path / "not-there"
    app = create_app(Settings(model_dir=missing))
    assert app.state.slot.current is None
    assert not missing.exists()


def metric_value(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text format, 0 when absent."""
    for line in text.splitlines():
        if line.startswith(name) and all(f'{key}="{value}"' in line for key, value in labels.items()):
            head = line.split(" ")[0]
            if head == name or head.startswith(name + "{"):
                return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_move_when_requests_are_served(client, tiny_version: Path):
    before = client.get("/metrics").text
    client.post("/predict", json={"texts": ["great film", "awful film"]})
    client.post("/predict", json={"texts": []})
    after = client.get("/metrics")
    assert after.headers["content-type"].startswith("text/plain")
    requests = "sentiment_http_requests_total"
    for status in ("200", "422"):
        labels = {"method": "POST", "route": "/predict", "status": status}
        assert metric_value(after.text, requests, **labels) == metric_value(before, requests, **labels) + 1
    assert metric_value(after.text, "sentiment_batch_size_sum") >= metric_value(before, "sentiment_batch_size_sum") + 2
    assert metric_value(after.text, "sentiment_inference_seconds_count") > metric_value(
        before, "sentiment_inference_seconds_count"
    )
    assert metric_value(after.text, "sentiment_queue_wait_seconds_count") >= 2
    assert metric_value(after.text, "sentiment_http_request_duration_seconds_count", route="/predict") >= 2
    assert metric_value(after.text, "sentiment_queue_depth") == 0
    assert metric_value(after.text, "sentiment_model_info", version=tiny_version.name) == 1


def test_unknown_routes_are_counted_without_inventing_route_labels(client):
    client.get("/no/such/route")
    text = client.get("/metrics").text
    assert metric_value(text, "sentiment_http_requests_total", route="unmatched", status="404") >= 1
    assert "/no/such/route" not in text
