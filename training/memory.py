"""Resident memory of the training process, logged after each stage so that a peak can be traced to
the stage that reached it."""

import ctypes
import ctypes.util
import logging
import os
import resource
from pathlib import Path

import keras

logger = logging.getLogger("training")

_GIGABYTE_IN_KILOBYTES = 1024**2

# glibc gives each thread that allocates its own heap ("arena"), up to eight per core, and frees
# memory back to the arena it came from. Under TensorFlow's thread pools, freed tensors then sit in
# many half-empty arenas: the default config peaked at 8.1 GB with glibc's default and at 6.8 GB
# with two arenas, with the same figures within run-to-run noise (training/README.md).
TRAINING_ALLOCATOR_ARENAS = 2
_M_ARENA_MAX = -8  # mallopt's parameter number for the arena limit, from glibc's malloc.h.


def limit_allocator_arenas(count: int = TRAINING_ALLOCATOR_ARENAS) -> bool:
    """Caps glibc's malloc arenas for this process, as MALLOC_ARENA_MAX does at start-up.

    A MALLOC_ARENA_MAX set by the user wins. Returns whether a limit is in force (False where the C
    library is not glibc).
    """
    if "MALLOC_ARENA_MAX" in os.environ:
        return True
    library = ctypes.util.find_library("c")
    if library is None:
        return False
    libc = ctypes.CDLL(library)
    if not hasattr(libc, "mallopt"):
        return False
    return bool(libc.mallopt(_M_ARENA_MAX, count))


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
