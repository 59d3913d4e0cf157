"""`python -m scoring`: bad input stops with one line and a non-zero exit, and never leaves a file
under the output name, whether the run fails, is stopped or is killed."""

import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from scoring.__main__ import EXIT_BAD_INPUT, EXIT_TERMINATED, main
from tests.scoring.conftest import ROWS, write_rows


@pytest.fixture(autouse=True)
def _restore_sigterm() -> Iterator[None]:
    # main() turns SIGTERM into an exception; the test process keeps its own handler.
    previous = signal.getsignal(signal.SIGTERM)
    yield
    signal.signal(signal.SIGTERM, previous)


def run_cli(caplog: pytest.LogCaptureFixture, *arguments: object) -> tuple[int, list[str]]:
    """Exit status and the error lines logged."""
    caplog.clear()
    with caplog.at_level(logging.INFO):
        status = main([str(argument) for argument in arguments])
    return status, [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]


def assert_nothing_written(folder: Path, output: Path) -> None:
    assert not output.exists()
    assert not list(folder.glob(".*partial"))


def test_the_cli_scores_a_file(tmp_path: Path, tiny_model_dir: Path, caplog: pytest.LogCaptureFixture):
    source = write_rows(tmp_path / "in.csv", ROWS)
    status, errors = run_cli(
        caplog, source, tmp_path / "out.jsonl", "--text-column", "review", "--model-dir", tiny_model_dir
    )
    assert (status, errors) == (0, [])
    scored = pd.read_json(tmp_path / "out.jsonl", lines=True)
    assert list(scored["id"]) == [row["id"] for row in ROWS]
    assert scored["label"].notna().sum() > 0


@pytest.mark.parametrize(
    ("input_name", "output_name", "expected"),
    [
        ("missing.csv", "out.csv", "no input file at"),
        ("in.txt", "out.csv", "cannot tell the format of"),
        ("in.csv", "out.xlsx", "cannot tell which format to write"),
        ("in.csv", "no/such/folder/out.csv", "does not exist"),
    ],
)
def test_bad_files_stop_before_the_model_loads(
    tmp_path: Path,
    tiny_model_dir: Path,
    caplog: pytest.LogCaptureFixture,
    input_name: str,
    output_name: str,
    expected: str,
):
    write_rows(tmp_path / "in.csv", ROWS)
    (tmp_path / "in.txt").write_text("review\ngreat\n")
    output = tmp_path / output_name
    status, errors = run_cli(
        caplog, tmp_path / input_name, output, "--text-column", "review", "--model-dir", tiny_model_dir
    )
    assert status == EXIT_BAD_INPUT
    assert len(errors) == 1 and expected in errors[0] and "\n" not in errors[0]
    assert not output.exists()


@pytest.mark.parametrize("engine", ["local", "ray"])
@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_a_missing_text_column_lists_the_columns_there_are(
    tmp_path: Path, tiny_model_dir: Path, caplog: pytest.LogCaptureFixture, suffix: str, engine: str
):
    source = write_rows(tmp_path / f"in{suffix}", ROWS)
    output = tmp_path / "out.csv"
    status, errors = run_cli(
        caplog, source, output, "--text-column", "text", "--model-dir", tiny_model_dir, "--engine", engine
    )
    assert status == EXIT_BAD_INPUT
    assert errors == [f"no column 'text' in {source}; it has: id, review, stars"]
    assert_nothing_written(tmp_path, output)


def test_an_input_column_named_like_an_added_one_needs_a_prefix(
    tmp_path: Path, tiny_model_dir: Path, caplog: pytest.LogCaptureFixture
):
    source = write_rows(tmp_path / "in.csv", [{"review": "great", "label": "positive"}])
    status, errors = run_cli(
        caplog, source, tmp_path / "out.csv", "--text-column", "review", "--model-dir", tiny_model_dir
    )
    assert status == EXIT_BAD_INPUT and "--column-prefix" in errors[0]
    assert_nothing_written(tmp_path, tmp_path / "out.csv")


def test_an_unreadable_model_folder_is_one_line(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    source = write_rows(tmp_path / "in.csv", ROWS)
    output = tmp_path / "out.csv"
    empty = tmp_path / "models"
    empty.mkdir()
    status, errors = run_cli(caplog, source, output, "--text-column", "review", "--model-dir", empty)
    assert status == EXIT_BAD_INPUT and "no model version under" in errors[0]
    # A version folder whose metadata reads but whose SavedModel is garbage.
    version = empty / "1"
    version.mkdir()
    (version / "metadata.json").write_text(json.dumps({"labels": ["negative", "positive"]}))
    (version / "saved_model.pb").write_bytes(b"not a model")
    status, errors = run_cli(caplog, source, output, "--text-column", "review", "--model-dir", empty)
    assert status == EXIT_BAD_INPUT
    assert len(errors) == 1 and "cannot load the model" in errors[0] and "\n" not in errors[0]
    assert_nothing_written(tmp_path, output)


def test_a_bad_line_after_the_first_chunk_leaves_no_half_file(
    tmp_path: Path, tiny_model_dir: Path, caplog: pytest.LogCaptureFixture
):
    source = tmp_path / "in.jsonl"
    lines = [json.dumps({"review": "great film"})] * 5 + ["{not json"]
    source.write_text("\n".join(lines) + "\n")
    output = tmp_path / "out.parquet"
    status, errors = run_cli(
        caplog, source, output, "--text-column", "review", "--model-dir", tiny_model_dir, "--chunk-rows", "2"
    )
    assert status == EXIT_BAD_INPUT and errors[0].startswith(f"{source} line 6 is not JSON")
    assert_nothing_written(tmp_path, output)


def start_scoring(tmp_path: Path, tiny_model_dir: Path) -> tuple[subprocess.Popen, Path, Path]:
    """A run over enough rows to be caught in the middle, once its temporary output exists."""
    source = tmp_path / "in.csv"
    pd.DataFrame({"review": ["a great and moving film", "dull, boring and bad"] * 150_000}).to_csv(source, index=False)
    output = tmp_path / "out.csv"
    process = subprocess.Popen(
        [sys.executable, "-m", "scoring", source, output, "--text-column", "review", "--model-dir", tiny_model_dir]
        + ["--chunk-rows", "200"],
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while not any(path.stat().st_size > 0 for path in tmp_path.glob(".out.csv.*.partial")):
        assert process.poll() is None and time.monotonic() < deadline, "the run ended before it wrote anything"
        time.sleep(0.02)
    return process, source, output


@pytest.mark.slow
def test_a_killed_run_leaves_nothing_under_the_output_name(tmp_path: Path, tiny_model_dir: Path):
    process, _, output = start_scoring(tmp_path, tiny_model_dir)
    process.kill()
    process.wait(timeout=30)
    assert not output.exists()
    # Only the hidden temporary file, which no reader mistakes for the output, is left.
    assert [path.name for path in tmp_path.glob(".out.csv.*.partial")] == [f".out.csv.{process.pid}.partial"]


@pytest.mark.slow
def test_a_stopped_run_removes_its_temporary_file(tmp_path: Path, tiny_model_dir: Path):
    process, _, output = start_scoring(tmp_path, tiny_model_dir)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == EXIT_TERMINATED
    assert_nothing_written(tmp_path, output)
