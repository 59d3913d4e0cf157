"""Turn reviews into token ids: length-bucketed batches for fitting, and logits in input order."""

import keras
import numpy as np
import tensorflow as tf

from model.config import ModelConfig
from model.grouping import length_groups
from model.text import pad, truncate
from training.data import Reviews

# A masked LSTM still computes every padded step, so batches group reviews of similar length.
_BUCKET_WIDTH = 32
# Texts per model call when scoring; larger than a training batch, since no gradients are kept.
_SCORING_BATCH = 256


def token_ids_of(vectorizer, texts: list[str], config: ModelConfig | None = None, chunk: int = 4096) -> tf.RaggedTensor:
    """Token ids of each text, whole or (given `config`) cut as the exported model cuts them,
    computed a chunk of texts at a time to bound memory."""
    parts = []
    for start in range(0, len(texts), chunk):
        token_ids = vectorizer(tf.constant(texts[start : start + chunk]))
        # Cut chunk by chunk: the ragged index arithmetic of the cut holds several int64 copies of
        # its input. Over the 285,000 texts of a fitting set with the rules on, cut at once, they
        # took the run's peak to 8.3 GB; cut by chunk, the peak is the n-gram teacher's 3.1 GB.
        parts.append(token_ids if config is None else truncate(token_ids, config))
    return tf.concat(parts, axis=0)


def tokenize(vectorizer, texts: list[str], config: ModelConfig) -> tf.RaggedTensor:
    """Token ids of each text, cut the same way as in the exported model."""
    return token_ids_of(vectorizer, texts, config)


def batches(
    token_ids: tf.RaggedTensor,
    labels: np.ndarray,
    config: ModelConfig,
    batch_size: int,
    shuffle_seed: int | None = None,
    batch_tokens: int = 0,
) -> tf.data.Dataset:
    """Batches padded only to their longest member; shuffled (differently each epoch) when seeded.
    Each holds `batch_size` texts, or up to `batch_tokens` tokens when that allows more (see
    `bucket_batch_sizes`)."""
    # Slicing the flat values keeps every element a plain tensor, which padded batching needs.
    flat_ids = token_ids.flat_values
    rows = (token_ids.row_starts(), token_ids.row_lengths(), labels.astype(np.float32))
    dataset = tf.data.Dataset.from_tensor_slices(rows)
    dataset = dataset.map(lambda start, length, label: (flat_ids[start : start + length], label))
    if shuffle_seed is not None:
        dataset = dataset.shuffle(len(labels), seed=shuffle_seed, reshuffle_each_iteration=True)
    boundaries = list(range(_BUCKET_WIDTH, config.sequence_length + 1, _BUCKET_WIDTH))
    sizes = bucket_batch_sizes(boundaries, config.sequence_length, batch_size, batch_tokens)
    dataset = dataset.bucket_by_sequence_length(
        element_length_func=lambda ids, _label: tf.shape(ids)[0],
        bucket_boundaries=boundaries,
        bucket_batch_sizes=sizes,
        pad_to_bucket_boundary=False,
    )
    # Bucketing hides how many batches an epoch has, and Keras would then find out by running out of
    # data, with a warning, at the end of the first epoch. The count does not depend on the order:
    # each bucket yields its full batches and then its remainder.
    buckets = np.searchsorted(boundaries, token_ids.row_lengths().numpy(), side="right")
    count = int(np.sum(-(-np.bincount(buckets, minlength=len(sizes)) // np.array(sizes))))
    dataset = dataset.apply(tf.data.experimental.assert_cardinality(count))
    return dataset.prefetch(tf.data.AUTOTUNE)


def bucket_batch_sizes(boundaries: list[int], sequence_length: int, batch_size: int, batch_tokens: int) -> list[int]:
    """Texts per batch in each length bucket (those shorter than each boundary, then the rest, up to
    `sequence_length`): `batch_size`, or as many texts of the bucket's upper length as `batch_tokens`
    holds when that is more.

    A step over one-sentence texts costs far less than one over reviews, but a training set with the
    teacher's sentences and the rules' texts holds four times as many of them: a token budget gives
    them fewer, larger steps (text-embeddings-inference's `max-batch-tokens` does the same when
    serving)."""
    longest = [*boundaries, sequence_length]
    return [max(batch_size, batch_tokens // length) for length in longest]


def batched(
    vectorizer,
    reviews: Reviews,
    config: ModelConfig,
    batch_size: int,
    shuffle_seed: int | None,
    batch_tokens: int = 0,
) -> tf.data.Dataset:
    """Reviews as batches for `fit`: tokenized and cut as the exported model does."""
    token_ids = tokenize(vectorizer, reviews.texts, config)
    return batches(token_ids, reviews.labels, config, batch_size, shuffle_seed, batch_tokens)


def logits_in_order(model: keras.Model, vectorizer, texts: list[str], config: ModelConfig) -> np.ndarray:
    """The model's logit for each text, in the order of `texts`, from calls on texts of similar length."""
    # Traced once for any shape: an eager call would run the recurrent loop step by step in Python.
    forward = tf.function(lambda token_ids: model(token_ids, training=False), reduce_retracing=True)
    token_ids = tokenize(vectorizer, texts, config)
    logits = np.empty(len(texts), dtype=np.float32)
    for group in length_groups(token_ids.row_lengths().numpy().tolist(), _SCORING_BATCH):
        logits[group] = forward(pad(tf.gather(token_ids, group))).numpy()
    return logits
