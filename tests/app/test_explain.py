"""POST /explain and the page at / through TestClient, with the lifespan running and the tiny model."""

import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import tensorflow as tf
from fastapi.testclient import TestClient

from app.batching import MicroBatcher
from app.main import create_app
from app.page import CONTENT_SECURITY_POLICY
from app.serving import ServingUnit
from app.settings import Settings
from model.artifact import EXPLAIN_SIGNATURE_NAME, METADATA_FILE, SIGNATURE_NAME
from tests.conftest import TINY_MODEL

MAX_EXPLAIN_CHARS = 400
MAX_BODY = 2_000
KEY = "explain-key"
REVIEW = "Wonderful, BRILLIANT film!<br /><br />The plot wasn't dull: it's superb 😀"


def settings(model_dir: Path, **overrides) -> Settings:
    return Settings(
        model_dir=model_dir,
        max_explain_chars=MAX_EXPLAIN_CHARS,
        max_body_bytes=MAX_BODY,
        model_poll_interval_s=0,
        **overrides,
    )


@pytest.fixture(scope="module")
def client(tiny_model_dir: Path):
    with TestClient(create_app(settings(tiny_model_dir))) as test_client:
        yield test_client


def test_explain_answers_the_label_and_every_word_with_its_place_in_the_text(client):
    answer = client.post("/explain", json={"text": REVIEW})
    assert answer.status_code == 200
    body = answer.json()
    predicted = client.post("/predict", json={"text": REVIEW}).json()
    assert body["model_version"] == predicted["model_version"]
    for field in ("label", "score", "positive_probability"):
        assert body[field] == pytest.approx(predicted["predictions"][0][field], abs=1e-6)
    words = [REVIEW[token["start"] : token["end"]] for token in body["tokens"]]
    # The tiny model keeps sentence boundaries, so "!" is read and listed too.
    assert words == ["Wonderful", "BRILLIANT", "film", "!", "The", "plot", "wasn't", "dull", "it's", "superb"]
    assert [token["token"] for token in body["tokens"]][-3:] == ["dull", "its", "superb"]
    assert all(isinstance(token["attribution"], float) and not token["truncated"] for token in body["tokens"])


def test_words_past_the_truncation_are_listed_without_attribution(client):
    words = ["wonderful", "awful", "film", "plot"] * 15
    answer = client.post("/explain", json={"text": " ".join(words)}).json()
    assert [token["token"] for token in answer["tokens"]] == words
    truncated = [token["truncated"] for token in answer["tokens"]]
    head = TINY_MODEL.sequence_length - TINY_MODEL.tail_length
    assert truncated == [head <= index < len(words) - TINY_MODEL.tail_length for index in range(len(words))]
    assert all((token["attribution"] is None) == token["truncated"] for token in answer["tokens"])


@pytest.mark.parametrize(
    ("body", "location", "error_type"),
    [
        ({"text": ""}, ["body", "text"], "string_too_short"),
        ({"text": " \n\t "}, ["body", "text"], "value_error"),
        ({"text": 42}, ["body", "text"], "string_type"),
        ({}, ["body", "text"], "missing"),
        ({"text": "great", "texts": ["great"]}, ["body", "texts"], "extra_forbidden"),
        ({"text": "great " * 100}, ["body", "text"], "string_too_long"),
        ({"text": "🎬🍿 ?!"}, ["body", "text"], "no_known_words"),
    ],
)
def test_invalid_texts_get_422_with_the_same_error_contract_as_predict(client, body, location, error_type):
    answer = client.post("/explain", json=body)
    assert answer.status_code == 422
    assert {"loc": location, "type": error_type} in [
        {"loc": item["loc"], "type": item["type"]} for item in answer.json()["detail"]
    ]


def test_a_body_over_the_limit_gets_413(client):
    answer = client.post(
        "/explain", content=b'{"text": "' + b"a" * MAX_BODY + b'"}', headers={"content-type": "application/json"}
    )
    assert answer.status_code == 413


def test_explain_is_counted_by_route(client):
    client.post("/explain", json={"text": "superb"})
    metrics = client.get("/metrics").text
    assert 'sentiment_http_requests_total{method="POST",route="/explain",status="200"}' in metrics
    assert "sentiment_explain_seconds_count" in metrics


def test_explain_needs_the_api_key_when_one_is_set(tiny_model_dir: Path):
    with TestClient(create_app(settings(tiny_model_dir, api_key=KEY))) as keyed:
        refused = keyed.post("/explain", json={"text": "superb"})
        accepted = keyed.post("/explain", json={"text": "superb"}, headers={"Authorization": f"Bearer {KEY}"})
        page = keyed.get("/")
    assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
    assert accepted.status_code == 200
    assert page.status_code == 200


def test_the_page_and_its_files_are_served_by_the_app_itself(client):
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "connect-src 'self'" in CONTENT_SECURITY_POLICY
    for asset, media_type in (("/static/page.js", "javascript"), ("/static/style.css", "text/css")):
        answer = client.get(asset)
        assert answer.status_code == 200 and media_type in answer.headers["content-type"]
        assert asset in page.text
    # Nothing on the page names another origin to fetch from.
    for path in ("/", "/static/page.js", "/static/style.css"):
        text = client.get(path).text
        assert "http://" not in text and "https://" not in text and "url(" not in text


@pytest.fixture(scope="module")
def old_version_dir(tiny_version: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny version saved again with serving_default alone, like versions exported before explain."""
    root = tmp_path_factory.mktemp("old") / "sentiment"
    target = root / tiny_version.name
    loaded = tf.saved_model.load(str(tiny_version))
    assert EXPLAIN_SIGNATURE_NAME in loaded.signatures
    tf.saved_model.save(loaded, str(target), signatures={SIGNATURE_NAME: loaded.signatures[SIGNATURE_NAME]})
    shutil.copy(tiny_version / METADATA_FILE, target / METADATA_FILE)
    return root


def test_a_version_without_the_explain_signature_still_predicts_and_answers_501(old_version_dir: Path):
    with TestClient(create_app(settings(old_version_dir))) as old:
        predicted = old.post("/predict", json={"text": "superb"})
        explained = old.post("/explain", json={"text": "superb"})
    assert predicted.status_code == 200
    assert explained.status_code == 501
    assert "without the explain signature" in explained.json()["detail"]


def slow_explainer(client: TestClient, delay_s: float, **batcher_options) -> MicroBatcher:
    """Serve the same model with an explainer whose calls take `delay_s` longer."""
    unit = client.app.state.slot.current

    def slow_explain(texts: list[str]):
        time.sleep(delay_s)
        return unit.model.explain(texts)

    explainer = MicroBatcher(slow_explain, max_batch_size=1, max_wait_s=0.0, **batcher_options)
    client.portal.call(explainer.start)
    client.app.state.slot.current = ServingUnit(unit.model, unit.batcher, explainer)
    client.portal.call(unit.explainer.stop)
    return explainer


def test_a_full_explain_queue_answers_503_with_retry_after(tiny_model_dir: Path):
    with TestClient(create_app(settings(tiny_model_dir, max_batch_items=1, max_queue_items=1))) as busy:
        explainer = slow_explainer(busy, 0.3, max_queue_items=1)
        with ThreadPoolExecutor(max_workers=4) as pool:
            answers = list(pool.map(lambda _: busy.post("/explain", json={"text": "superb"}), range(4)))
        busy.portal.call(explainer.stop)
    statuses = sorted(answer.status_code for answer in answers)
    assert 200 in statuses and 503 in statuses
    assert next(answer for answer in answers if answer.status_code == 503).headers["retry-after"] == "1"


def test_an_explanation_that_waits_too_long_answers_504(tiny_model_dir: Path):
    with TestClient(create_app(settings(tiny_model_dir))) as slow:
        explainer = slow_explainer(slow, 0.5, timeout_s=0.2)
        answer = slow.post("/explain", json={"text": "superb"})
        slow.portal.call(explainer.stop)
    assert answer.status_code == 504
