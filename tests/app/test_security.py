"""The optional API key and CORS."""

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings

KEY = "s3cret-key"


@pytest.fixture(scope="module")
def client(tiny_model_dir: Path):
    settings = Settings(model_dir=tiny_model_dir, api_key=KEY, admin_enabled=True, model_poll_interval_s=0)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.mark.parametrize(
    "headers",
    [{}, {"authorization": "Bearer wrong"}, {"authorization": KEY}, {"authorization": f"Basic {KEY}"}],
    ids=["none", "wrong key", "no scheme", "wrong scheme"],
)
@pytest.mark.parametrize(
    ("method", "path"), [("POST", "/predict"), ("POST", "/explain"), ("GET", "/model"), ("POST", "/admin/reload")]
)
def test_protected_endpoints_need_the_key(client, headers: dict, method: str, path: str):
    answer = client.request(method, path, json={"text": "great"}, headers=headers)
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == "Bearer"
    assert "API key" in answer.json()["detail"]


def test_the_right_key_opens_them(client):
    headers = {"authorization": f"Bearer {KEY}"}
    assert client.post("/predict", json={"text": "great film"}, headers=headers).status_code == 200
    assert client.get("/model", headers=headers).status_code == 200
    assert client.post("/admin/reload", headers=headers).status_code == 200


def test_health_and_metrics_stay_open_by_default(client):
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    assert client.get("/metrics").status_code == 200


def test_metrics_can_require_the_key(tiny_model_dir: Path):
    settings = Settings(model_dir=tiny_model_dir, api_key=KEY, metrics_require_api_key=True, model_poll_interval_s=0)
    with TestClient(create_app(settings)) as client:
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers={"authorization": f"Bearer {KEY}"}).status_code == 200


def test_without_a_key_everything_is_open(tiny_model_dir: Path):
    with TestClient(create_app(Settings(model_dir=tiny_model_dir, model_poll_interval_s=0))) as client:
        assert client.post("/predict", json={"text": "great film"}).status_code == 200


def preflight(client: TestClient, origin: str):
    headers = {"origin": origin, "access-control-request-method": "POST"}
    return client.options("/predict", headers=headers)


def test_cors_is_off_by_default_and_allows_only_configured_origins(tiny_model_dir: Path):
    with TestClient(create_app(Settings(model_dir=tiny_model_dir, model_poll_interval_s=0))) as client:
        assert "access-control-allow-origin" not in preflight(client, "https://example.org").headers
    settings = Settings(model_dir=tiny_model_dir, cors_origins="https://app.example.org", model_poll_interval_s=0)
    with TestClient(create_app(settings)) as client:
        allowed = preflight(client, "https://app.example.org")
        assert allowed.headers["access-control-allow-origin"] == "https://app.example.org"
        assert "access-control-allow-origin" not in preflight(client, "https://evil.example.com").headers


def test_cors_origins_are_read_comma_separated_from_the_environment(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CORS_ORIGINS", "https://a.example, https://b.example")
    assert Settings().cors_origins == ["https://a.example", "https://b.example"]
