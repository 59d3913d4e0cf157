"""File formats, chosen by extension."""

from enum import StrEnum
from pathlib import PurePath

from scoring.errors import InputError, OutputError


class FileFormat(StrEnum):
    CSV = "csv"
    JSON_LINES = "jsonl"
    PARQUET = "parquet"


EXTENSIONS = {
    ".csv": FileFormat.CSV,
    ".jsonl": FileFormat.JSON_LINES,
    ".ndjson": FileFormat.JSON_LINES,
    ".parquet": FileFormat.PARQUET,
    ".pq": FileFormat.PARQUET,
}


def _format_of(path: PurePath) -> FileFormat | None:
    return EXTENSIONS.get(path.suffix.lower())


def _known() -> str:
    return ", ".join(EXTENSIONS)


def input_format(path: PurePath) -> FileFormat:
    file_format = _format_of(path)
    if file_format is None:
        raise InputError(f"cannot tell the format of {path} from its extension; use one of {_known()}")
    return file_format


def output_format(path: PurePath) -> FileFormat:
    file_format = _format_of(path)
    if file_format is None:
        raise OutputError(f"cannot tell which format to write {path} in from its extension; use one of {_known()}")
    return file_format
