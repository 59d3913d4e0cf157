"""Tokenizing for training: cut chunk by chunk exactly as the exported model cuts whole texts."""

from dataclasses import replace

import numpy as np
import tensorflow as tf

from model.text import build_vectorizer, truncate
from tests.conftest import TINY_MODEL
from training.pipeline import token_ids_of, tokenize

WORDS = ["the", "film", "was", "great", "awful", "dull", "and", "superb", "plot", "actor"]


def test_chunked_tokenizing_cuts_each_text_as_the_whole_batch_would() -> None:
    config = replace(TINY_MODEL, sequence_length=12, tail_length=4)
    vectorizer = build_vectorizer(config)
    vectorizer.adapt(tf.constant([" ".join(WORDS)]))
    rng = np.random.default_rng(0)
    # Lengths on both sides of sequence_length, and empty texts, so that chunks mix cut and uncut ones.
    texts = [" ".join(rng.choice(WORDS, size=rng.integers(0, 30))) for _ in range(23)]
    whole = truncate(vectorizer(tf.constant(texts)), config).to_list()
    chunked = token_ids_of(vectorizer, texts, config, chunk=5).to_list()
    assert chunked == whole
    assert tokenize(vectorizer, texts, config).to_list() == whole
    assert max(len(ids) for ids in chunked) == config.sequence_length
    # Without a config every text is whole.
    assert token_ids_of(vectorizer, texts, chunk=5).to_list() == vectorizer(tf.constant(texts)).to_list()
