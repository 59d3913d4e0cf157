"""The check set scored by a version's LSTM and by its own n-gram teachers, side by side."""

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from training.checkset import CATEGORIES, load_check_set
from training.config import TrainConfig
from training.data import load_aclimdb
from training.distillation import teacher_labelled
from training.quality_report import main, teacher_config, teacher_scores
from training.split import split_validation


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


def test_with_sure_unlabelled_reviews_the_report_scores_the_rule_texts_that_training_wrote(aclimdb_dir: Path):
    config = replace(
        TrainConfig(), validation_fraction=0.25, teacher_ngram_order=2, sentence_teacher_unlabelled_reviews=40
    )
    scores = teacher_scores(config, aclimdb_dir, ["A fine film."])
    data = load_aclimdb(aclimdb_dir)
    train, validation = split_validation(data.train, config.validation_fraction, config.seed)
    trained = teacher_labelled(train, validation, data.unsupervised, config)
    # Training cross-fitted two sentence teachers; the report scores with the first, which wrote the rules.
    assert [teacher["half"] for teacher in trained.summary["sentence_teachers"]] == [0, 1]
    assert scores.validation_rules is not None and len(trained.validation_rules.texts) > 0
    assert scores.validation_rules.rules.texts == trained.validation_rules.texts
    np.testing.assert_allclose(scores.validation_rules.rules.logits, trained.validation_rules.logits)
    assert set(scores.probabilities) >= {"review teacher", "sentence teacher"}
