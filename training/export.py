"""Write a model version: a string-in SavedModel plus metadata.json, published atomically."""

import logging
import os
import shutil
import uuid
from pathlib import Path

import keras
import tensorflow as tf

from model.artifact import (
    INPUT_TEXTS,
    INPUT_TOKEN_IDS,
    OUTPUT_KNOWN_TOKENS,
    OUTPUT_PROBABILITY,
    OUTPUT_TOKEN_IDS,
    SCORE_TOKENS_SIGNATURE,
    STAGING_PREFIX,
    TOKENIZE_SIGNATURE,
    next_version,
    write_metadata,
)
from model.config import ModelConfig
from model.text import UNKNOWN_ID, pad, truncate

logger = logging.getLogger(__name__)


def serving_function(
    model: keras.Model, vectorizer: keras.layers.TextVectorization, config: ModelConfig, temperature: float
) -> tf.types.experimental.PolymorphicFunction:
    """Raw texts in; each text's positive-class probability and its count of known words out."""
    temperature = tf.constant(temperature, dtype=tf.float32)

    @tf.function(input_signature=[tf.TensorSpec(shape=[None], dtype=tf.string, name=INPUT_TEXTS)])
    def serve(texts: tf.Tensor) -> dict[str, tf.Tensor]:
        token_ids = pad(truncate(vectorizer(texts), config))
        logits = model(token_ids, training=False)
        return {
            OUTPUT_PROBABILITY: tf.sigmoid(logits / temperature),
            OUTPUT_KNOWN_TOKENS: tf.reduce_sum(tf.cast(token_ids > UNKNOWN_ID, tf.int32), axis=1),
        }

    return serve


def tokenize_function(
    vectorizer: keras.layers.TextVectorization, config: ModelConfig
) -> tf.types.experimental.PolymorphicFunction:
    """The string half of `serve`: raw texts in; padded token ids and the count of known words out."""

    @tf.function(input_signature=[tf.TensorSpec(shape=[None], dtype=tf.string, name=INPUT_TEXTS)])
    def tokenize(texts: tf.Tensor) -> dict[str, tf.Tensor]:
        token_ids = pad(truncate(vectorizer(texts), config))
        return {
            OUTPUT_TOKEN_IDS: token_ids,
            OUTPUT_KNOWN_TOKENS: tf.reduce_sum(tf.cast(token_ids > UNKNOWN_ID, tf.int32), axis=1),
        }

    return tokenize


def score_function(model: keras.Model, temperature: float) -> tf.types.experimental.PolymorphicFunction:
    """The numeric half of `serve`: padded token ids (0 is padding, masked) in; probabilities out."""
    temperature = tf.constant(temperature, dtype=tf.float32)

    @tf.function(input_signature=[tf.TensorSpec(shape=[None, None], dtype=tf.int64, name=INPUT_TOKEN_IDS)])
    def score_token_ids(token_ids: tf.Tensor) -> dict[str, tf.Tensor]:
        return {OUTPUT_PROBABILITY: tf.sigmoid(model(token_ids, training=False) / temperature)}

    return score_token_ids


def write_savedmodel(
    directory: Path,
    model: keras.Model,
    vectorizer: keras.layers.TextVectorization,
    config: ModelConfig,
    temperature: float,
) -> None:
    """Export with `serving_default` (the first endpoint), loadable with plain tf.saved_model.load, and
    its two halves beside it for servers that compile the numeric one."""
    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.track(vectorizer)
    archive.add_endpoint("serve", serving_function(model, vectorizer, config, temperature))
    archive.add_endpoint(TOKENIZE_SIGNATURE, tokenize_function(vectorizer, config))
    archive.add_endpoint(SCORE_TOKENS_SIGNATURE, score_function(model, temperature))
    archive.write_out(str(directory), verbose=False)


def staging_directory(artifacts_dir: Path) -> Path:
    """A fresh folder beside the versions, on the same file system so that publishing is one rename."""
    artifacts_dir.mkdir(parents=True, exist_ok=True)
    return artifacts_dir / f"{STAGING_PREFIX}{uuid.uuid4().hex}"


def publish_version(staging: Path, artifacts_dir: Path, metadata: dict) -> Path:
    """Write metadata.json into the staged SavedModel and rename it to the next free version number.

    The rename is atomic, so a reader sees either no version or a complete one; when another run
    takes the same number first, the rename fails and the next number is tried.
    """
    while True:
        version = next_version(artifacts_dir)
        write_metadata(staging, {"version": version, **metadata})
        target = artifacts_dir / str(version)
        try:
            os.rename(staging, target)
        except OSError:
            if not target.exists():
                raise
            continue
        logger.info("published version %d at %s", version, target)
        return target


def discard(staging: Path) -> None:
    shutil.rmtree(staging, ignore_errors=True)
