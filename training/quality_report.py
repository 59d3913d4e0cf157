"""Score the check set with a version's LSTM and with its own n-gram teachers, side by side.

The LSTM is there to read word order (negation, contrast, "but"), which a bag of n-grams cannot.
Scoring the check set with both, per category, shows where the student beats its teachers and
where it only repeats them. The teachers are fitted as training fits them, from the version's
recorded config, on the same training part of the same split; that takes minutes (the sentence
teacher reads every sentence of 22,500 reviews), not the LSTM's training. The report also scores
the texts the rules write from validation sentences (as training does for the versions it
exports), with the LSTM and with the sentence teacher, so that versions trained before that figure
existed can be compared on it.

    python -m training.quality_report --version 5 --data-dir aclImdb_v1.tar.gz
    python -m training.quality_report --output quality.json    # also every text's probability from each model
"""

import argparse
import dataclasses
import json
import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import tensorflow as tf

from model.artifact import SIGNATURE_NAME, MetadataError, VersionNotFoundError, read_metadata, version_folder
from training.augment import RULE_KINDS, RuleSentences
from training.calibration import Platt, fit_platt
from training.checkset import CATEGORIES, CheckSet, check_set_figures, load_check_set
from training.cli import run, version_parser
from training.config import TrainConfig
from training.data import DataUnavailableError, Reviews, load_imdb
from training.distillation import (
    calibrated_on_sentences,
    fit_review_teacher,
    sentence_labellers,
    sigmoid,
    surest_reviews,
    unlabelled_sample,
    validation_rule_sentences,
)
from training.evaluate import evaluate_rules, predict_probabilities, rule_figures
from training.split import split_validation
from training.teacher import NgramTeacher

logger = logging.getLogger("training.quality_report")

# The recorded config fields that decide how the teachers are fitted.
_TEACHER_FIELDS = (
    "seed",
    "validation_fraction",
    "teacher_ngram_order",
    "teacher_regularisation",
    "sentence_teacher",
    "sentence_teacher_regularisation",
    "teacher_negation_scope",
    "teacher_unlabelled_reviews",
    "sentence_teacher_unlabelled_reviews",
)
# What versions exported before a teacher setting existed did, where that is not today's default.
_BEFORE_RECORDED = {"teacher_negation_scope": 0, "sentence_teacher_unlabelled_reviews": 0}


def teacher_config(recorded: dict) -> TrainConfig:
    """The default config with the version's recorded teacher settings."""
    settings = {**_BEFORE_RECORDED, **{name: recorded[name] for name in _TEACHER_FIELDS if name in recorded}}
    return dataclasses.replace(TrainConfig(), **settings)


@dataclass(frozen=True)
class ScoredRules:
    """The texts the rules wrote from validation sentences, labelled by the sentence teacher, and the
    sentence teacher's own positive probability for each of them."""

    rules: RuleSentences
    sentence_teacher: np.ndarray


@dataclass(frozen=True)
class TeacherScores:
    """What the teachers make of the texts asked about, and of the rule-written validation texts."""

    # Each teacher's positive probability for each text asked about, by the teacher's name.
    probabilities: dict[str, np.ndarray] = field(default_factory=dict)
    # None without a sentence teacher.
    validation_rules: ScoredRules | None = None


def teacher_scores(config: TrainConfig, data_dir: Path | None, texts: list[str]) -> TeacherScores:
    """The positive probability of each text from the review teacher (calibrated on validation
    reviews, as it labels reviews, and on validation sentences, as it labelled one-liners before
    the sentence teacher existed) and from the sentence teacher (as it labels sentences); and the
    rule-written validation texts, as training writes them."""
    data = load_imdb(data_dir)
    train, validation = split_validation(data.train, config.validation_fraction, config.seed)
    if config.teacher_ngram_order <= 0:
        return TeacherScores()
    logger.info("fitting the review teacher on %d training reviews", len(train))
    review_teacher = fit_review_teacher(train, config)
    review_calibration = fit_platt(review_teacher.logits(validation.texts), validation.labels)
    review_logits = review_teacher.logits(texts)
    review_on_sentences, _ = calibrated_on_sentences(review_teacher, validation, config.seed, review_calibration)
    probabilities = {
        "review teacher": sigmoid(review_calibration(review_logits)),
        "review teacher (sentence calibration)": sigmoid(review_on_sentences(review_logits)),
    }
    sure_reviews = _sure_unlabelled_reviews(review_teacher, review_calibration, data.unsupervised, config)
    del review_teacher
    logger.info(
        "fitting the sentence teacher on the sentences of the training reviews and of those among %d sure "
        "unlabelled reviews that it does not label",
        len(sure_reviews),
    )
    # The first of the sentence teachers training fits: the one that wrote the validation rules.
    labeller = next(sentence_labellers(train, validation, sure_reviews, review_calibration, config))
    if not labeller.is_sentence_teacher:
        return TeacherScores(probabilities)
    probabilities["sentence teacher"] = sigmoid(labeller.logits(texts))
    rules = validation_rule_sentences(validation, labeller, config.seed)
    return TeacherScores(probabilities, ScoredRules(rules, sigmoid(labeller.logits(rules.texts))))


def _sure_unlabelled_reviews(
    review_teacher: NgramTeacher, calibration: Platt, unlabelled: list[str], config: TrainConfig
) -> Reviews:
    """The unlabelled reviews whose sentences the sentence teacher is fitted on too, as training
    chooses them."""
    if config.sentence_teacher_unlabelled_reviews <= 0:
        return Reviews([], np.zeros(0, dtype=np.int64))
    reviews = unlabelled_sample(unlabelled, config)
    logits = calibration(review_teacher.logits(reviews))
    return surest_reviews(reviews, logits, config.sentence_teacher_unlabelled_reviews)


def format_side_by_side(figures: dict[str, dict]) -> str:
    """One row per category, one column per model."""
    widths = {name: max(8, len(name)) for name in figures}
    rows = [f"{'category':<20} {'texts':>5} " + " ".join(f"{name:>{widths[name]}}" for name in figures)]
    first = next(iter(figures.values()))
    for category in CATEGORIES:
        if category in first["categories"]:
            cells = " ".join(
                f"{figures[name]['categories'][category]['accuracy']:>{widths[name]}.4f}" for name in figures
            )
            rows.append(f"{category:<20} {first['categories'][category]['examples']:>5} {cells}")
    cells = " ".join(f"{figures[name]['accuracy']:>{widths[name]}.4f}" for name in figures)
    rows.append(f"{'overall':<20} {first['examples']:>5} {cells}")
    return "\n".join(rows)


def format_rule_table(figures: dict[str, dict[str, dict]]) -> str:
    """One row per rule, one column of accuracy per model."""
    names = list(figures)
    rows = [f"{'rule':<10} {'texts':>5} " + " ".join(f"{name:>16}" for name in names)]
    for kind in RULE_KINDS:
        if kind in figures[names[0]]:
            cells = " ".join(f"{figures[name][kind]['accuracy']:>16.4f}" for name in names)
            rows.append(f"{kind:<10} {figures[names[0]][kind]['examples']:>5} {cells}")
    return "\n".join(rows)


def disagreements(check_set: CheckSet, first: np.ndarray, second: np.ndarray) -> tuple[int, int]:
    """How many texts only the first model gets right, and how many only the second."""
    first_right = (first > 0.5) == (check_set.labels == 1)
    second_right = (second > 0.5) == (check_set.labels == 1)
    return int(np.sum(first_right & ~second_right)), int(np.sum(second_right & ~first_right))


def build_parser() -> argparse.ArgumentParser:
    parser = version_parser("python -m training.quality_report", __doc__, with_data=True)
    parser.add_argument("--output", type=Path, help="also write the figures and every text's probabilities here")
    return parser


def report(arguments: argparse.Namespace) -> None:
    """Print the check set per category for the LSTM and its teachers, and write the JSON if asked."""
    path = version_folder(arguments.artifacts_dir, arguments.version)
    metadata = read_metadata(path)
    check_set = load_check_set()
    signature = tf.saved_model.load(str(path)).signatures[SIGNATURE_NAME]
    probabilities = {"LSTM": predict_probabilities(signature, check_set.texts)}
    config = teacher_config(metadata["config"])
    teachers = teacher_scores(config, arguments.data_dir, check_set.texts)
    probabilities |= teachers.probabilities
    figures = {name: check_set_figures(check_set, values) for name, values in probabilities.items()}
    sys.stdout.write(f"check set, version {metadata['version']}: accuracy per category\n")
    sys.stdout.write(format_side_by_side(figures) + "\n")
    for name in probabilities:
        if name != "LSTM":
            only_lstm, only_teacher = disagreements(check_set, probabilities["LSTM"], probabilities[name])
            sys.stdout.write(f"right only for the LSTM: {only_lstm}; only for the {name}: {only_teacher}\n")
    rules: dict[str, dict[str, dict]] = {}
    if teachers.validation_rules is not None:
        scored = teachers.validation_rules
        rules = {
            "LSTM": evaluate_rules(signature, scored.rules),
            "sentence teacher": rule_figures(scored.rules, scored.sentence_teacher),
        }
        sys.stdout.write("\ntexts the rules wrote from validation sentences: accuracy per rule\n")
        sys.stdout.write(format_rule_table(rules) + "\n")
    if arguments.output is not None:
        texts = [
            {"text": text, "label": int(label), "category": category}
            | {name: float(values[index]) for name, values in probabilities.items()}
            for index, (text, label, category) in enumerate(
                zip(check_set.texts, check_set.labels, check_set.categories, strict=True)
            )
        ]
        written = {"version": metadata["version"], "figures": figures, "validation_rules": rules, "texts": texts}
        arguments.output.write_text(json.dumps(written, indent=1), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    return run(build_parser(), report, (VersionNotFoundError, MetadataError, DataUnavailableError), argv)


if __name__ == "__main__":
    sys.exit(main())
