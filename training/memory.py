"""Resident memory of the training process, logged after each stage so that a peak can be traced to
the stage that reached it."""

import logging
import resource
from pathlib import Path

import keras

logger = logging.getLogger("training")

_GIGABYTE_IN_KILOBYTES = 1024**2


def peak_rss_gb() -> float:
    """The most resident memory the process has held so far (Linux reports ru_maxrss in kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / _GIGABYTE_IN_KILOBYTES


def current_rss_gb() -> float | None:
    """Resident memory now, from /proc (None where there is no /proc)."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / _GIGABYTE_IN_KILOBYTES
    return None


def log_memory(stage: str) -> None:
    now = current_rss_gb()
    logger.info("memory after %s: %s GB now, %.2f GB peak", stage, "-" if now is None else f"{now:.2f}", peak_rss_gb())


class MemoryLogger(keras.callbacks.Callback):
    """Logs the process's memory after every epoch."""

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        log_memory(f"epoch {epoch + 1}")
