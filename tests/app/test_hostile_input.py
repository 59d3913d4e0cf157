"""Bad, odd and hostile requests against a service with the default limits: each gets its exact status
with a JSON body (or a correct 200), none gets a traceback, and the service answers as before afterwards."""

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings

DEFAULTS = Settings()
JSON = {"content-type": "application/json"}
GOOD = ["A wonderful, superb film.", "An awful, boring film."]


def body(value) -> bytes:
    return json.dumps(value).encode()


# name: (headers, body bytes, expected status, expected error type or None): for a 422 the type is in
# "detail"; for a 200 it is the per-item error given in place of the text's prediction.
CASES = {
    "malformed json": (JSON, b"{not json", 422, "json_invalid"),
    "truncated json": (JSON, b'{"texts": ["great"', 422, "json_invalid"),
    "utf-8 byte order mark": (JSON, b"\xef\xbb\xbf" + body({"texts": GOOD}), 200, None),
    "invalid utf-8 bytes": (JSON, b'{"texts": ["great \xff\xfe film"]}', 400, None),
    "plain text content type": ({"content-type": "text/plain"}, body({"texts": GOOD}), 415, None),
    "form content type": ({"content-type": "application/x-www-form-urlencoded"}, b"texts=great", 415, None),
    "no content type": ({}, body({"texts": GOOD}), 415, None),
    "body over the limit": (JSON, body({"texts": ["great " * 400_000]}), 413, None),
    "top-level array": (JSON, body(GOOD), 422, "model_attributes_type"),
    "top-level string": (JSON, body("great film"), 422, "model_attributes_type"),
    "empty object": (JSON, body({}), 422, "missing"),
    "texts is null": (JSON, body({"texts": None}), 422, "list_type"),
    "texts is a string": (JSON, body({"texts": "great film"}), 422, "list_type"),
    "texts is a number": (JSON, body({"texts": 3}), 422, "list_type"),
    "texts is an object": (JSON, body({"texts": {"0": "great"}}), 422, "list_type"),
    "a number in texts": (JSON, body({"texts": ["great", 1]}), 422, "string_type"),
    "an infinite number": (JSON, b'{"texts": [1e999]}', 422, "string_type"),
    "a boolean in texts": (JSON, body({"texts": [True]}), 422, "string_type"),
    "a null in texts": (JSON, body({"texts": [None]}), 422, "string_type"),
    "a nested list": (JSON, body({"texts": [["great"]]}), 422, "string_type"),
    "an object in texts": (JSON, body({"texts": [{"text": "great"}]}), 422, "string_type"),
    "deeply nested arrays": (JSON, b'{"texts": ' + b"[" * 5000 + b"]" * 5000 + b"}", 400, None),
    "empty list": (JSON, body({"texts": []}), 422, "too_short"),
    "too many items": (JSON, body({"texts": ["great"] * (DEFAULTS.max_batch_items + 1)}), 422, "too_long"),
    "empty string": (JSON, body({"texts": [""]}), 422, "string_too_short"),
    "whitespace only": (JSON, body({"texts": [" \n\t\u00a0 "]}), 422, "value_error"),
    "unicode spaces only": (JSON, body({"texts": ["\u2003\u3000\ufeff\u2028"]}), 422, "value_error"),
    # Not whitespace to JSON Schema's pattern (ECMAScript), so valid by the schema: it is answered.
    "only a next-line control character": (JSON, body({"texts": ["\u0085"]}), 200, "no_known_words"),
    "text over the character limit": (JSON, body({"text": "great " * 4000}), 422, "string_too_long"),
    "one 19,000-character token": (JSON, body({"text": "a" * 19_000}), 200, "no_known_words"),
    "single text is a number": (JSON, body({"text": 5}), 422, "string_type"),
    "both text and texts": (JSON, body({"text": "great", "texts": ["great"]}), 422, "extra_forbidden"),
    "unknown extra field": (JSON, body({"texts": GOOD, "language": "en"}), 422, "extra_forbidden"),
    "lone surrogate": (JSON, b'{"texts": ["great \\ud800 film"]}', 422, "string_unicode"),
    "only emoji": (JSON, body({"texts": ["😀🎬🍿👍"]}), 200, "no_known_words"),
    "only punctuation": (JSON, body({"texts": ["?!... :-) --- ***"]}), 200, "no_known_words"),
    "only cjk": (JSON, body({"texts": ["素晴らしい映画でした"]}), 200, "no_known_words"),
    "only right-to-left script": (JSON, body({"texts": ["فيلم رائع جدا"]}), 200, "no_known_words"),
    "right-to-left mixed with english": (JSON, body({"texts": ["فيلم رائع wonderful film"]}), 200, None),
    "cjk mixed with english": (JSON, body({"texts": ["素晴らしい superb film"]}), 200, None),
    "emoji mixed with words": (JSON, body({"texts": ["superb film 😀👍"]}), 200, None),
    "nul and control characters": (JSON, body({"texts": ["great\u0000 film\u0007\u001b[31m"]}), 200, None),
    "html and script tags": (JSON, body({"texts": ["<script>alert(1)</script><b>superb</b> film"]}), 200, None),
    "repeated keys, the last wins": (JSON, b'{"texts": [""], "texts": ["superb film"]}', 200, None),
    "json with a charset": ({"content-type": "application/json; charset=utf-8"}, body({"texts": GOOD}), 200, None),
}


@pytest.fixture(scope="module")
def client(tiny_model_dir: Path):
    with TestClient(create_app(Settings(model_dir=tiny_model_dir))) as test_client:
        yield test_client


def assert_no_traceback(text: str) -> None:
    assert "Traceback" not in text
    assert 'File "' not in text


@pytest.mark.parametrize("name", list(CASES))
def test_each_case_gets_its_status_and_a_json_body(client, name: str):
    headers, content, status, error_type = CASES[name]
    answer = client.post("/predict", content=content, headers=headers)
    assert answer.status_code == status, answer.text[:500]
    assert_no_traceback(answer.text)
    payload = answer.json()
    if status != 200:
        assert payload["detail"]
        assert error_type is None or error_type in [item["type"] for item in payload["detail"]]
    elif error_type is None:
        assert all(prediction["label"] in {"positive", "negative"} for prediction in payload["predictions"])
    else:
        # A valid body whose text the model cannot judge: answered, with the error in the text's place.
        assert [prediction["error"]["type"] for prediction in payload["predictions"]] == [error_type]


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/predict", 405), ("PUT", "/predict", 405), ("DELETE", "/model", 405), ("GET", "/nope", 404)],
)
def test_wrong_methods_and_unknown_routes_answer_json(client, method: str, path: str, status: int):
    answer = client.request(method, path)
    assert answer.status_code == status
    assert answer.json()["detail"]


def test_the_service_answers_as_before_after_the_battery(client):
    before = client.post("/predict", json={"texts": GOOD}).json()
    for headers, content, _, _ in CASES.values():
        client.post("/predict", content=content, headers=headers)
    after = client.post("/predict", json={"texts": GOOD}).json()
    assert after == before
    assert client.get("/readyz").status_code == 200
