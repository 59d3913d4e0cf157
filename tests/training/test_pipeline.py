"""Tokenizing for training: cut chunk by chunk exactly as the exported model cuts whole texts."""

import numpy as np
import tensorflow as tf

from model.text import truncate
from tests.conftest import CUT_WORDS, SHORT_CUT_MODEL, adapted_vectorizer
from training.pipeline import token_ids_of, tokenize


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
