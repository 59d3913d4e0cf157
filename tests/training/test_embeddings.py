import numpy as np
import pytest
import tensorflow as tf

from training.embeddings import cooccurrence, ppmi, pretrained_embeddings


def test_cooccurrence_counts_neighbours_within_a_text_by_inverse_distance():
    token_ids = tf.ragged.constant([[2, 3, 4], [4, 2]], dtype=tf.int64)
    counts = cooccurrence(token_ids, vocabulary_size=5, window=2).toarray()
    assert counts[2, 3] == counts[3, 2] == 1.0
    assert counts[3, 4] == 1.0
    # 2 and 4 are two apart in the first text (1/2) and adjacent in the second (1).
    assert counts[2, 4] == counts[4, 2] == 1.5
    assert counts[3, 3] == 0.0


def test_padding_and_unknown_words_are_not_counted():
    token_ids = tf.ragged.constant([[1, 2, 0, 3]], dtype=tf.int64)
    counts = cooccurrence(token_ids, vocabulary_size=4, window=3).toarray()
    assert counts[:2].sum() == counts[:, :2].sum() == 0
    assert counts[2, 3] == pytest.approx(1 / 2)


def test_ppmi_keeps_only_pairs_seen_more_than_chance():
    token_ids = tf.ragged.constant([[2, 3] * 20, [4, 5] * 20, [2, 4]], dtype=tf.int64)
    matrix = ppmi(cooccurrence(token_ids, 6, 1)).toarray()
    assert matrix[2, 3] > 0 and matrix[4, 5] > 0
    assert np.all(matrix >= 0)
    assert matrix[2, 4] < matrix[2, 3]


def test_words_used_alike_get_close_vectors():
    rng = np.random.default_rng(0)
    # Words 2 and 3 appear among words 6-9; words 4 and 5 among words 10-13.
    texts = []
    for _ in range(400):
        group = rng.integers(0, 2)
        word = rng.choice([2, 3]) if group == 0 else rng.choice([4, 5])
        context = rng.choice([6, 7, 8, 9] if group == 0 else [10, 11, 12, 13], size=4)
        texts.append([*context[:2], word, *context[2:]])
    vectors = pretrained_embeddings(tf.ragged.constant(texts, dtype=tf.int64), 14, 4, window=2, seed=0)
    assert vectors.shape == (14, 4)
    assert not vectors[:2].any()
    assert vectors[2] @ vectors[3] > vectors[2] @ vectors[4]
    np.testing.assert_allclose(np.linalg.norm(vectors[2:], axis=1), 1.0, atol=1e-5)
