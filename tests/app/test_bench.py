"""The serving benchmark and its load generator against the real service, on the tiny model."""

import json
from pathlib import Path

import pytest

from benchmarks.harness import request, service
from benchmarks.load import LoadGeneratorError, Request, ensure_wrk, run_wrk
from benchmarks.serving import CEILING_BATCH_SIZES, CONNECTIONS, main

pytestmark = [pytest.mark.slow, pytest.mark.e2e]


@pytest.fixture(scope="module")
def wrk() -> str:
    try:
        return ensure_wrk()
    except LoadGeneratorError as error:
        pytest.skip(f"wrk is not available here: {error}")


def served_predictions(port: int) -> float:
    """The service's own count of /predict requests answered 200, from /metrics."""
    _, payload = request(port, "GET", "/metrics")
    for line in payload.decode().splitlines():
        if line.startswith("sentiment_http_requests_total{") and 'route="/predict"' in line and 'status="200"' in line:
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_wrk_delivers_every_body_intact_and_counts_what_the_service_counts(wrk: str, tiny_model_dir: Path):
    # Quotes, backslashes, non-ASCII and emoji must reach the service byte for byte, or it answers 422.
    texts = ['a "great" film', "back\\slash and 'quotes' superb", "素晴らしい wonderful 😀", "🎬🍿", "awful\nboring"]
    requests = [Request.predict({"text": text}) for text in texts] + [Request.predict({"texts": texts})]
    with service(tiny_model_dir) as running:
        before = served_predictions(running.port)
        result = run_wrk(running.url, requests, connections=4, seconds=2)
        served = served_predictions(running.port) - before
    assert set(result["statuses"]) == {200}
    assert result["requests"] > len(requests)
    # wrk stops counting at its deadline; the service may still answer what was in flight then.
    assert result["requests"] <= served <= result["requests"] + 4
    latency = result["latency_us"]
    assert 0 < latency["p50"] <= latency["p90"] <= latency["p99"] <= latency["max"]


def test_a_short_benchmark_measures_every_level_against_the_ceiling(wrk: str, tiny_model_dir: Path, tmp_path: Path):
    output = tmp_path / "bench.json"
    arguments = ["--model-dir", str(tiny_model_dir), "--seconds", "2", "--texts", "300", "--output", str(output)]
    assert main([*arguments, "--python-client-seconds", "1"]) == 0
    results = json.loads(output.read_text())
    ceiling = results["ceiling"]
    assert int(ceiling["before"]["best_batch_size"]) in CEILING_BATCH_SIZES
    assert ceiling["before"]["reviews_per_s"] > 0 and ceiling["after"]["reviews_per_s"] > 0
    # The compiled model in-process, as the service calls it: the most its model calls can give.
    assert ceiling["before"]["compiled_reviews_per_s"] > 0 and ceiling["after"]["compiled_reviews_per_s"] > 0
    batched = results["batched"]
    assert [level["connections"] for level in batched["levels"]] == list(CONNECTIONS)
    for level in [*batched["levels"], batched["multi"], results["unbatched"]]:
        assert set(level["statuses"]) == {"200"} and level["requests"] > 0, level  # JSON keys are strings.
        assert sum(level["socket_errors"].values()) == 0
        assert level["latency_us"]["p50"] <= level["latency_us"]["p99"]
    assert batched["multi"]["texts_per_request"] == 16
    # The unbatched service never puts two texts in one model call; the batched one does under load.
    assert results["unbatched"]["mean_batch_size"] == pytest.approx(1.0)
    assert batched["levels"][-1]["mean_batch_size"] > 1.0
    # The service answers what the plain SavedModel answers, and refuses the same texts.
    assert batched["differences"]["texts"] == 300
    assert batched["differences"]["max_abs_difference"] <= 1e-4
    assert batched["differences"]["unjudged_agree"]
    assert batched["peak_rss_bytes"] > 0
    assert batched["python_client"]["requests"] > 0
    # The first request is set against the same request sent back to back and after an idle pause.
    assert batched["same_request_again_p50_s"] > 0 and batched["same_request_after_pause_p50_s"] > 0
    assert results["summary"]["first_vs_after_pause"] == pytest.approx(
        batched["first_request_s"] / batched["same_request_after_pause_p50_s"]
    )
