"""The check set scored by a version's LSTM and by its own n-gram teachers, side by side."""

import json
from pathlib import Path

import pytest

from training.checkset import CATEGORIES, load_check_set
from training.quality_report import main, teacher_config


def test_the_teachers_are_fitted_with_the_versions_recorded_settings():
    config = teacher_config({"seed": 7, "teacher_ngram_order": 2, "epochs": 99, "sentence_teacher": False})
    assert (config.seed, config.teacher_ngram_order, config.sentence_teacher) == (7, 2, False)
    assert config.epochs != 99
    # Versions recorded before the teachers could mark negations had teachers that did not.
    assert config.teacher_negation_scope == 0
    assert teacher_config({"teacher_negation_scope": 3}).teacher_negation_scope == 3
    # And before the sentence teacher read unlabelled reviews, it read the training reviews alone.
    assert config.sentence_teacher_unlabelled_reviews == 0
    recorded = {"sentence_teacher_unlabelled_reviews": 500, "teacher_unlabelled_reviews": 900}
    config = teacher_config(recorded)
    assert (config.sentence_teacher_unlabelled_reviews, config.teacher_unlabelled_reviews) == (500, 900)


def test_the_report_scores_the_lstm_and_each_teacher_per_category(tiny_version: Path, aclimdb_dir: Path, tmp_path):
    output = tmp_path / "quality.json"
    arguments = ["--artifacts-dir", str(tiny_version.parent), "--data-dir", str(aclimdb_dir), "--output", str(output)]
    assert main(arguments) == 0
    report = json.loads(output.read_text())
    models = ["LSTM", "review teacher", "review teacher (sentence calibration)", "sentence teacher"]
    assert list(report["figures"]) == models
    for figures in report["figures"].values():
        assert set(figures["categories"]) == set(CATEGORIES)
    # The LSTM's column is the figure that training recorded for the same SavedModel.
    evaluation = json.loads((tiny_version / "metadata.json").read_text())["evaluation"]
    recorded, recorded_rules = evaluation["check_set"], evaluation["validation_rules"]
    assert report["figures"]["LSTM"]["accuracy"] == pytest.approx(recorded["accuracy"])
    check_set = load_check_set()
    assert [row["text"] for row in report["texts"]] == check_set.texts
    assert all(0.0 <= row[name] <= 1.0 for row in report["texts"] for name in models)
    # The rule-written validation texts, scored by the LSTM as training scored them, and by the teacher.
    rules = report["validation_rules"]
    assert list(rules) == ["LSTM", "sentence teacher"]
    assert rules["LSTM"] == recorded_rules
    assert {kind: figures["examples"] for kind, figures in rules["sentence teacher"].items()} == {
        kind: figures["examples"] for kind, figures in recorded_rules.items()
    }
