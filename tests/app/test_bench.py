"""The serving benchmark in short: every figure it prints comes out of a real run."""

import json
from pathlib import Path

import pytest

from benchmarks.serving import CONCURRENCIES, main, table

pytestmark = [pytest.mark.slow, pytest.mark.e2e]


def test_a_short_benchmark_measures_the_ceiling_and_every_concurrency_and_pairs_them(
    tiny_model_dir: Path, tmp_path: Path
):
    output = tmp_path / "bench.json"
    arguments = ["--model-dir", str(tiny_model_dir), "--requests", "64", "--max-seconds", "5", "--output", str(output)]
    arguments += ["--rounds", "2"]
    assert main(arguments) == 0
    results = json.loads(output.read_text())
    ceiling = results["ceiling"]
    assert ceiling["before"]["reviews_per_s"] > 0 and ceiling["after"]["reviews_per_s"] > 0
    assert ceiling["reviews_per_s"] == pytest.approx(
        (ceiling["before"]["reviews_per_s"] + ceiling["after"]["reviews_per_s"]) / 2
    )
    for service in ("batched", "unbatched"):
        runs = results[service]["runs"]
        assert [run["concurrency"] for run in runs] == list(CONCURRENCIES)
        assert all(run["requests"] > 0 and run["errors"] == {} for run in runs)
    # The unbatched service never puts two texts in one model call; the batched one does under load.
    assert all(run["mean_batch_size"] == pytest.approx(1.0) for run in results["unbatched"]["runs"])
    assert results["batched"]["runs"][-1]["mean_batch_size"] > 1.0
    assert results["batched"]["peak_rss_bytes"] > 0
    # The ceiling and the service at 64 clients, measured turn about; the median of the rounds' ratios.
    paired = results["batched"]["paired"]
    assert paired["concurrency"] == max(CONCURRENCIES) and len(paired["rounds"]) == 2
    ratios = sorted(item["service_reviews_per_s"] / item["ceiling_reviews_per_s"] for item in paired["rounds"])
    assert all(item["errors"] == {} for item in paired["rounds"])
    assert paired["median_ratio"] == pytest.approx(sum(ratios) / 2)
    assert "measured turn about" in table(results)
    assert "vs ceiling" in table(results)
