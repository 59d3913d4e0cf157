"""The soak benchmark in short: 30 seconds of mixed good and bad traffic against the real server."""

from pathlib import Path

import pytest

from benchmarks.soak import run

pytestmark = [pytest.mark.slow, pytest.mark.e2e]


def test_thirty_seconds_of_mixed_traffic_bring_no_5xx_and_little_memory_growth(tiny_model_dir: Path):
    result = run(tiny_model_dir, seconds=30)
    assert result["requests"] > 300
    assert result["server_errors"] == 0, result["statuses"]
    assert {200, 422}.issubset(result["statuses"])
    assert result["rss_growth"] <= 0.10, result
