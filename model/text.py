"""Text standardisation and tokenization, the single source of truth shared by training and serving.

Everything here is made of TensorFlow ops so that it is traced into the exported SavedModel.
"""

import re
from collections.abc import Callable
from functools import partial

import keras
import tensorflow as tf

from model.artifact import PADDING_ID
from model.config import ModelConfig

# The out-of-vocabulary id that TextVectorization uses, after padding's (the artifact contract's).
UNKNOWN_ID = 1

_LINE_BREAK = r"<br\s*/?>"
# The same tags found in the original text, before lower-casing; the group is what follows "br".
_LINE_BREAK_ANY_CASE = r"(?i)<br(\s*/?>)"
_APOSTROPHES = r"['’`]"
# Control characters go first: tf.strings.lower stops at a NUL byte.
_CONTROL = r"\p{C}+"
_ONE_CONTROL = r"\p{C}"
# Unicode punctuation and symbols (emoji included) separate words.
_NON_WORD = r"[\p{P}\p{S}]+"
# The token that a run of sentence-ending punctuation becomes when the config keeps sentence
# boundaries: without it "I will never get back. Dull." reads "never get back dull", and the model
# cannot see where a negation's reach ends.
SENTENCE_BOUNDARY = "."
_SENTENCE_END = r"[.!?;…。！？；]+"
# Punctuation and symbols other than the boundary token, once sentence ends have become it.
_NON_WORD_BUT_BOUNDARY = rf"(?:\p{{S}}|[^\P{{P}}{re.escape(SENTENCE_BOUNDARY)}])+"


def standardize(texts: tf.Tensor, sentence_boundaries: bool = False) -> tf.Tensor:
    """Lower-case, drop HTML line breaks, fold contractions ("don't" -> "dont") and strip punctuation;
    with `sentence_boundaries`, each run of sentence-ending punctuation becomes the word "."."""
    texts = tf.strings.regex_replace(texts, _CONTROL, " ")
    texts = tf.strings.lower(texts, encoding="utf-8")
    texts = tf.strings.regex_replace(texts, _LINE_BREAK, " ")
    texts = tf.strings.regex_replace(texts, _APOSTROPHES, "")
    if not sentence_boundaries:
        return tf.strings.regex_replace(texts, _NON_WORD, " ")
    texts = tf.strings.regex_replace(texts, _SENTENCE_END, f" {SENTENCE_BOUNDARY} ")
    return tf.strings.regex_replace(texts, _NON_WORD_BUT_BOUNDARY, " ")


def standardizer(config: ModelConfig) -> Callable[[tf.Tensor], tf.Tensor]:
    """`standardize` as `config` asks for it."""
    return partial(standardize, sentence_boundaries=config.sentence_boundaries)


def build_vectorizer(config: ModelConfig) -> keras.layers.TextVectorization:
    """A vectorizer that maps texts to ragged token ids; call `adapt` on training texts before use."""
    return keras.layers.TextVectorization(
        max_tokens=config.vocabulary_size,
        standardize=standardizer(config),
        split="whitespace",
        output_mode="int",
        ragged=True,
        name="vectorizer",
    )


def tokenize(texts: tf.Tensor, config: ModelConfig) -> tf.RaggedTensor:
    """The tokens the vectorizer looks up: standardized text split on whitespace, as TextVectorization
    with split="whitespace" does."""
    return tf.strings.split(standardizer(config)(texts))


def token_spans(texts: tf.Tensor, config: ModelConfig) -> tuple[tf.RaggedTensor, tf.RaggedTensor]:
    """Where each token of `tokenize(texts)` lies in the original texts: start and end offsets in
    code points (Python string indexes), one pair per token, in order.

    Standardisation replaces and drops characters, so offsets cannot be read off its output. Instead
    each character of the original text is classified by running it alone through `standardize`:
    it is a word character when something remains that the whitespace split keeps, silent when
    nothing remains (apostrophes, which join "don't" into one word), and a separator otherwise.
    A token is a run of word and silent characters holding at least one word character, and its
    span runs from its first to its last word character; a sentence boundary's characters and
    other word characters do not share a run ("end.Next" is three tokens). Line break tags are the
    one rule that looks at several characters, so their letters are blanked on the whole text
    first, after control characters become spaces as in `standardize` (the tag may hold them
    between "br" and "/>"). Every replacement keeps one code point for one, so positions survive.
    """
    blanked = tf.strings.regex_replace(texts, _ONE_CONTROL, " ")
    blanked = tf.strings.regex_replace(blanked, _LINE_BREAK_ANY_CASE, r"<  \1")
    characters = tf.strings.unicode_split(blanked, "UTF-8")
    alone = standardizer(config)(characters.flat_values)
    silent = tf.equal(alone, "")
    word = tf.strings.split(alone).row_lengths() > 0
    boundary = tf.equal(tf.strings.strip(alone), SENTENCE_BOUNDARY)
    in_token = word | silent
    rows = characters.value_rowids()
    positions = tf.range(tf.size(rows, out_type=tf.int64)) - tf.gather(characters.row_splits, rows)
    # A run starts at a non-separator whose predecessor in the same text is a separator, or is on
    # the other side of a sentence boundary's edge.
    previous_in_token = _previous(in_token) & (positions > 0)
    starts_run = in_token & (~previous_in_token | tf.not_equal(boundary, _previous(boundary)))
    run_of = tf.cumsum(tf.cast(starts_run, tf.int64)) - 1
    word_indexes = tf.squeeze(tf.where(word), axis=1)
    word_runs = tf.gather(run_of, word_indexes)
    # Runs are numbered in text order, so the word characters' runs, made unique, are the tokens.
    token_runs, token_of_word = tf.unique(word_runs, out_idx=tf.int64)
    count = tf.size(token_runs, out_type=tf.int64)
    word_positions = tf.gather(positions, word_indexes)
    starts = tf.math.unsorted_segment_min(word_positions, token_of_word, count)
    ends = tf.math.unsorted_segment_max(word_positions, token_of_word, count) + 1
    token_rows = tf.math.unsorted_segment_min(tf.gather(rows, word_indexes), token_of_word, count)
    nrows = characters.nrows()
    return (
        tf.RaggedTensor.from_value_rowids(starts, token_rows, nrows=nrows),
        tf.RaggedTensor.from_value_rowids(ends, token_rows, nrows=nrows),
    )


def _previous(flags: tf.Tensor) -> tf.Tensor:
    """Each flag's predecessor in the flat character sequence, False for the first."""
    return tf.concat([[False], flags], axis=0)[:-1]


def kept_tokens(token_ids: tf.RaggedTensor, config: ModelConfig) -> tf.RaggedTensor:
    """Which tokens the model reads: all of a text of at most `sequence_length` tokens, else its
    head and its last `tail_length` tokens."""
    lengths = token_ids.row_lengths()
    positions = tf.ragged.range(lengths)
    head_length = config.sequence_length - config.tail_length
    tail_start = tf.expand_dims(lengths - config.tail_length, axis=1)
    return (positions < head_length) | (positions >= tail_start)


def truncate(token_ids: tf.RaggedTensor, config: ModelConfig) -> tf.RaggedTensor:
    """Keep at most `sequence_length` tokens per text: its head and its last `tail_length` tokens."""
    return tf.ragged.boolean_mask(token_ids, kept_tokens(token_ids, config))


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
