"""The local engine: every format in and out, rows kept in order, bad rows labelled with why."""

import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from app.model_store import LoadedModel
from scoring.local import score_file
from scoring.readers import open_reader
from scoring.rows import RowError
from tests.scoring.conftest import JSON_ONLY_ROWS, ROWS, read_rows, write_rows

FORMATS = (".csv", ".jsonl", ".parquet")


def expected_error(text: Any, model: LoadedModel) -> str | None:
    """The rule, applied row by row with the model called on that text alone."""
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return RowError.MISSING_TEXT
    if not isinstance(text, str):
        return RowError.NOT_A_STRING
    if not text.strip():
        return RowError.EMPTY_TEXT
    return RowError.NO_KNOWN_WORDS if model.predict([text])[0].known_token_count == 0 else None


def as_optional(value: Any) -> Any:
    return None if value is None or value == "" or (isinstance(value, float) and math.isnan(value)) else value


@pytest.mark.parametrize("output_suffix", FORMATS)
@pytest.mark.parametrize("input_suffix", FORMATS)
def test_every_format_keeps_rows_columns_and_order(
    tmp_path: Path, tiny_model: LoadedModel, input_suffix: str, output_suffix: str
):
    rows = ROWS + (JSON_ONLY_ROWS if input_suffix == ".jsonl" else [])
    source = write_rows(tmp_path / f"in{input_suffix}", rows)
    output = tmp_path / f"out{output_suffix}"
    # Chunks of 3 rows and batches of 2: several chunks, each sorted by length into several calls.
    with open_reader(source, chunk_rows=3) as reader:
        summary = score_file(reader, output, "review", tiny_model, batch_size=2, interactive=False)

    scored = read_rows(output)
    assert list(scored.columns) == ["id", "review", "stars", "label", "positive_probability", "model_version", "error"]
    assert [int(value) for value in scored["id"]] == [row["id"] for row in rows]
    assert [int(value) for value in scored["stars"]] == [row["stars"] for row in rows]
    assert set(scored["model_version"]) == {tiny_model.version}
    assert summary.rows == len(rows)

    negative, positive = tiny_model.labels
    for row, (_, out) in zip(rows, scored.iterrows(), strict=True):
        # CSV has no missing value: a missing text is written, and read back, as an empty one.
        text = "" if input_suffix == ".csv" and row.get("review") is None else row.get("review")
        error = expected_error(text, tiny_model)
        assert as_optional(out["error"]) == error, row
        if error is None:
            assert out["review"] == text
            alone = tiny_model.predict([text])[0].positive_probability
            assert out["positive_probability"] == pytest.approx(alone, abs=1e-5)
            assert out["label"] == (positive if alone >= 0.5 else negative)
        else:
            assert as_optional(out["label"]) is None
            assert as_optional(out["positive_probability"]) is None
    assert summary.errors == dict(pd.Series([e for e in map(as_optional, scored["error"]) if e]).value_counts())
    assert {positive, negative} <= set(scored["label"].dropna())
    assert not list(tmp_path.glob(".*partial"))


def test_an_empty_csv_with_a_header_gives_the_header_back(tmp_path: Path, tiny_model: LoadedModel):
    source = tmp_path / "in.csv"
    source.write_text("id,review\n", encoding="utf-8")
    with open_reader(source, chunk_rows=10) as reader:
        score_file(reader, tmp_path / "out.csv", "review", tiny_model, batch_size=2, interactive=False)
    assert (tmp_path / "out.csv").read_text().splitlines() == [
        "id,review,label,positive_probability,model_version,error"
    ]


def test_a_column_prefix_keeps_input_columns_named_like_the_added_ones(tmp_path: Path, tiny_model: LoadedModel):
    rows = [{"review": row["review"], "label": f"gold {row['id']}"} for row in ROWS]
    source = write_rows(tmp_path / "in.parquet", rows)
    with open_reader(source, chunk_rows=4) as reader:
        score_file(reader, tmp_path / "out.parquet", "review", tiny_model, 2, prefix="pred_", interactive=False)
    scored = pd.read_parquet(tmp_path / "out.parquet")
    assert list(scored["label"]) == [row["label"] for row in rows]
    assert set(scored["pred_label"].dropna()) <= set(tiny_model.labels)
    assert scored["pred_label"].notna().sum() > 0
