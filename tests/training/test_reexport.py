"""Exporting a version again, from its own SavedModel, gives a new version that scores the same."""

from pathlib import Path

import numpy as np
import tensorflow as tf

from model.artifact import INPUT_TEXTS, OUTPUT_PROBABILITY, SIGNATURE_NAME, read_metadata
from training.reexport import main, model_config_of, reexport

TEXTS = ["great film", "awful boring film " * 30, "the plot was slow but the ending great", "?!", "good bad good"]


def probabilities(folder: Path) -> np.ndarray:
    signature = tf.saved_model.load(str(folder)).signatures[SIGNATURE_NAME]
    return signature(**{INPUT_TEXTS: tf.constant(TEXTS)})[OUTPUT_PROBABILITY].numpy()


def test_a_reexported_version_scores_as_the_original_and_says_where_it_came_from(tiny_version: Path, tmp_path: Path):
    published = reexport(tiny_version, tmp_path)
    assert published == tmp_path / "1"
    assert np.max(np.abs(probabilities(published) - probabilities(tiny_version))) <= 1e-6
    original, copy = read_metadata(tiny_version), read_metadata(published)
    assert copy["reexported"]["from_version"] == original["version"]
    assert copy["evaluation"] == original["evaluation"]
    assert copy["version"] == 1


def test_a_missing_version_is_a_one_line_error(tmp_path: Path, caplog):
    assert main(["--artifacts-dir", str(tmp_path), "--version", "3"]) == 2
    assert "no complete version 3" in caplog.text


def test_the_newest_version_is_the_default(tiny_version: Path, tmp_path: Path):
    assert main(["--artifacts-dir", str(tiny_version.parent), "--output-dir", str(tmp_path)]) == 0
    assert (tmp_path / "1" / "saved_model.pb").is_file()


def test_a_version_written_before_sentence_boundaries_is_read_without_them(tiny_version: Path):
    metadata = read_metadata(tiny_version)
    assert model_config_of(metadata).sentence_boundaries is True
    del metadata["config"]["model"]["sentence_boundaries"]
    assert model_config_of(metadata).sentence_boundaries is False
