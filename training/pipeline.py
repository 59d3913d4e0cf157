"""Turn reviews into length-bucketed batches of token ids for fitting and evaluation."""

import numpy as np
import tensorflow as tf

from model.config import ModelConfig
from model.text import truncate

# A masked LSTM still computes every padded step, so batches group reviews of similar length.
_BUCKET_WIDTH = 32


def token_ids_of(vectorizer, texts: list[str], chunk: int = 4096) -> tf.RaggedTensor:
    """Token ids of each whole text, computed a chunk of texts at a time to bound memory."""
    parts = [vectorizer(tf.constant(texts[start : start + chunk])) for start in range(0, len(texts), chunk)]
    return tf.concat(parts, axis=0)


def tokenize(vectorizer, texts: list[str], config: ModelConfig) -> tf.RaggedTensor:
    """Token ids of each text, cut the same way as in the exported model."""
    return truncate(token_ids_of(vectorizer, texts), config)


def batches(
    token_ids: tf.RaggedTensor,
    labels: np.ndarray,
    config: ModelConfig,
    batch_size: int,
    shuffle_seed: int | None = None,
) -> tf.data.Dataset:
    """Batches padded only to their longest member; shuffled (differently each epoch) when seeded."""
    # Slicing the flat values keeps every element a plain tensor, which padded batching needs.
    flat_ids = token_ids.flat_values
    rows = (token_ids.row_starts(), token_ids.row_lengths(), labels.astype(np.float32))
    dataset = tf.data.Dataset.from_tensor_slices(rows)
    dataset = dataset.map(lambda start, length, label: (flat_ids[start : start + length], label))
    if shuffle_seed is not None:
        dataset = dataset.shuffle(len(labels), seed=shuffle_seed, reshuffle_each_iteration=True)
    boundaries = list(range(_BUCKET_WIDTH, config.sequence_length + 1, _BUCKET_WIDTH))
    dataset = dataset.bucket_by_sequence_length(
        element_length_func=lambda ids, _label: tf.shape(ids)[0],
        bucket_boundaries=boundaries,
        bucket_batch_sizes=[batch_size] * (len(boundaries) + 1),
        pad_to_bucket_boundary=False,
    )
    return dataset.prefetch(tf.data.AUTOTUNE)
