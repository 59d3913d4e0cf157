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


def pad(token_ids: tf.RaggedTensor) -> tf.Tensor:
    """Pad a batch only to its longest member, and to at least one step so that a batch of empty
    texts still has a shape the recurrent layers accept."""
    dense = token_ids.to_tensor(default_value=PADDING_ID)
    missing = tf.maximum(0, 1 - tf.shape(dense)[1])
    return tf.pad(dense, [[0, 0], [0, missing]], constant_values=PADDING_ID)
