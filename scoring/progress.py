"""Rows done, rows per second and time left: a progress bar on a terminal, log lines otherwise."""

import logging
import sys
import time
from collections.abc import Callable

from tqdm import tqdm

logger = logging.getLogger(__name__)
# Seconds between progress log lines when no terminal shows a bar.
LOG_INTERVAL_S = 10.0


class Progress:
    """Counts scored rows. When the file does not record its row count, the total is estimated from
    how far through its bytes the reader is, so the ETA sharpens as the run goes."""

    def __init__(self, fraction_read: Callable[[], float], total_rows: int | None, interactive: bool | None = None):
        self.fraction_read = fraction_read
        self.total_rows = total_rows
        self.rows = 0
        self.started = time.monotonic()
        self.last_log = self.started
        if interactive is None:
            interactive = sys.stderr.isatty()
        self.bar = tqdm(total=total_rows, unit=" rows", unit_scale=True, dynamic_ncols=True) if interactive else None

    def estimated_total(self) -> int | None:
        if self.total_rows is not None:
            return self.total_rows
        fraction = self.fraction_read()
        return round(self.rows / fraction) if fraction > 0 else None

    def advance(self, rows: int) -> None:
        self.rows += rows
        total = self.estimated_total()
        if self.bar is not None:
            if total is not None:
                self.bar.total = max(total, self.rows)
            self.bar.update(rows)
            return
        now = time.monotonic()
        if now - self.last_log >= LOG_INTERVAL_S:
            self.last_log = now
            logger.info("%s", self.describe(now, total))

    def describe(self, now: float, total: int | None) -> str:
        rate = self.rows / max(now - self.started, 1e-9)
        line = f"{self.rows:,} rows scored, {rate:,.0f} rows/s"
        if total:
            left_s = max(total - self.rows, 0) / rate if rate > 0 else float("inf")
            line += f", {100 * self.rows / total:.0f}% of about {total:,}, about {left_s:,.0f} s left"
        return line

    def close(self) -> float:
        """Seconds since the start."""
        if self.bar is not None:
            self.bar.close()
        return time.monotonic() - self.started
