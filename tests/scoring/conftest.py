"""Input files in every format, written from one list of rows that includes every kind of bad text."""

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from app.model_store import LoadedModel, load_version

# Rows of different lengths in no length order, so that sorted batches must be put back in order,
# and every kind of row that cannot be scored.
ROWS: list[dict[str, Any]] = [
    {"id": 0, "review": "a wonderful and moving film, a masterpiece " * 6, "stars": 9},
    {"id": 1, "review": "awful", "stars": 1},
    {"id": 2, "review": "", "stars": 5},
    {"id": 3, "review": "the plot was dull and the acting boring " * 3, "stars": 2},
    {"id": 4, "review": "   \t ", "stars": 5},
    {"id": 5, "review": None, "stars": 4},
    {"id": 6, "review": "!!! ??? ...", "stars": 3},
    {"id": 7, "review": "great", "stars": 8},
    {"id": 8, "review": "brilliant story, superb actor,\nloved it", "stars": 10},
    {"id": 9, "review": "the worst movie, a waste", "stars": 1},
]
# Only JSON Lines can hold these: a number where text belongs, and a row without the text key.
JSON_ONLY_ROWS: list[dict[str, Any]] = [
    {"id": 10, "review": 42, "stars": 7},
    {"id": 11, "stars": 6},
]


def write_rows(path: Path, rows: list[dict[str, Any]]) -> Path:
    """Write rows in the format `path`'s extension names."""
    if path.suffix in (".jsonl", ".ndjson"):
        path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    elif path.suffix == ".csv":
        pd.DataFrame(rows).to_csv(path, index=False)
    else:
        pd.DataFrame(rows).to_parquet(path, index=False)
    return path


def read_rows(path: Path, suffix: str | None = None) -> pd.DataFrame:
    """Rows of a file in the format its extension, or `suffix`, names."""
    suffix = suffix or path.suffix
    if suffix == ".jsonl":
        return pd.read_json(path, lines=True, dtype=False)
    if suffix == ".csv":
        return pd.read_csv(path, keep_default_na=False, na_values={"positive_probability": [""]})
    return pd.read_parquet(path)


@pytest.fixture(scope="session")
def tiny_model(tiny_version: Path) -> LoadedModel:
    return load_version(tiny_version)
