"""Crash safety: a training run killed mid-epoch leaves no version, and --resume continues it
under the settings it was started with."""

import dataclasses
import os
import signal
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import keras
import numpy as np
import pytest

from model.config import ModelConfig
from tests.training.test_train_cli import TINY_FLAGS
from training.config import TrainConfig
from training.fitting import compile_model
from training.resume import (
    RUN_ONLY_SETTINGS,
    SETTINGS_FILE,
    BackupMismatchError,
    backup_callback,
    backup_dir,
    fitted_settings,
    vocabulary,
)

TEXTS = ["a fine film", "a dull film", "fine acting and a dull plot"]


def training_command(data: Path, artifacts: Path, runs: Path, *flags: str) -> list[str]:
    overrides = ["--epochs", "6", "--patience", "10", "--batch-size", "8"]
    return [sys.executable, "-m", "training.train", *TINY_FLAGS, *overrides, "--data-dir", str(data),
            "--artifacts-dir", str(artifacts), "--runs-dir", str(runs), *flags]  # fmt: skip


def kill_at(command: list[str], marker: str) -> str:
    """Run `command` and kill it, with no chance to clean up, when a line starts with `marker`."""
    environment = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=environment)
    seen = []
    for line in process.stdout:
        seen.append(line)
        if line.startswith(marker):
            process.send_signal(signal.SIGKILL)
            break
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL, "".join(seen)[-3000:]
    return "".join(seen)


def resume(command: list[str]) -> str:
    resumed = subprocess.run(command, capture_output=True, text=True, timeout=300)
    output = resumed.stdout + resumed.stderr
    assert resumed.returncode == 0, output[-3000:]
    assert "resuming the run" in output
    return output


@pytest.mark.slow
def test_a_killed_run_leaves_no_version_and_resumes_from_its_last_epoch(aclimdb_dir: Path, tmp_path: Path):
    artifacts, runs = tmp_path / "sentiment", tmp_path / "runs"
    kill_at(training_command(aclimdb_dir, artifacts, runs), "Epoch 4/6")  # Mid-epoch of the first round.
    assert not any(entry.name.isdigit() for entry in artifacts.iterdir()) if artifacts.exists() else True
    assert (runs / "backup" / "vocabulary.json").is_file()

    output = resume(training_command(aclimdb_dir, artifacts, runs, "--resume", "true"))
    assert "Epoch 1/6" not in output and "Epoch 4/6" in output
    assert [entry.name for entry in artifacts.iterdir() if entry.name.isdigit()] == ["1"]
    assert not (runs / "backup").exists()


@pytest.mark.slow
def test_a_run_killed_in_the_second_round_resumes_after_the_first(aclimdb_dir: Path, tmp_path: Path):
    artifacts, runs = tmp_path / "sentiment", tmp_path / "runs"
    command = training_command(aclimdb_dir, artifacts, runs, "--teacher-rounds", "2", "--teacher-round-epochs", "3")
    kill_at(command, "Epoch 2/3")
    assert not (artifacts.exists() and any(entry.name.isdigit() for entry in artifacts.iterdir()))

    output = resume([*command, "--resume", "true"])
    assert "Epoch 1/6" not in output and "Epoch 6/6" not in output
    assert "Epoch 1/3" in output
    assert [entry.name for entry in artifacts.iterdir() if entry.name.isdigit()] == ["1"]


@pytest.mark.slow
def test_without_resume_a_new_run_starts_over(aclimdb_dir: Path, tmp_path: Path):
    runs = tmp_path / "runs"
    (runs / "backup").mkdir(parents=True)
    (runs / "backup" / "vocabulary.json").write_text('["stale"]')
    result = subprocess.run(
        training_command(aclimdb_dir, tmp_path / "sentiment", runs, "--epochs", "2"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Epoch 1/2" in result.stdout + result.stderr
    assert "resuming" not in result.stdout + result.stderr


@pytest.mark.slow
def test_resuming_restores_the_optimizer_state_with_the_weights(tmp_path: Path):
    config = TrainConfig(runs_dir=tmp_path / "runs", batch_size=4)
    features, labels = np.ones((8, 3), dtype="float32"), np.ones((8, 1), dtype="float32")

    def fit(epochs: int) -> keras.Model:
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
        compile_model(model, config, steps_per_epoch=len(features) // config.batch_size)
        model.fit(features, labels, batch_size=4, epochs=epochs, callbacks=[backup_callback(config)], verbose=0)
        return model

    first = fit(epochs=1)
    resumed = fit(epochs=2)  # Starts at epoch 2 from the backup of epoch 1.
    assert len(resumed.history.history["loss"]) == 1
    # Adam's step count and moments continue from the backup instead of starting afresh.
    assert int(first.optimizer.iterations) == 2
    assert int(resumed.optimizer.iterations) == 4


def test_resuming_with_other_settings_is_refused_naming_each_of_them(tmp_path: Path):
    first = TrainConfig(runs_dir=tmp_path / "runs", epochs=4)
    vocabulary(first, TEXTS)
    # The usual slip: `make train RESUME=1` without the flags the interrupted run was started with.
    resumed = replace(first, resume=True, epochs=3, model=replace(first.model, lstm_units=(32, 32)))

    with pytest.raises(BackupMismatchError) as refused:
        vocabulary(resumed, TEXTS)

    assert "epochs 4 (now 3)" in str(refused.value)
    assert "model.lstm_units [64, 64] (now [32, 32])" in str(refused.value)
    assert "seed" not in str(refused.value)
    assert (backup_dir(first) / SETTINGS_FILE).is_file()  # Refusing leaves the backup to resume properly.


def test_resuming_elsewhere_with_other_threads_continues_with_the_backed_up_vocabulary(tmp_path: Path):
    first = TrainConfig(runs_dir=tmp_path / "runs", max_test_reviews=100)
    words = vocabulary(first, TEXTS).get_vocabulary()
    moved = replace(first, resume=True, data_dir=tmp_path / "elsewhere", max_test_reviews=None, intra_op_threads=2)

    assert vocabulary(moved, ["entirely other words"]).get_vocabulary() == words


@pytest.mark.parametrize("damage", ["removed", "cut short"])
def test_a_backup_without_a_readable_record_of_its_settings_is_not_resumed(tmp_path: Path, damage: str):
    first = TrainConfig(runs_dir=tmp_path / "runs")
    vocabulary(first, TEXTS)
    settings = backup_dir(first) / SETTINGS_FILE
    if damage == "removed":
        settings.unlink()
    else:
        settings.write_text(settings.read_text()[:20])

    with pytest.raises(BackupMismatchError, match="start over without --resume"):
        vocabulary(replace(first, resume=True), TEXTS)


@pytest.mark.slow
def test_the_training_command_refuses_a_mismatched_resume_in_one_line(aclimdb_dir: Path, tmp_path: Path):
    artifacts, runs = tmp_path / "sentiment", tmp_path / "runs"
    kill_at(training_command(aclimdb_dir, artifacts, runs), "Epoch 2/6")

    command = training_command(aclimdb_dir, artifacts, runs, "--resume", "true", "--seed", "8")
    refused = subprocess.run(command, capture_output=True, text=True, timeout=300)

    assert refused.returncode == 2
    assert "seed 1337 (now 8)" in refused.stderr
    assert "Traceback" not in refused.stderr and "Epoch" not in refused.stdout + refused.stderr
    assert (runs / "backup" / SETTINGS_FILE).is_file()


def test_the_settings_that_may_change_are_config_fields_and_the_rest_are_recorded(tmp_path: Path):
    names = {item.name for item in dataclasses.fields(TrainConfig)}
    assert names >= RUN_ONLY_SETTINGS  # A renamed field would otherwise quietly become checked.
    recorded = fitted_settings(TrainConfig(runs_dir=tmp_path))
    assert {name.split(".")[0] for name in recorded} == names - RUN_ONLY_SETTINGS
    assert {name for name in recorded if name.startswith("model.")} == {
        f"model.{item.name}" for item in dataclasses.fields(ModelConfig)
    }
