import logging

import numpy as np
import pytest

from training.memory import MemoryLogger, current_rss_gb, log_memory, peak_rss_gb


def test_memory_now_and_at_peak_follow_what_the_process_touches():
    before = current_rss_gb()
    assert before is not None
    block = np.ones(300 * 1024**2 // 8, dtype=np.float64)
    holding = current_rss_gb()
    assert holding is not None and holding - before >= 0.25
    assert peak_rss_gb() >= holding - 0.01
    del block
    after = current_rss_gb()
    assert after is not None and after <= holding - 0.25
    assert peak_rss_gb() >= holding - 0.01


def test_each_epoch_logs_the_memory_now_and_at_peak(caplog: pytest.LogCaptureFixture):
    with caplog.at_level(logging.INFO, logger="training"):
        MemoryLogger().on_epoch_end(2)
        log_memory("the teacher's labels")
    messages = [record.getMessage() for record in caplog.records]
    assert messages[0].startswith("memory after epoch 3: ") and messages[0].endswith(" GB peak")
    assert messages[1].startswith("memory after the teacher's labels: ")
    peak = float(messages[1].split(", ")[1].split()[0])
    assert peak == pytest.approx(peak_rss_gb(), abs=0.01)
