import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from model.artifact import complete_versions, next_version
from training.data import load_aclimdb
from training.evaluate import SHORT_TEXTS
from training.export import publish_version, staging_directory
from training.sentences import all_sentences

TEXTS = [
    "wonderful",
    "The film was dull and the plot boring.<br /><br />Worst movie!",
    "brilliant moving superb " * 30,
    "the actor",
    "awful " * 3 + "the story was great and loved it " * 12,
]


@pytest.fixture(scope="module")
def signature(tiny_version: Path):
    return tf.saved_model.load(str(tiny_version)).signatures["serving_default"]


def probabilities(signature, texts: list[str]) -> np.ndarray:
    return signature(texts=tf.constant(texts))["positive_probability"].numpy()


def test_a_texts_probability_is_the_same_alone_and_in_any_batch(signature):
    batched = probabilities(signature, TEXTS)
    alone = np.array([probabilities(signature, [text])[0] for text in TEXTS])
    reversed_batch = probabilities(signature, TEXTS[::-1])[::-1]
    np.testing.assert_allclose(batched, alone, atol=1e-5)
    np.testing.assert_allclose(reversed_batch, alone, atol=1e-5)


def test_the_tiny_model_learned_the_generated_sentiment(signature):
    positive, negative = probabilities(signature, ["wonderful brilliant superb film", "awful boring dull film"])
    assert positive > 0.5 > negative


def test_texts_without_known_words_are_counted_and_do_not_break_the_batch(signature):
    outputs = signature(texts=tf.constant(["?!", "zzzz qqqq", "", "great film"]))
    assert outputs["known_token_count"].numpy().tolist()[:3] == [0, 0, 0]
    assert outputs["known_token_count"].numpy()[3] == 2
    assert np.all(np.isfinite(outputs["positive_probability"].numpy()))


def test_the_savedmodel_loads_and_predicts_without_project_code(tiny_version: Path, tmp_path: Path):
    script = (
        "import sys, tensorflow as tf\n"
        "assert not any(name in sys.modules for name in ('model', 'training', 'app'))\n"
        f"serve = tf.saved_model.load({str(tiny_version)!r}).signatures['serving_default']\n"
        "print(serve(texts=tf.constant(['great film', 'awful']))['positive_probability'].numpy().tolist())\n"
    )
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    result = subprocess.run(
        [sys.executable, "-I", "-c", script], cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert len(json.loads(result.stdout.strip().splitlines()[-1])) == 2


def test_metadata_records_what_the_service_and_users_need(tiny_version: Path, aclimdb_dir: Path):
    metadata = json.loads((tiny_version / "metadata.json").read_text())
    assert metadata["version"] == int(tiny_version.name)
    assert metadata["labels"] == ["negative", "positive"]
    assert metadata["sequence_length"] == metadata["config"]["model"]["sequence_length"] == 48
    assert 2 < metadata["vocabulary_size"] <= 64
    assert metadata["data_source"] == "aclImdb:aclImdb"
    assert metadata["tensorflow_version"] == tf.__version__
    assert metadata["split"]["validation_by_movie"] is True
    test_figures = metadata["evaluation"]["test"]
    assert test_figures["examples"] == 200
    assert set(test_figures) >= {"accuracy", "precision", "recall", "f1", "roc_auc", "ece", "confusion_matrix"}
    assert sum(map(sum, test_figures["confusion_matrix"])) == 200
    assert metadata["training"]["epochs_run"] == len(metadata["training"]["history"]["loss"]) >= 1
    assert metadata["temperature"] > 0
    assert metadata["training"]["seconds"] > 0
    # Every sentence of the 200 generated test reviews: fewer than the 5,000 evaluation asks for.
    test_sentences = all_sentences(load_aclimdb(aclimdb_dir).test)
    assert 200 < metadata["evaluation"]["test_sentences"]["examples"] == len(test_sentences) < SHORT_TEXTS
    # Figures on rule-written validation texts, by rule (none where the generated sentences gave none).
    rules = metadata["evaluation"]["validation_rules"]
    assert set(rules) <= {"negated", "contrast", "agreement", "fragment"}
    assert all(figures["examples"] > 0 for figures in rules.values())


def test_the_report_is_a_png_beside_the_metadata(tiny_version: Path):
    report = tiny_version / "report.png"
    assert report.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert report.stat().st_size > 50_000


def test_publishing_takes_the_next_number_and_leaves_no_staging_folder(tmp_path: Path):
    (tmp_path / "3").mkdir()
    staging = staging_directory(tmp_path)
    staging.mkdir()
    (staging / "saved_model.pb").write_bytes(b"model")
    published = publish_version(staging, tmp_path, {"labels": ["negative", "positive"]})
    assert published == tmp_path / "4"
    assert json.loads((published / "metadata.json").read_text())["version"] == 4
    assert (published / "saved_model.pb").read_bytes() == b"model"
    assert not staging.exists()
    assert [folder.name for folder in complete_versions(tmp_path)] == ["4"]
    assert next_version(tmp_path) == 5


def test_a_staging_folder_is_never_a_version(tmp_path: Path):
    staging = staging_directory(tmp_path)
    staging.mkdir()
    assert next_version(tmp_path) == 1
    assert not staging.name.isdigit()


def test_evaluate_cli_reproduces_the_recorded_figures(tiny_version: Path, aclimdb_dir: Path, capsys):
    from training.evaluate import main

    assert main(["--artifacts-dir", str(tiny_version.parent), "--data-dir", str(aclimdb_dir)]) == 0
    output = capsys.readouterr().out
    recorded = json.loads((tiny_version / "metadata.json").read_text())["evaluation"]["test"]["accuracy"]
    accuracy_row = next(line for line in output.splitlines() if line.startswith("accuracy"))
    measured_value, recorded_value = (float(value) for value in accuracy_row.split()[1:])
    assert measured_value == pytest.approx(recorded, abs=1e-4)
    assert recorded_value == pytest.approx(recorded, abs=1e-4)


def test_evaluate_cli_reports_a_missing_version(tmp_path: Path):
    from training.evaluate import main

    assert main(["--artifacts-dir", str(tmp_path), "--version", "3"]) == 2


def test_the_savedmodel_stores_each_weight_once(tiny_version: Path):
    reader = tf.train.load_checkpoint(str(tiny_version / "variables" / "variables"))
    stored = [
        int(np.prod(shape))
        for name, shape in reader.get_variable_to_shape_map().items()
        if name.endswith("VARIABLE_VALUE")
    ]
    loaded = tf.saved_model.load(str(tiny_version))
    weights = sum(int(np.prod(variable.shape)) for variable in loaded.variables)
    assert weights > 0
    assert sum(stored) == weights
