"""Score reviews with an exported SavedModel and compute the evaluation figures.

Re-evaluate a shipped version on the IMDB test split and print its figures beside the recorded ones:

    python -m training.evaluate --version 5 --data-dir aclImdb_v1.tar.gz
    python -m training.evaluate --version 13 --data-dir aclImdb_v1.tar.gz --misses   # and the check set's misses
    make evaluate VERSION=3
"""

import argparse
import logging
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import tensorflow as tf

from model.artifact import (
    INPUT_TEXTS,
    OUTPUT_PROBABILITY,
    SIGNATURE_NAME,
    MetadataError,
    VersionNotFoundError,
    read_metadata,
    version_folder,
)
from model.grouping import length_groups
from training.augment import RuleSentences
from training.checkset import CATEGORIES, CheckSet, check_set_figures, check_set_misses, load_check_set
from training.cli import run, version_parser
from training.data import DataUnavailableError, Reviews, load_imdb
from training.metrics import classification_figures
from training.sentences import sample_sentences

Signature = Callable[..., dict[str, tf.Tensor]]
logger = logging.getLogger("training.evaluate")
# Sentences cut from test reviews, to measure how the model does on one-liners.
SHORT_TEXTS = 5000
_TABLE_FIGURES = ("examples", "accuracy", "precision", "recall", "f1", "roc_auc", "ece")


def predict_probabilities(signature: Signature, texts: list[str], batch_size: int = 128) -> np.ndarray:
    """Positive-class probabilities in input order; texts of similar length share a batch."""
    probabilities = np.empty(len(texts), dtype=np.float32)
    for chosen in length_groups([len(text) for text in texts], batch_size):
        outputs = signature(**{INPUT_TEXTS: tf.constant([texts[i] for i in chosen])})
        probabilities[chosen] = outputs[OUTPUT_PROBABILITY].numpy()
    return probabilities


def evaluate_signature(signature: Signature, reviews: Reviews) -> dict:
    return classification_figures(reviews.labels, predict_probabilities(signature, reviews.texts))


def evaluation_figures(
    signature: Signature, validation: Reviews, test: Reviews, seed: int, validation_rules: RuleSentences | None = None
) -> tuple[dict, np.ndarray]:
    """Figures of an exported model on validation, test and short texts, and on `validation_rules`
    where given; also the test probabilities."""
    test_probabilities = predict_probabilities(signature, test.texts)
    evaluation = {
        "validation": evaluate_signature(signature, validation),
        "test": classification_figures(test.labels, test_probabilities),
        "test_sentences": evaluate_signature(signature, sample_sentences(test, SHORT_TEXTS, seed)),
        # Short texts from validation: a one-liner figure that choosing between runs may look at.
        "validation_sentences": evaluate_signature(signature, sample_sentences(validation, SHORT_TEXTS, seed)),
        # The hand-written check set (training/checkset): a report, never used to choose a run.
        "check_set": evaluate_check_set(signature),
    }
    if validation_rules is not None:
        evaluation["validation_rules"] = evaluate_rules(signature, validation_rules)
    return evaluation, test_probabilities


def evaluate_rules(signature: Signature, rules: RuleSentences) -> dict[str, dict]:
    return rule_figures(rules, predict_probabilities(signature, rules.texts))


def rule_figures(rules: RuleSentences, probabilities: np.ndarray) -> dict[str, dict]:
    """Figures of a model's `probabilities` for the texts of each rule that wrote any, each text
    labelled by the sign of its logit."""
    labels = (rules.logits > 0).astype(np.int64)
    return {
        kind: classification_figures(labels[part], probabilities[part])
        for kind, part in rules.kinds().items()
        if part.stop > part.start
    }


def score_check_set(signature: Signature) -> tuple[CheckSet, np.ndarray]:
    """The project's hand-written check set and the positive probability of each of its texts."""
    check_set = load_check_set()
    return check_set, predict_probabilities(signature, check_set.texts)


def evaluate_check_set(signature: Signature) -> dict:
    """Accuracy on the check set, overall and per category (a report only)."""
    return check_set_figures(*score_check_set(signature))


def format_table(measured: dict, recorded: dict) -> str:
    rows = [f"{'figure':<10} {'measured':>10} {'recorded':>10}"]
    for name in _TABLE_FIGURES:
        rows.append(f"{name:<10} {measured[name]:>10.4f} {recorded.get(name, float('nan')):>10.4f}")
    rows.append(f"confusion matrix [[TN, FP], [FN, TP]]: {measured['confusion_matrix']}")
    return "\n".join(rows)


def format_check_set_table(measured: dict, recorded: dict | None) -> str:
    """Accuracy per category and overall, measured beside recorded (nan where the version has none)."""
    recorded = recorded or {}
    recorded_categories = recorded.get("categories", {})
    rows = [f"{'category':<20} {'texts':>6} {'measured':>10} {'recorded':>10}"]
    for name in CATEGORIES:
        if name in measured["categories"]:
            figures, before = measured["categories"][name], recorded_categories.get(name, {})
            rows.append(
                f"{name:<20} {figures['examples']:>6} {figures['accuracy']:>10.4f} "
                f"{before.get('accuracy', float('nan')):>10.4f}"
            )
    rows.append(
        f"{'overall':<20} {measured['examples']:>6} {measured['accuracy']:>10.4f} "
        f"{recorded.get('accuracy', float('nan')):>10.4f}"
    )
    return "\n".join(rows)


def build_parser() -> argparse.ArgumentParser:
    parser = version_parser("python -m training.evaluate", __doc__, with_data=True)
    parser.add_argument("--misses", action="store_true", help="also list each check-set text read wrongly")
    return parser


def report_version(version: int | None, artifacts_dir: Path, data_dir: Path | None, misses: bool = False) -> None:
    """Print a version's figures measured now on the test split beside those it recorded, and with
    `misses` each check-set text it reads wrongly."""
    path = version_folder(artifacts_dir, version)
    metadata = read_metadata(path)
    data = load_imdb(data_dir)
    signature = tf.saved_model.load(str(path)).signatures[SIGNATURE_NAME]
    sentences = sample_sentences(
        data.test, metadata["evaluation"]["test_sentences"]["examples"], metadata["config"]["seed"]
    )
    sys.stdout.write(f"version {metadata['version']} on the {data.source} test split\n")
    for name, reviews in (("test", data.test), ("test_sentences", sentences)):
        measured = evaluate_signature(signature, reviews)
        sys.stdout.write(f"\n{name}\n{format_table(measured, metadata['evaluation'][name])}\n")
    check_set, probabilities = score_check_set(signature)
    table = format_check_set_table(check_set_figures(check_set, probabilities), metadata["evaluation"].get("check_set"))
    sys.stdout.write(f"\ncheck set (hand-written one-liners; a report, never used for selection)\n{table}\n")
    if misses:
        sys.stdout.write(
            f"\ncheck-set texts read wrongly (positive probability)\n{format_misses(check_set, probabilities)}\n"
        )


def format_misses(check_set: CheckSet, probabilities: np.ndarray) -> str:
    rows = [
        f"{category:<20} {probability:.3f}  {text}"
        for category, probability, text in check_set_misses(check_set, probabilities)
    ]
    return "\n".join(rows) or "none"


def main(argv: list[str] | None = None) -> int:
    def body(arguments: argparse.Namespace) -> None:
        report_version(arguments.version, arguments.artifacts_dir, arguments.data_dir, arguments.misses)

    return run(build_parser(), body, (VersionNotFoundError, MetadataError, DataUnavailableError), argv)


if __name__ == "__main__":
    sys.exit(main())
