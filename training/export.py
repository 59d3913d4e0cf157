"""Write a model version: a string-in SavedModel plus metadata.json, published atomically."""

import logging
import os
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TypeAlias

import keras
import tensorflow as tf

from model.architecture import EMBEDDING_LAYER, logit_from_embeddings, logit_to_longest
from model.artifact import (
    EXPLAIN_SIGNATURE_DESCRIPTION,
    EXPLAIN_SIGNATURE_NAME,
    INPUT_TEXTS,
    INPUT_TOKEN_IDS,
    OUTPUT_ATTRIBUTION,
    OUTPUT_KNOWN_TOKENS,
    OUTPUT_PROBABILITY,
    OUTPUT_TOKEN_COUNT,
    OUTPUT_TOKEN_END,
    OUTPUT_TOKEN_IDS,
    OUTPUT_TOKEN_START,
    OUTPUT_TOKENS,
    OUTPUT_TRUNCATED,
    SCORE_TOKENS_SIGNATURE,
    SIGNATURE_DESCRIPTION,
    STAGING_PREFIX,
    TOKENIZE_SIGNATURE,
    next_version,
    write_metadata,
)
from model.config import ModelConfig
from model.text import (
    PADDING_ID,
    SENTENCE_BOUNDARY,
    UNKNOWN_ID,
    kept_tokens,
    pad,
    token_spans,
    tokenize,
    truncate,
    windows,
)

logger = logging.getLogger(__name__)

# Marked as an alias: mypy sees TensorFlow's classes as untyped, and would take a bare union of them for a value.
TokenIds: TypeAlias = tf.Tensor | tf.RaggedTensor

# Points on the straight path from the baseline to the text at which integrated gradients takes
# the gradient (midpoint rule). Sixteen keep the attributions' sum within a few percent of the
# log-odds they explain on the shipped model, at a cost that a request can pay.
INTEGRATED_GRADIENTS_STEPS = 16
# What metadata.json says about the explanations, so that a reader knows how they were made.
EXPLANATION_METHOD = {
    "signature": EXPLAIN_SIGNATURE_NAME,
    "method": "integrated gradients over the word embeddings",
    "baseline": "zero embeddings at every read position (padding masked as in serving)",
    "steps": INTEGRATED_GRADIENTS_STEPS,
    "target": "calibrated log-odds of the positive label",
}


def export_description() -> dict:
    """What metadata.json says about the exported signatures, written by training and by reexport."""
    return {
        "signature": SIGNATURE_DESCRIPTION,
        "explanation": {**EXPLANATION_METHOD, "outputs": EXPLAIN_SIGNATURE_DESCRIPTION},
    }


def known_word_counter(vectorizer: keras.layers.TextVectorization) -> Callable[[TokenIds], tf.Tensor]:
    """Counts each text's tokens that the vocabulary knows, sentence boundaries aside: a text of
    punctuation alone holds no word to judge it by."""
    vocabulary = vectorizer.get_vocabulary()
    boundary_id = vocabulary.index(SENTENCE_BOUNDARY) if SENTENCE_BOUNDARY in vocabulary else -1

    def known_words(token_ids: TokenIds) -> tf.Tensor:
        known = (token_ids > UNKNOWN_ID) & tf.not_equal(token_ids, boundary_id)
        return tf.reduce_sum(tf.cast(known, tf.int32), axis=1)

    return known_words


def serving_function(
    model: keras.Model, vectorizer: keras.layers.TextVectorization, config: ModelConfig, temperature: float
) -> tf.types.experimental.PolymorphicFunction:
    """Raw texts in; each text's positive-class probability and its count of known words out."""
    temperature = tf.constant(temperature, dtype=tf.float32)
    known_words = known_word_counter(vectorizer)

    @tf.function(input_signature=[tf.TensorSpec(shape=[None], dtype=tf.string, name=INPUT_TEXTS)])
    def serve(texts: tf.Tensor) -> dict[str, tf.Tensor]:
        if config.window_stride > 0:
            return windowed(vectorizer(texts))
        token_ids = pad(truncate(vectorizer(texts), config))
        logits = model(token_ids, training=False)
        return {
            OUTPUT_PROBABILITY: tf.sigmoid(logits / temperature),
            OUTPUT_KNOWN_TOKENS: known_words(token_ids),
        }

    def windowed(token_ids: tf.RaggedTensor) -> dict[str, tf.Tensor]:
        """Every window of every text in one model call, then the mean of each text's window logits.

        Each window is scored alone (padding is masked), so a text's probability still does not
        depend on the batch it came in.
        """
        window_ids, owners = windows(token_ids, config)
        window_logits = model(pad(window_ids), training=False)
        logits = tf.math.unsorted_segment_mean(window_logits, owners, num_segments=token_ids.nrows())
        return {
            OUTPUT_PROBABILITY: tf.sigmoid(logits / temperature),
            OUTPUT_KNOWN_TOKENS: known_words(token_ids),
        }

    return serve


def integrated_gradients(
    model: keras.Model, token_ids: tf.Tensor, temperature: tf.Tensor, steps: int = INTEGRATED_GRADIENTS_STEPS
) -> tf.Tensor:
    """Each read token's share of the calibrated log-odds, [batch, steps of token_ids].

    The path runs from zero embeddings to the text's own, with the same mask, so the attributions
    of a text add up (to the accuracy of the midpoint rule) to its log-odds minus those of an
    all-zero text of the same length. All path points of all texts go through the model as one
    batch.
    """
    embedded = model.get_layer(EMBEDDING_LAYER)(token_ids)
    mask = tf.not_equal(token_ids, PADDING_ID)
    alphas = (tf.range(steps, dtype=embedded.dtype) + 0.5) / steps
    batch, length, width = tf.unstack(tf.shape(embedded))
    path = tf.reshape(alphas[:, None, None, None] * embedded[None], [steps * batch, length, width])
    path_mask = tf.tile(mask, [steps, 1])
    with tf.GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(path)
        logits = logit_from_embeddings(model, path, path_mask) / temperature
    gradients = tf.reshape(tape.gradient(logits, path), [steps, batch, length, width])
    attributions = tf.reduce_sum(tf.reduce_mean(gradients, axis=0) * embedded, axis=-1)
    return tf.where(mask, attributions, tf.zeros_like(attributions))


def explain_function(
    model: keras.Model,
    vectorizer: keras.layers.TextVectorization,
    config: ModelConfig,
    temperature: float,
    steps: int = INTEGRATED_GRADIENTS_STEPS,
) -> tf.types.experimental.PolymorphicFunction:
    """Raw texts in; the serving outputs plus every token with its offsets and attribution out.

    Tokens, their ids and the truncation are computed as in `serving_function`, so the model reads
    exactly what `serving_default` reads. Tokens dropped by truncation are listed, flagged and given
    no attribution.
    """
    temperature = tf.constant(temperature, dtype=tf.float32)
    known_words = known_word_counter(vectorizer)

    @tf.function(input_signature=[tf.TensorSpec(shape=[None], dtype=tf.string, name=INPUT_TEXTS)])
    def explain(texts: tf.Tensor) -> dict[str, tf.Tensor]:
        all_ids = vectorizer(texts)
        kept = kept_tokens(all_ids, config)
        token_ids = pad(tf.ragged.boolean_mask(all_ids, kept))
        logits = model(token_ids, training=False)
        read_attributions = integrated_gradients(model, token_ids, temperature, steps)
        # Back to every token's place: the read tokens are the kept ones, in order.
        read_lengths = tf.reduce_sum(tf.cast(kept, tf.int64), axis=1)
        read_values = tf.RaggedTensor.from_tensor(read_attributions, lengths=read_lengths).flat_values
        attributions = tf.scatter_nd(
            tf.where(kept.flat_values), read_values, tf.shape(kept.flat_values, out_type=tf.int64)
        )
        tokens = tokenize(texts, config)
        starts, ends = token_spans(texts, config)
        # The spans follow the tokenizer's own rule; a text where they disagreed in number would get
        # -1 offsets rather than offsets of the wrong words.
        aligned = tf.equal(starts.row_lengths(), tokens.row_lengths())[:, None]
        width = tf.shape(tokens.to_tensor(""))[1]
        return {
            OUTPUT_PROBABILITY: tf.sigmoid(logits / temperature),
            OUTPUT_KNOWN_TOKENS: known_words(token_ids),
            OUTPUT_TOKEN_COUNT: tf.cast(tokens.row_lengths(), tf.int32),
            OUTPUT_TOKENS: tokens.to_tensor(""),
            OUTPUT_TOKEN_START: tf.where(aligned, _padded_offsets(starts, width), -1),
            OUTPUT_TOKEN_END: tf.where(aligned, _padded_offsets(ends, width), -1),
            OUTPUT_ATTRIBUTION: kept.with_flat_values(attributions).to_tensor(0.0),
            OUTPUT_TRUNCATED: (~kept).to_tensor(False),
        }

    return explain


def _padded_offsets(offsets: tf.RaggedTensor, width: tf.Tensor) -> tf.Tensor:
    """Offsets as int32 [batch, width], -1 after each text's last one."""
    dense = tf.cast(offsets.to_tensor(-1), tf.int32)
    dense = dense[:, :width]
    return tf.pad(dense, [[0, 0], [0, width - tf.shape(dense)[1]]], constant_values=-1)


def tokenize_function(
    vectorizer: keras.layers.TextVectorization, config: ModelConfig
) -> tf.types.experimental.PolymorphicFunction:
    """The string half of `serve`: raw texts in; padded token ids and the count of known words out."""
    known_words = known_word_counter(vectorizer)

    @tf.function(input_signature=[tf.TensorSpec(shape=[None], dtype=tf.string, name=INPUT_TEXTS)])
    def tokenize(texts: tf.Tensor) -> dict[str, tf.Tensor]:
        token_ids = pad(truncate(vectorizer(texts), config))
        return {
            OUTPUT_TOKEN_IDS: token_ids,
            OUTPUT_KNOWN_TOKENS: known_words(token_ids),
        }

    return tokenize


def score_function(model: keras.Model, temperature: float) -> tf.types.experimental.PolymorphicFunction:
    """The numeric half of `serve`: right-padded token ids (0 is padding) in; probabilities out.

    Its recurrent layers stop after the longest text (`logit_to_longest`), so a server that compiles
    it for a few padded widths pays only for the steps each batch holds.
    """
    temperature = tf.constant(temperature, dtype=tf.float32)

    @tf.function(input_signature=[tf.TensorSpec(shape=[None, None], dtype=tf.int64, name=INPUT_TOKEN_IDS)])
    def score_token_ids(token_ids: tf.Tensor) -> dict[str, tf.Tensor]:
        return {OUTPUT_PROBABILITY: tf.sigmoid(logit_to_longest(model, token_ids) / temperature)}

    return score_token_ids


def write_savedmodel(
    directory: Path,
    model: keras.Model,
    vectorizer: keras.layers.TextVectorization,
    config: ModelConfig,
    temperature: float,
) -> None:
    """Export with `serving_default` (the first endpoint), loadable with plain tf.saved_model.load;
    beside it `explain`, and serving_default's two halves for servers that compile the numeric one."""
    archive = keras.export.ExportArchive()
    # The model's weights as the TensorFlow variables that the endpoints capture: `track(model)` would
    # add Keras's wrappers of the same variables, which the checkpoint cannot tell apart from them and
    # stores a second time (keras-team/keras#23553), doubling the artifact and its memory once loaded.
    for name in ("variables", "trainable_variables", "non_trainable_variables"):
        archive.add_variable_collection(name, [weight.value for weight in getattr(model, name)])
    archive.track(vectorizer)
    archive.add_endpoint("serve", serving_function(model, vectorizer, config, temperature))
    archive.add_endpoint(EXPLAIN_SIGNATURE_NAME, explain_function(model, vectorizer, config, temperature))
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
