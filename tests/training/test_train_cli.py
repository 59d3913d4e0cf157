"""The training command end to end, as a user runs it, on a generated aclImdb copy."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from tests.imdb_fixture import write_tarball

pytestmark = pytest.mark.slow

TINY_FLAGS = [
    "--vocabulary-size", "64", "--sequence-length", "48", "--tail-length", "8", "--embedding-dim", "8",
    "--lstm-units", "4", "4", "--dense-units", "4", "--epochs", "2", "--batch-size", "16",
    "--validation-fraction", "0.25", "--learning-rate", "0.01",
]  # fmt: skip


def run_training(tmp_path: Path, *flags: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "training.train", *TINY_FLAGS, "--runs-dir", str(tmp_path / "runs"), *flags]
    environment = {**os.environ, **(env or {})}
    return subprocess.run(command, capture_output=True, text=True, timeout=300, env=environment)


@pytest.mark.parametrize("packed", [False, True], ids=["folder", "tarball"])
def test_training_writes_a_version_that_the_service_serves(aclimdb_dir: Path, tmp_path: Path, packed: bool):
    data = write_tarball(aclimdb_dir, tmp_path / "aclImdb_v1.tar.gz") if packed else aclimdb_dir
    artifacts = tmp_path / "sentiment"
    (artifacts / "1").mkdir(parents=True)
    (artifacts / "1" / "metadata.json").write_text("{}")

    result = run_training(tmp_path, "--artifacts-dir", str(artifacts), "--seed", "7", env={"IMDB_DATA_DIR": str(data)})

    assert result.returncode == 0, result.stderr[-3000:]
    assert sorted(entry.name for entry in artifacts.iterdir()) == ["1", "2"]
    metadata = json.loads((artifacts / "2" / "metadata.json").read_text())
    assert metadata["config"]["seed"] == 7
    assert metadata["config"]["data_dir"] == str(data)
    output = result.stdout + result.stderr
    assert "Epoch 1/2" in output
    # Training sizes TensorFlow's thread pools before its first op: one thread per op by default.
    assert "TensorFlow threads: 1 per op" in output
    # Neither Keras warning that every run used to print: their causes are gone.
    assert "ran out of data" not in output and "shuffle=True" not in output
    with TestClient(create_app(Settings(model_dir=artifacts))) as client:
        answer = client.post("/predict", json={"texts": ["wonderful superb film", "awful dull film"]})
    assert answer.status_code == 200
    assert answer.json()["model_version"] == 2


def test_training_without_data_stops_with_one_sentence(tmp_path: Path):
    result = run_training(tmp_path, "--data-dir", str(tmp_path / "missing.tar.gz"))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"No IMDB copy at {tmp_path / 'missing.tar.gz'}" in result.stderr
