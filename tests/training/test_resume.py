"""Crash safety: a training run killed mid-epoch leaves no version, and --resume continues it."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.training.test_train_cli import TINY_FLAGS

pytestmark = pytest.mark.slow


def training_command(data: Path, artifacts: Path, runs: Path, *flags: str) -> list[str]:
    overrides = ["--epochs", "6", "--patience", "10", "--batch-size", "8"]
    return [sys.executable, "-m", "training.train", *TINY_FLAGS, *overrides, "--data-dir", str(data),
            "--artifacts-dir", str(artifacts), "--runs-dir", str(runs), *flags]  # fmt: skip


def test_a_killed_run_leaves_no_version_and_resumes_from_its_last_epoch(aclimdb_dir: Path, tmp_path: Path):
    artifacts, runs = tmp_path / "sentiment", tmp_path / "runs"
    environment = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        training_command(aclimdb_dir, artifacts, runs),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=environment,
    )
    seen = []
    for line in process.stdout:
        seen.append(line)
        if line.startswith("Epoch 4/6"):
            process.send_signal(signal.SIGKILL)  # Mid-epoch, with no chance to clean up.
            break
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL, "".join(seen)[-3000:]
    assert not any(entry.name.isdigit() for entry in artifacts.iterdir()) if artifacts.exists() else True
    assert (runs / "backup" / "vocabulary.json").is_file()

    resumed = subprocess.run(
        training_command(aclimdb_dir, artifacts, runs, "--resume", "true"),
        capture_output=True,
        text=True,
        timeout=300,
        env=environment,
    )
    output = resumed.stdout + resumed.stderr
    assert resumed.returncode == 0, output[-3000:]
    assert "resuming the run" in output
    assert "Epoch 1/6" not in output and "Epoch 4/6" in output
    assert [entry.name for entry in artifacts.iterdir() if entry.name.isdigit()] == ["1"]
    assert not (runs / "backup").exists()


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
