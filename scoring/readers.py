"""Read an input file a chunk of rows at a time, so that memory does not grow with its size."""

import json
import re
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, BinaryIO

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from scoring.errors import InputError
from scoring.formats import FileFormat, input_format

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class ChunkReader(AbstractContextManager):
    """An open input file: its columns, its rows in chunks, and how much of it has been read."""

    def __init__(self, path: Path, chunk_rows: int):
        if not path.is_file():
            raise InputError(f"no input file at {path}")
        self.path = path
        self.chunk_rows = chunk_rows
        self.size_bytes = path.stat().st_size
        self.handle: BinaryIO = path.open("rb")
        # Rows in the file where the format records it (Parquet); else None.
        self.total_rows: int | None = None
        self.rows_read = 0
        self.columns: list[str] = []
        try:
            self._open()
        except InputError:
            self.handle.close()
            raise

    def _open(self) -> None:
        """Read what the format says up front (its columns, its row count)."""
        raise NotImplementedError

    def __exit__(self, *exc_info: object) -> None:
        self.handle.close()

    def fraction_read(self) -> float:
        """How far through the file the reader is, from 0 to 1."""
        if self.total_rows:
            return self.rows_read / self.total_rows
        return min(self.handle.tell() / self.size_bytes, 1.0) if self.size_bytes else 1.0

    def chunks(self) -> Iterator[pd.DataFrame]:
        for chunk in self._chunks():
            self.rows_read += len(chunk)
            yield chunk

    def _chunks(self) -> Iterator[pd.DataFrame]:
        raise NotImplementedError


class CsvReader(ChunkReader):
    """Every column read as text, so values come back exactly as written and chunks agree on types."""

    def _open(self) -> None:
        try:
            self.columns = list(pd.read_csv(self.path, nrows=0, encoding_errors="replace").columns)
        except pd.errors.EmptyDataError as error:
            raise InputError(f"{self.path} is empty: a CSV input needs at least a header line") from error
        except pd.errors.ParserError as error:
            raise InputError(f"cannot read {self.path} as CSV: {error}") from error

    def _chunks(self) -> Iterator[pd.DataFrame]:
        reader = pd.read_csv(
            self.handle,
            chunksize=self.chunk_rows,
            dtype=str,
            keep_default_na=False,
            encoding_errors="replace",
        )
        try:
            yield from reader
        except pd.errors.ParserError as error:
            raise InputError(f"cannot read {self.path} as CSV: {error}") from error


class JsonLinesReader(ChunkReader):
    """One JSON object per line; a key missing from a row is a missing value in that row."""

    def _open(self) -> None:
        self._line_number = 0
        self._first = self._read_chunk()
        self.columns = list(self._first.columns)

    def _chunks(self) -> Iterator[pd.DataFrame]:
        chunk = self._first
        while len(chunk):
            yield chunk
            chunk = self._read_chunk()

    def _read_chunk(self) -> pd.DataFrame:
        records: list[dict[str, Any]] = []
        while len(records) < self.chunk_rows:
            line = self.handle.readline()
            if not line:
                break
            self._line_number += 1
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError as error:
                raise InputError(f"{self.path} line {self._line_number} is not JSON: {error}") from error
            if not isinstance(record, dict):
                raise InputError(f"{self.path} line {self._line_number} is not a JSON object")
            records.append(record)
        try:
            return pd.DataFrame.from_records(records)
        except UnicodeEncodeError:
            # JSON may escape half of a surrogate pair, which no UTF-8 column can hold.
            return pd.DataFrame.from_records([_replace_lone_surrogates(record) for record in records])


def _replace_lone_surrogates(record: dict[str, Any]) -> dict[str, Any]:
    return {
        key: _LONE_SURROGATE.sub("\ufffd", value) if isinstance(value, str) else value for key, value in record.items()
    }


class ParquetReader(ChunkReader):
    def _open(self) -> None:
        try:
            self.file = pq.ParquetFile(self.handle)
        except (pa.ArrowInvalid, OSError) as error:
            raise InputError(f"cannot read {self.path} as Parquet: {error}") from error
        self.columns = list(self.file.schema_arrow.names)
        self.total_rows = self.file.metadata.num_rows

    def _chunks(self) -> Iterator[pd.DataFrame]:
        for batch in self.file.iter_batches(batch_size=self.chunk_rows):
            yield batch.to_pandas()


_READERS: dict[FileFormat, type[ChunkReader]] = {
    FileFormat.CSV: CsvReader,
    FileFormat.JSON_LINES: JsonLinesReader,
    FileFormat.PARQUET: ParquetReader,
}


def open_reader(path: Path, chunk_rows: int) -> ChunkReader:
    """A reader for `path`, chosen by its extension; raises InputError for what cannot be read."""
    reader_class = _READERS[input_format(path)]
    return reader_class(path, chunk_rows)
