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
"""

import argparse
import dataclasses
import logging
import os
import sys
from pathlib import Path

import numpy as np
import tensorflow as tf

from model.artifact import SIGNATURE_NAME, MetadataError, VersionNotFoundError, read_metadata, version_folder
from model.config import ModelConfig
from model.text import windows
from training.calibration import log_loss
from training.data import DataUnavailableError, Reviews, load_imdb
from training.evaluate import Signature, predict_probabilities
from training.metrics import classification_figures
from training.split import split_validation
from training.teacher import words

logger = logging.getLogger("training.long_reviews")

# Probabilities come back as float32; clipping keeps their logits finite.
_EPSILON = 1e-7


def logit(probabilities: np.ndarray) -> np.ndarray:
    clipped = np.clip(probabilities.astype(np.float64), _EPSILON, 1 - _EPSILON)
    return np.log(clipped) - np.log1p(-clipped)


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
    tokens = list(words(reviews.texts))
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
    result = {"reviews": len(reviews), "long_reviews": len(long), "mean_windows": float(window_counts[long].mean())}
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


def format_comparison(name: str, result: dict) -> str:
    rows = [
        f"{name}: {result['long_reviews']:,} of {result['reviews']:,} reviews longer than the model reads; "
        f"{result['mean_windows']:.2f} windows each on average; "
        f"LSTM steps over all reviews x{result['lstm_steps_ratio']:.2f}",
        f"{'reading':<10} {'accuracy':>9} {'correct':>8} {'log loss':>9} {'ECE':>7}",
    ]
    for reading in ("head_tail", "windows"):
        figures = result[reading]
        rows.append(
            f"{reading:<10} {figures['accuracy']:>9.4f} {figures['correct']:>8} "
            f"{figures['log_loss']:>9.4f} {figures['ece']:>7.4f}"
        )
    return "\n".join(rows)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m training.long_reviews", description=__doc__.splitlines()[0])
    parser.add_argument("--version", type=int, help="version number (default: the newest)")
    parser.add_argument("--artifacts-dir", type=Path, default=Path("artifacts/sentiment"))
    parser.add_argument("--data-dir", type=Path, default=os.environ.get("IMDB_DATA_DIR") or None)
    parser.add_argument("--window-stride", type=int, default=200, help="tokens between the starts of two windows")
    parser.add_argument("--splits", nargs="+", choices=("validation", "test"), default=["validation", "test"])
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    arguments = build_parser().parse_args(argv)
    try:
        path = version_folder(arguments.artifacts_dir, arguments.version)
        metadata = read_metadata(path)
        data = load_imdb(Path(arguments.data_dir) if arguments.data_dir else None)
    except (VersionNotFoundError, MetadataError, DataUnavailableError) as error:
        logger.error("%s", error)
        return 2
    recorded = metadata["config"]
    config = ModelConfig(**{**recorded["model"], "lstm_units": tuple(recorded["model"]["lstm_units"])})
    config = dataclasses.replace(config, window_stride=arguments.window_stride)
    signature = tf.saved_model.load(str(path)).signatures[SIGNATURE_NAME]
    _, validation = split_validation(data.train, recorded["validation_fraction"], recorded["seed"])
    for name in arguments.splits:
        result = compare(signature, validation if name == "validation" else data.test, config, name)
        sys.stdout.write(format_comparison(name, result) + "\n\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
