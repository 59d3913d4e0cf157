import ctypes
import ctypes.util
import logging
import os
import subprocess
import sys

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


_ARENAS_AFTER_SIX_THREADS = """
import ctypes, ctypes.util, sys, threading
from training.memory import limit_allocator_arenas
if sys.argv[1] == "limited":
    assert limit_allocator_arenas(2)
libc = ctypes.CDLL(ctypes.util.find_library("c"))
libc.malloc.restype = ctypes.c_void_p
def allocate():
    for _ in range(100):
        libc.malloc(200)
threads = [threading.Thread(target=allocate) for _ in range(6)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
libc.malloc_stats()
"""


def _arenas_after_six_threads(mode: str) -> int:
    environment = {key: value for key, value in os.environ.items() if key != "MALLOC_ARENA_MAX"}
    finished = subprocess.run(
        [sys.executable, "-c", _ARENAS_AFTER_SIX_THREADS, mode],
        capture_output=True,
        text=True,
        env=environment,
        check=True,
    )
    # glibc's malloc_stats writes one "Arena N:" block per heap to standard error.
    return finished.stderr.count("Arena ")


@pytest.mark.skipif(not hasattr(ctypes.CDLL(ctypes.util.find_library("c")), "malloc_stats"), reason="needs glibc")
def test_training_caps_the_heaps_that_threads_allocate_from():
    assert _arenas_after_six_threads("default") > 2
    assert _arenas_after_six_threads("limited") == 2
