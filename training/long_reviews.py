"""Compare, on reviews longer than the model reads, head+tail truncation against overlapping windows.

A version exported with head+tail truncation reads the first and last tokens of a long review. With
`window_stride` set, the exported model instead reads it whole, as windows of `sequence_length`
tokens, and averages their logits (`model.text.windows`, `training.export`). This script measures
that choice on an already exported head+tail version without re-exporting it: it cuts each long
review into the same windows with the same function, hands each window to the SavedModel as text
(its standardised tokens joined by spaces, which the model tokenizes back into exactly those
tokens), and averages the windows' logits as the windowed export does. Run it on validation to
choose and on test to report:

    python -m training.long_reviews --version 5 --data-dir aclImdb_v1.tar.gz --window-stride 200

With `--exported`, it also exports the version again with windows (into a temporary folder, never
as a version), checks that this SavedModel gives the probabilities measured above, and times both
exports side by side at batch 64 on the same test reviews.
"""

import argparse
import dataclasses
import logging
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from model.artifact import (
    INPUT_TEXTS,
    SIGNATURE_NAME,
    MetadataError,
    VersionNotFoundError,
    read_metadata,
    version_folder,
)
from model.config import ModelConfig
from model.text import tokenize, windows
from training.calibration import log_loss
from training.cli import run, version_parser
from training.data import DataUnavailableError, ImdbData, Reviews, load_imdb
from training.evaluate import Signature, predict_probabilities
from training.metrics import classification_figures
from training.reexport import export_again, model_config_of
from training.split import split_validation

logger = logging.getLogger("training.long_reviews")

# Probabilities come back as float32; clipping keeps their logits finite.
_EPSILON = 1e-7
# The batch size and the number of test reviews of the side-by-side timing, and its rounds.
_SPEED_BATCH = 64
_SPEED_REVIEWS = 1024
_SPEED_ROUNDS = 3
# Texts tokenized per TensorFlow call, which bounds memory.
_TOKENIZED_AT_ONCE = 4096


def logit(probabilities: np.ndarray) -> np.ndarray:
    clipped = np.clip(probabilities.astype(np.float64), _EPSILON, 1 - _EPSILON)
    return np.log(clipped) - np.log1p(-clipped)


def model_tokens(texts: list[str], config: ModelConfig) -> list[list[bytes]]:
    """Each text's tokens as the exported model's tokenizer writes them (`config` says whether
    sentence boundaries are among them)."""
    return [
        row
        for start in range(0, len(texts), _TOKENIZED_AT_ONCE)
        for row in tokenize(tf.constant(texts[start : start + _TOKENIZED_AT_ONCE]), config).to_list()
    ]


def window_texts(tokens: list[list[bytes]], config: ModelConfig) -> tuple[list[str], np.ndarray]:
    """Each text's windows as strings of its standardised tokens, and the index of each window's text."""
    positions = tf.ragged.range(tf.constant([len(text) for text in tokens], dtype=tf.int64))
    window_positions, owners = windows(positions, config)
    owners = owners.numpy()
    texts = [
        b" ".join(tokens[owner][position] for position in window).decode("utf-8")
        for owner, window in zip(owners, window_positions.to_list(), strict=True)
    ]
    return texts, owners


def windowed_probabilities(signature: Signature, tokens: list[list[bytes]], config: ModelConfig) -> np.ndarray:
    """The mean of each text's window logits (already divided by the temperature), as a probability."""
    texts, owners = window_texts(tokens, config)
    logger.info("scoring %d windows of %d texts", len(texts), len(tokens))
    window_logits = logit(predict_probabilities(signature, texts))
    means = np.bincount(owners, weights=window_logits, minlength=len(tokens)) / np.bincount(owners)
    return 1.0 / (1.0 + np.exp(-means))


def compare(signature: Signature, reviews: Reviews, config: ModelConfig, name: str) -> dict:
    """Both readings of the reviews longer than `sequence_length` tokens, and what the windows cost."""
    tokens = model_tokens(reviews.texts, config)
    lengths = np.array([len(text) for text in tokens])
    long = np.flatnonzero(lengths > config.sequence_length)
    long_tokens, labels = [tokens[index] for index in long], reviews.labels[long]
    logger.info("%s: %d of %d reviews are longer than %d tokens", name, len(long), len(reviews), config.sequence_length)
    head_tail = predict_probabilities(signature, [reviews.texts[index] for index in long])
    windowed = windowed_probabilities(signature, long_tokens, config)
    overflow = np.maximum(lengths - config.sequence_length, 0)
    window_counts = 1 + -(-overflow // config.window_stride)
    # LSTM steps over all the reviews: head+tail reads at most sequence_length tokens of each, windows
    # read sequence_length tokens per window of a long review.
    steps_head_tail = int(np.minimum(lengths, config.sequence_length).sum())
    steps_windows = int(np.where(overflow > 0, window_counts * config.sequence_length, lengths).sum())
    result: dict[str, Any] = {
        "reviews": len(reviews),
        "long_reviews": len(long),
        "mean_windows": float(window_counts[long].mean()),
    }
    result["lstm_steps_ratio"] = steps_windows / steps_head_tail
    for reading, probabilities in (("head_tail", head_tail), ("windows", windowed)):
        figures = classification_figures(labels, probabilities)
        result[reading] = {
            "accuracy": figures["accuracy"],
            "correct": int(round(figures["accuracy"] * len(long))),
            "log_loss": log_loss(logit(probabilities), labels),
            "ece": figures["ece"],
        }
    return result


def windowed_export(source: Path, stride: int, folder: Path) -> Signature:
    """The version at `source` exported again into `folder` with windows every `stride` tokens."""
    metadata = read_metadata(source)
    config = dataclasses.replace(model_config_of(metadata), window_stride=stride)
    export_again(tf.saved_model.load(str(source)), config, metadata["temperature"], folder)
    return tf.saved_model.load(str(folder)).signatures[SIGNATURE_NAME]


def reviews_per_second(signature: Signature, texts: list[str]) -> float:
    started = time.perf_counter()
    for start in range(0, len(texts), _SPEED_BATCH):
        signature(**{INPUT_TEXTS: tf.constant(texts[start : start + _SPEED_BATCH])})
    return len(texts) / (time.perf_counter() - started)


def side_by_side_speed(head_tail: Signature, windowed: Signature, texts: list[str]) -> list[tuple[float, float]]:
    """Reviews per second of both exports, turn about, round after round (the machine's speed drifts)."""
    for signature in (head_tail, windowed):
        signature(**{INPUT_TEXTS: tf.constant(texts[:_SPEED_BATCH])})
    return [(reviews_per_second(head_tail, texts), reviews_per_second(windowed, texts)) for _ in range(_SPEED_ROUNDS)]


def check_export(path: Path, signature: Signature, data: ImdbData, config: ModelConfig, validation: Reviews) -> None:
    """Export the version with windows; compare it with the measurement above and time both."""
    with tempfile.TemporaryDirectory() as folder:
        windowed = windowed_export(path, config.window_stride, Path(folder))
        tokens = model_tokens(validation.texts, config)
        long = [index for index, text in enumerate(tokens) if len(text) > config.sequence_length]
        expected = windowed_probabilities(signature, [tokens[index] for index in long], config)
        exported = predict_probabilities(windowed, [validation.texts[index] for index in long])
        difference = float(np.max(np.abs(expected - exported)))
        sys.stdout.write(f"windowed export against the measurement on {len(long)} reviews: max |dp| {difference:.1e}\n")
        sample = np.random.default_rng(0).permutation(len(data.test))[:_SPEED_REVIEWS]
        rounds = side_by_side_speed(signature, windowed, [data.test.texts[index] for index in sample])
    for head_tail_rate, windowed_rate in rounds:
        sys.stdout.write(
            f"batch {_SPEED_BATCH}, {_SPEED_REVIEWS} test reviews: head+tail {head_tail_rate:.1f} reviews/s, "
            f"windows {windowed_rate:.1f} reviews/s ({windowed_rate / head_tail_rate - 1:+.1%})\n"
        )


def format_comparison(name: str, result: dict) -> str:
    rows = [
        f"{name}: {result['long_reviews']:,} of {result['reviews']:,} reviews longer than the model reads; "
        f"{result['mean_windows']:.2f} windows each on average; "
        f"LSTM steps over all reviews x{result['lstm_steps_ratio']:.2f}",
        f"{'reading':<10} {'accuracy':>9} {'correct':>8} {'log loss':>9} {'ECE':>7}",
    ]
    columns = (("accuracy", ">9.4f"), ("correct", ">8"), ("log_loss", ">9.4f"), ("ece", ">7.4f"))
    rows += [
        f"{reading:<10} " + " ".join(format(result[reading][name], spec) for name, spec in columns)
        for reading in ("head_tail", "windows")
    ]
    return "\n".join(rows)


def build_parser() -> argparse.ArgumentParser:
    parser = version_parser("python -m training.long_reviews", __doc__, with_data=True)
    parser.add_argument("--window-stride", type=int, default=200, help="tokens between the starts of two windows")
    parser.add_argument("--splits", nargs="+", choices=("validation", "test"), default=["validation", "test"])
    parser.add_argument("--exported", action="store_true", help="also check and time a windowed export")
    return parser


def report(arguments: argparse.Namespace) -> None:
    """Print both readings' figures on the chosen splits, and check the windowed export if asked."""
    path = version_folder(arguments.artifacts_dir, arguments.version)
    metadata = read_metadata(path)
    data = load_imdb(arguments.data_dir)
    recorded = metadata["config"]
    config = dataclasses.replace(model_config_of(metadata), window_stride=arguments.window_stride)
    signature = tf.saved_model.load(str(path)).signatures[SIGNATURE_NAME]
    _, validation = split_validation(data.train, recorded["validation_fraction"], recorded["seed"])
    for name in arguments.splits:
        result = compare(signature, validation if name == "validation" else data.test, config, name)
        sys.stdout.write(format_comparison(name, result) + "\n\n")
        sys.stdout.flush()
    if arguments.exported:
        check_export(path, signature, data, config, validation)


def main(argv: list[str] | None = None) -> int:
    return run(build_parser(), report, (VersionNotFoundError, MetadataError, DataUnavailableError), argv)


if __name__ == "__main__":
    sys.exit(main())
