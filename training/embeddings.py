"""Word vectors learned from unlabelled text, to start the embedding layer from.

Positive pointwise mutual information of nearby words, reduced by a truncated SVD (Levy & Goldberg,
2014): about 40 s of CPU over the train and unlabelled reviews, and the LSTM then starts from
words that already know their neighbours instead of learning 20,000 vectors from 22,500 labels.
"""

import logging

import numpy as np
import tensorflow as tf
from scipy import sparse
from scipy.sparse.linalg import svds

from model.text import UNKNOWN_ID

logger = logging.getLogger(__name__)

# Context counts are raised to this power before normalising, which keeps rare contexts from
# dominating PMI (the same smoothing word2vec applies to its negative samples).
_CONTEXT_SMOOTHING = 0.75


def cooccurrence(token_ids: tf.RaggedTensor, vocabulary_size: int, window: int) -> sparse.csr_matrix:
    """Symmetric counts of word pairs at most `window` apart within a text, weighted by 1 / distance."""
    flat = token_ids.flat_values.numpy()
    text_of = np.repeat(np.arange(token_ids.nrows().numpy()), token_ids.row_lengths().numpy())
    counts = sparse.csr_matrix((vocabulary_size, vocabulary_size), dtype=np.float64)
    for distance in range(1, window + 1):
        left, right = flat[:-distance], flat[distance:]
        keep = (text_of[:-distance] == text_of[distance:]) & (left > UNKNOWN_ID) & (right > UNKNOWN_ID)
        weights = np.full(int(keep.sum()), 1.0 / distance)
        pairs = sparse.coo_matrix((weights, (left[keep], right[keep])), shape=counts.shape).tocsr()
        counts = counts + pairs + pairs.T
    return counts


def ppmi(counts: sparse.csr_matrix) -> sparse.csr_matrix:
    """max(0, log P(w, c) / (P(w) P(c))) over the non-zero counts."""
    counts = counts.tocoo()
    total = counts.sum()
    word_totals = np.asarray(counts.sum(axis=1)).ravel()
    context_totals = np.asarray(counts.sum(axis=0)).ravel() ** _CONTEXT_SMOOTHING
    context_probability = context_totals / context_totals.sum()
    values = np.log(counts.data * 1.0 / total) - np.log(word_totals[counts.row] / total)
    values -= np.log(context_probability[counts.col])
    positive = values > 0
    return sparse.csr_matrix(
        (values[positive], (counts.row[positive], counts.col[positive])), shape=counts.shape, dtype=np.float32
    )


def pretrained_embeddings(
    token_ids: tf.RaggedTensor, vocabulary_size: int, dimension: int, window: int, seed: int
) -> np.ndarray:
    """A (vocabulary_size, dimension) matrix of unit-length word vectors; padding and unknown rows are 0."""
    matrix = ppmi(cooccurrence(token_ids, vocabulary_size, window))
    logger.info("PPMI matrix with %d non-zero entries", matrix.nnz)
    start = np.random.default_rng(seed).standard_normal(min(matrix.shape))
    left, singular_values, _ = svds(matrix, k=dimension, v0=start)
    vectors = left * np.sqrt(singular_values)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors = np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)
    vectors[: UNKNOWN_ID + 1] = 0.0
    return vectors.astype(np.float32)
