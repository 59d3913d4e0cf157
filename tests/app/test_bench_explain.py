"""The explanation benchmark in short, on the tiny model and the generated reviews."""

import json
from pathlib import Path

import pytest

from benchmarks.explain import CONCURRENCIES, main, median_length_review, report

pytestmark = [pytest.mark.slow, pytest.mark.e2e]


def test_the_median_length_review_is_the_one_of_median_length():
    assert median_length_review(["a" * 10, "b" * 300, "c" * 40]) == "c" * 40


def test_a_short_benchmark_measures_faithfulness_and_latency_over_http(
    tiny_model_dir: Path, aclimdb_dir: Path, tmp_path: Path
):
    output = tmp_path / "bench-explain.json"
    arguments = ["--model-dir", str(tiny_model_dir), "--data-dir", str(aclimdb_dir), "--output", str(output)]
    assert main([*arguments, "--reviews", "40", "--seconds", "2"]) == 0
    results = json.loads(output.read_text())
    assert results["deletion"]["texts"] >= 30
    assert results["deletion"]["ratio"] == pytest.approx(
        results["deletion"]["top_mean"] / results["deletion"]["random_mean"]
    )
    assert results["text"]["tokens"] > 0 and results["in_process"]["p50_s"] > 0
    assert [run["concurrency"] for run in results["http"]] == list(CONCURRENCIES)
    assert all(set(run["statuses"]) == {"200"} and run["requests"] > 0 for run in results["http"])
    assert all(run["p50_s"] <= run["p90_s"] <= run["p99_s"] for run in results["http"])
    assert "test reviews" in report(results)
