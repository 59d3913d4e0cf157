"""Text standardisation and tokenization, the single source of truth shared by training and serving.

Everything here is made of TensorFlow ops so that it is traced into the exported SavedModel.
"""

import keras
import tensorflow as tf

from model.config import ModelConfig

# Padding and out-of-vocabulary ids used by TextVectorization.
PADDING_ID = 0
UNKNOWN_ID = 1

_LINE_BREAK = r"<br\s*/?>"
_APOSTROPHES = r"['’`]"
# Control characters go first: tf.strings.lower stops at a NUL byte.
_CONTROL = r"\p{C}+"
# Unicode punctuation and symbols (emoji included) separate words.
_NON_WORD = r"[\p{P}\p{S}]+"


def standardize(texts: tf.Tensor) -> tf.Tensor:
    """Lower-case, drop HTML line breaks, fold contractions ("don't" -> "dont") and strip punctuation."""
    texts = tf.strings.regex_replace(texts, _CONTROL, " ")
    texts = tf.strings.lower(texts, encoding="utf-8")
    texts = tf.strings.regex_replace(texts, _LINE_BREAK, " ")
    texts = tf.strings.regex_replace(texts, _APOSTROPHES, "")
    return tf.strings.regex_replace(texts, _NON_WORD, " ")


def build_vectorizer(config: ModelConfig) -> keras.layers.TextVectorization:
    """A vectorizer that maps texts to ragged token ids; call `adapt` on training texts before use."""
    return keras.layers.TextVectorization(
        max_tokens=config.vocabulary_size,
        standardize=standardize,
        split="whitespace",
        output_mode="int",
        ragged=True,
        name="vectorizer",
    )


def truncate(token_ids: tf.RaggedTensor, config: ModelConfig) -> tf.RaggedTensor:
    """Keep at most `sequence_length` tokens per text: its head and its last `tail_length` tokens."""
    lengths = token_ids.row_lengths()
    positions = tf.ragged.range(lengths)
    head_length = config.sequence_length - config.tail_length
    tail_start = tf.expand_dims(lengths - config.tail_length, axis=1)
    keep = (positions < head_length) | (positions >= tail_start)
    return tf.ragged.boolean_mask(token_ids, keep)


def windows(token_ids: tf.RaggedTensor, config: ModelConfig) -> tuple[tf.RaggedTensor, tf.Tensor]:
    """Cut each text into windows of at most `sequence_length` tokens, one every `window_stride`
    tokens, the last one ending on the text's last token; returns the windows and, for each, the
    index of its text. A text no longer than `sequence_length` (an empty one too) is one window.
    """
    size = tf.constant(config.sequence_length, dtype=tf.int64)
    stride = tf.constant(config.window_stride, dtype=tf.int64)
    lengths = token_ids.row_lengths()
    overflow = tf.maximum(lengths - size, 0)
    counts = 1 + (overflow + stride - 1) // stride
    window_numbers = tf.ragged.range(counts)
    owners = window_numbers.value_rowids()
    starts = tf.minimum(window_numbers.flat_values * stride, tf.gather(overflow, owners))
    starts += tf.gather(token_ids.row_starts(), owners)
    positions = tf.ragged.range(starts, starts + tf.minimum(tf.gather(lengths, owners), size))
    return positions.with_flat_values(tf.gather(token_ids.flat_values, positions.flat_values)), owners


def pad(token_ids: tf.RaggedTensor) -> tf.Tensor:
    """Pad a batch only to its longest member, and to at least one step so that a batch of empty
    texts still has a shape the recurrent layers accept."""
    dense = token_ids.to_tensor(default_value=PADDING_ID)
    missing = tf.maximum(0, 1 - tf.shape(dense)[1])
    return tf.pad(dense, [[0, 0], [0, missing]], constant_values=PADDING_ID)
