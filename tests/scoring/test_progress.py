"""Progress: rows per second and time left, with the total estimated when the file does not say it."""

import logging

import pytest

from scoring.progress import Progress


def test_the_total_is_estimated_from_how_far_through_the_file_the_reader_is():
    progress = Progress(lambda: 0.25, total_rows=None, interactive=False)
    progress.advance(1000)
    assert progress.estimated_total() == 4000
    line = progress.describe(progress.started + 2.0, progress.estimated_total())
    assert line == "1,000 rows scored, 500 rows/s, 25% of about 4,000, about 6 s left"


def test_a_known_total_is_used_as_it_is():
    progress = Progress(lambda: 0.9, total_rows=10, interactive=False)
    progress.advance(5)
    assert progress.estimated_total() == 10


def test_without_a_terminal_progress_is_logged(caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr("scoring.progress.LOG_INTERVAL_S", 0.0)
    progress = Progress(lambda: 0.5, total_rows=None, interactive=False)
    with caplog.at_level(logging.INFO, logger="scoring.progress"):
        progress.advance(10)
    assert progress.bar is None
    assert [record.getMessage().split(",")[0] for record in caplog.records] == ["10 rows scored"]
