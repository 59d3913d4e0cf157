"""Tokenizing for training: cut chunk by chunk exactly as the exported model cuts whole texts, and
batched by length."""

from collections import Counter
from dataclasses import replace

import numpy as np
import tensorflow as tf

from model.text import truncate
from tests.conftest import CUT_WORDS, SHORT_CUT_MODEL, TINY_MODEL, adapted_vectorizer
from training.pipeline import batches, token_ids_of, tokenize


def test_chunked_tokenizing_cuts_each_text_as_the_whole_batch_would() -> None:
    config = SHORT_CUT_MODEL
    vectorizer = adapted_vectorizer(config)
    rng = np.random.default_rng(0)
    # Lengths on both sides of sequence_length, and empty texts, so that chunks mix cut and uncut ones.
    texts = [" ".join(rng.choice(CUT_WORDS, size=rng.integers(0, 30))) for _ in range(23)]
    whole = truncate(vectorizer(tf.constant(texts)), config).to_list()
    chunked = token_ids_of(vectorizer, texts, config, chunk=5).to_list()
    assert chunked == whole
    assert tokenize(vectorizer, texts, config).to_list() == whole
    assert max(len(ids) for ids in chunked) == config.sequence_length
    # Without a config every text is whole.
    assert token_ids_of(vectorizer, texts, chunk=5).to_list() == vectorizer(tf.constant(texts)).to_list()


def _batch_shapes(lengths: list[int], batch_tokens: int) -> tuple[Counter, list[float], int]:
    """(texts, padded length) of each batch, the labels in the order batched, and the declared count."""
    config = replace(TINY_MODEL, sequence_length=96, tail_length=8)
    token_ids = tf.ragged.constant([[1] * length for length in lengths], dtype=tf.int64)
    labels = np.arange(len(lengths))
    dataset = batches(token_ids, labels, config, batch_size=4, shuffle_seed=0, batch_tokens=batch_tokens)
    shapes, batched_labels = Counter(), []
    for ids, batch_labels in dataset:
        shapes[tuple(ids.shape)] += 1
        batched_labels.extend(batch_labels.numpy().tolist())
    return shapes, batched_labels, int(dataset.cardinality())


def test_a_token_budget_gives_short_texts_larger_batches_and_leaves_long_ones_alone() -> None:
    # Buckets below 32, 64 and 96 tokens: 20 texts of 5 tokens, 9 of 40 and 5 of 90.
    lengths = [5] * 20 + [40] * 9 + [90] * 5
    shapes, labels, count = _batch_shapes(lengths, batch_tokens=256)
    # 256 tokens hold 8 texts of up to 32 tokens; longer texts keep batches of 4.
    assert shapes == Counter({(8, 5): 2, (4, 5): 1, (4, 40): 2, (1, 40): 1, (4, 90): 1, (1, 90): 1})
    assert count == sum(shapes.values())
    assert sorted(labels) == list(range(len(lengths)))

    shapes, labels, count = _batch_shapes(lengths, batch_tokens=0)
    assert shapes == Counter({(4, 5): 5, (4, 40): 2, (1, 40): 1, (4, 90): 1, (1, 90): 1})
    assert count == sum(shapes.values())
    assert sorted(labels) == list(range(len(lengths)))
