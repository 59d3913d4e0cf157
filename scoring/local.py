"""The local engine: one process streams the input through the model, a chunk at a time."""

import logging
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from scoring.errors import InputError
from scoring.progress import Progress
from scoring.readers import ChunkReader
from scoring.rows import ERROR, Model, output_names, score_frame
from scoring.writers import atomic_output, check_output, open_writer

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Summary:
    rows: int
    # Rows without a label, by reason.
    errors: dict[str, int]
    seconds: float


def check_columns(columns: list[str], text_column: str, prefix: str, source: object) -> None:
    """The text column must exist, and no input column may share a name with an added one."""
    if text_column not in columns:
        listed = ", ".join(map(str, columns)) or "no columns"
        raise InputError(f"no column {text_column!r} in {source}; it has: {listed}")
    clashes = [name for name in output_names(prefix).values() if name in columns]
    if clashes:
        raise InputError(
            f"{source} already has the column(s) {', '.join(clashes)} that scoring adds; "
            "pass --column-prefix (for example pred_) to name the added columns apart"
        )


def score_file(
    reader: ChunkReader,
    output: Path,
    text_column: str,
    model: Model,
    batch_size: int,
    prefix: str = "",
    interactive: bool | None = None,
) -> Summary:
    """Score every row of `reader` into `output`, which appears only once it is complete.

    python -m scoring reviews.csv scored.parquet --text-column review
    """
    check_columns(reader.columns, text_column, prefix, reader.path)
    file_format = check_output(output)
    errors: Counter[str] = Counter()
    progress = Progress(reader.fraction_read, reader.total_rows, interactive)
    try:
        with atomic_output(output) as temporary:
            writer = open_writer(temporary, file_format)
            writer.columns = [*reader.columns, *output_names(prefix).values()]
            try:
                for chunk in reader.chunks():
                    scored = score_frame(chunk, text_column, model, batch_size, prefix)
                    errors.update(scored[output_names(prefix)[ERROR]].dropna())
                    writer.write(scored)
                    progress.advance(len(chunk))
            finally:
                writer.close()
    finally:
        seconds = progress.close()
    summary = Summary(progress.rows, dict(errors), seconds)
    logger.info(
        "wrote %s: %d rows in %.1f s (%.0f rows/s), %d without a label %s",
        output,
        summary.rows,
        summary.seconds,
        summary.rows / max(summary.seconds, 1e-9),
        sum(summary.errors.values()),
        summary.errors or "",
    )
    return summary
