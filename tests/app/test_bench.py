"""The serving benchmark in short: every figure it prints comes out of a real run."""

import json
from pathlib import Path

import pytest

from benchmarks.serving import CONCURRENCIES, main, table

pytestmark = [pytest.mark.slow, pytest.mark.e2e]


def test_a_short_benchmark_measures_the_ceiling_twice_and_every_concurrency(tiny_model_dir: Path, tmp_path: Path):
    output = tmp_path / "bench.json"
    arguments = ["--model-dir", str(tiny_model_dir), "--requests", "64", "--max-seconds", "5", "--output", str(output)]
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
    assert "vs ceiling" in table(results)
