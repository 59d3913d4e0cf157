"""The Ray engine on a local Ray: the same rows, columns and probabilities as the local engine."""

from pathlib import Path

import pandas as pd
import pytest

from app.model_store import LoadedModel
from scoring.local import score_file
from scoring.readers import open_reader
from tests.scoring.conftest import JSON_ONLY_ROWS, ROWS, read_rows, write_rows

ray = pytest.importorskip("ray")

pytestmark = pytest.mark.slow


def read_parts(folder: Path) -> pd.DataFrame:
    """Part files in name order, which is the order of the rows they hold (Ray names JSON Lines parts .json)."""
    parts = sorted(path for path in folder.iterdir() if not path.name.startswith("."))
    assert parts, f"no part files in {folder}"
    return pd.concat([read_rows(part, folder.suffix) for part in parts], ignore_index=True)


@pytest.mark.parametrize(
    ("input_suffix", "output_suffix"), [(".csv", ".csv"), (".jsonl", ".parquet"), (".parquet", ".jsonl")]
)
def test_ray_gives_the_local_engines_rows_and_probabilities(
    tmp_path: Path, tiny_version: Path, tiny_model: LoadedModel, input_suffix: str, output_suffix: str
):
    from scoring.ray_engine import RayJob, score_with_ray

    rows = (ROWS + (JSON_ONLY_ROWS if input_suffix == ".jsonl" else [])) * 3
    source = write_rows(tmp_path / f"in{input_suffix}", rows)
    with open_reader(source, chunk_rows=8) as reader:
        score_file(reader, tmp_path / f"local{output_suffix}", "review", tiny_model, batch_size=4, interactive=False)
    ray_output = tmp_path / f"ray{output_suffix}"
    # The engine starts a local Ray instance of its own (one actor, two CPUs) and stops it after.
    score_with_ray(
        RayJob(
            str(source),
            str(ray_output),
            "review",
            tiny_version,
            chunk_rows=8,
            batch_size=4,
            prefix="",
            actors=1,
            cpus_per_actor=1,
        )
    )

    assert not ray.is_initialized()

    local = read_rows(tmp_path / f"local{output_suffix}")
    distributed = read_parts(ray_output)
    assert list(distributed.columns) == list(local.columns)
    assert len(distributed) == len(local) == len(rows)
    for column in ("id", "stars", "model_version"):
        assert [int(value) for value in distributed[column]] == [int(value) for value in local[column]]
    for column in ("label", "error"):
        assert list(distributed[column].fillna("")) == list(local[column].fillna(""))
    assert distributed["positive_probability"].isna().tolist() == local["positive_probability"].isna().tolist()
    scored = local["positive_probability"].notna()
    assert scored.sum() >= len(rows) // 2
    difference = (distributed["positive_probability"][scored] - local["positive_probability"][scored]).abs()
    assert difference.max() <= 1e-6
    assert not list(tmp_path.glob(".*partial"))
