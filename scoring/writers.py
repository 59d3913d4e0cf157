"""Write scored chunks to a temporary file that takes the output's name only once it is complete."""

import contextlib
import json
import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from scoring.errors import OutputError
from scoring.formats import FileFormat, output_format

# Digits kept for floats in JSON Lines: enough to give back every float64 to within 1e-15.
_JSON_DIGITS = 15


def temporary_path(output: Path) -> Path:
    """A hidden name beside the output, in the same folder so that the final rename is atomic."""
    return output.with_name(f".{output.name}.{os.getpid()}.partial")


@contextlib.contextmanager
def atomic_output(output: Path) -> Iterator[Path]:
    """Yields the temporary path to write; renames it to `output` if the block completes, removes
    it if the block raises or is interrupted (a killed process leaves only the hidden file)."""
    if not output.parent.is_dir():
        raise OutputError(f"the output folder {output.parent} does not exist")
    temporary = temporary_path(output)
    complete = False
    try:
        yield temporary
        os.replace(temporary, output)
        complete = True
    finally:
        if not complete:
            temporary.unlink(missing_ok=True)


class ChunkWriter:
    """Appends DataFrames to one file; the first chunk fixes the columns (and for Parquet their types)."""

    def __init__(self, path: Path):
        self.path = path
        self.columns: list[str] | None = None

    def write(self, frame: pd.DataFrame) -> None:
        if self.columns is None:
            self.columns = list(frame.columns)
        elif list(frame.columns) != self.columns:
            frame = self._conform(frame, self.columns)
        self._write(frame)

    def _conform(self, frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
        """`frame` with the first chunk's `columns`, in their order."""
        new = [column for column in frame.columns if column not in columns]
        if new:
            raise OutputError(
                f"column(s) {', '.join(map(str, new))} first appear after the first chunk of rows, when the "
                "output's columns are already fixed; write JSON Lines, or a larger --chunk-rows"
            )
        return frame.reindex(columns=columns)

    def _write(self, frame: pd.DataFrame) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Flush and sync, so that the renamed file is whole on disk."""


class _TextWriter(ChunkWriter):
    def __init__(self, path: Path):
        super().__init__(path)
        # Text that cannot be UTF-8 (half a surrogate pair) is escaped rather than stopping the run.
        self.handle: TextIO = path.open("w", encoding="utf-8", errors="backslashreplace", newline="")

    def close(self) -> None:
        self.handle.flush()
        os.fsync(self.handle.fileno())
        self.handle.close()


class CsvWriter(_TextWriter):
    def _write(self, frame: pd.DataFrame) -> None:
        frame.to_csv(self.handle, index=False, header=self.handle.tell() == 0, lineterminator="\n")

    def close(self) -> None:
        if self.handle.tell() == 0 and self.columns:
            # No rows at all: still the header, so that the output names its columns.
            self._write(pd.DataFrame(columns=self.columns))
        super().close()


class JsonLinesWriter(_TextWriter):
    def write(self, frame: pd.DataFrame) -> None:
        # Every row is an object of its own, so later rows may bring keys the first ones lacked.
        self._write(frame)

    def _write(self, frame: pd.DataFrame) -> None:
        if len(frame):
            text = frame.to_json(orient="records", lines=True, force_ascii=False, double_precision=_JSON_DIGITS)
            self.handle.write(text if text.endswith("\n") else text + "\n")


class ParquetWriter(ChunkWriter):
    def __init__(self, path: Path):
        super().__init__(path)
        self.writer: pq.ParquetWriter | None = None
        self.schema: pa.Schema | None = None

    def _write(self, frame: pd.DataFrame) -> None:
        if self.writer is None:
            self.schema = _without_null_types(pa.Schema.from_pandas(frame, preserve_index=False))
            self.writer = pq.ParquetWriter(self.path, self.schema)
        try:
            table = pa.Table.from_pandas(_text_as_text(frame, self.schema), schema=self.schema, preserve_index=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as error:
            raise OutputError(
                f"rows after the first chunk do not fit the Parquet column types it fixed ({error}); "
                "write JSON Lines, or a larger --chunk-rows"
            ) from error
        self.writer.write_table(table)

    def close(self) -> None:
        if self.writer is None:
            # No rows at all: still a valid Parquet file, with the columns if they are known.
            self.writer = pq.ParquetWriter(self.path, pa.schema([(name, pa.string()) for name in self.columns or []]))
        self.writer.close()
        with self.path.open("rb+") as handle:
            os.fsync(handle.fileno())


def _text_as_text(frame: pd.DataFrame, schema: pa.Schema) -> pd.DataFrame:
    """Values of mixed kinds in a text column (a number among the reviews of a JSON Lines file) are
    written as their JSON text, since a Parquet column has one type; the row's error says what it was."""
    mixed = [
        field.name
        for field in schema
        if (pa.types.is_string(field.type) or pa.types.is_large_string(field.type))
        and field.name in frame
        and frame[field.name].dtype == object
    ]
    if not mixed:
        return frame
    return frame.assign(**{name: frame[name].map(_as_text) for name in mixed})


def _as_text(value: object) -> str | None:
    if isinstance(value, str) or value is None:
        return value
    if isinstance(value, float) and math.isnan(value):
        return None
    return json.dumps(value, default=str)


def _without_null_types(schema: pa.Schema) -> pa.Schema:
    """A column with no value in the first chunk has no type yet; text is the likeliest."""
    return pa.schema([field.with_type(pa.string()) if pa.types.is_null(field.type) else field for field in schema])


_WRITERS: dict[FileFormat, type[ChunkWriter]] = {
    FileFormat.CSV: CsvWriter,
    FileFormat.JSON_LINES: JsonLinesWriter,
    FileFormat.PARQUET: ParquetWriter,
}


def open_writer(path: Path, file_format: FileFormat) -> ChunkWriter:
    return _WRITERS[file_format](path)


def check_output(path: Path) -> FileFormat:
    """The output's format; raises OutputError before any work when it cannot be written."""
    file_format = output_format(path)
    if not path.parent.is_dir():
        raise OutputError(f"the output folder {path.parent} does not exist")
    if path.is_dir():
        raise OutputError(f"{path} is a folder; name a file to write")
    return file_format
