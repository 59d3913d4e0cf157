"""A bag-of-n-grams teacher that labels the unlabelled reviews for the LSTM to learn from.

The teacher is NBSVM (Wang & Manning, 2012): binary unigram to trigram features, each scaled by
its naive-Bayes log-count ratio, then an L2-regularised logistic regression. It fits the 22,500
training reviews in about a minute of CPU. Its calibrated probabilities become the soft labels of
the 50,000 unlabelled reviews (knowledge distillation, Hinton et al., 2015), so the LSTM learns
from three times as many reviews as were labelled. The teacher exists only while training: the
exported model is the stacked LSTM alone.

A bag of n-grams cannot tell "bad" from "not bad" beyond the bigram, so it may mark the words a
negation reaches (Das & Chen, 2001; Pang et al., 2002): "I can't fault it" becomes the words
"i cant neg_fault neg_it", and "neg_fault" earns a weight of its own.
"""

import logging
from collections.abc import Iterator

import numpy as np
import tensorflow as tf
from scipy import optimize, sparse

from model.text import SENTENCE_BOUNDARY, standardize
from training.augment import NEGATION_WORDS

logger = logging.getLogger(__name__)

# Smoothing count added to every n-gram when computing the naive-Bayes ratios.
_SMOOTHING = 1.0
# Texts standardised per TensorFlow call, which bounds memory.
_CHUNK = 4096
# Texts scored per slice by `logits`.
_SCORED_AT_ONCE = 50_000
# The words that open a negation's reach, as standardisation leaves them ("don't" becomes "dont").
_NEGATIONS = frozenset(word.encode() for word in NEGATION_WORDS) | frozenset(
    b"dont doesnt didnt cant couldnt wouldnt shouldnt isnt arent wasnt werent wont havent hasnt hadnt "
    b"aint mustnt neednt".split()
)
# Words that end a negation's reach early: the clause after a contrast speaks for itself.
_CONTRASTS = frozenset(b"but however although though yet whereas".split())
# Punctuation that ends a clause, and so a negation's reach, besides the ends of sentences.
_CLAUSE_PUNCTUATION = r'[,:()"\x{2013}\x{2014}]|\s-\s'
# Standardisation strips underscores, so no word of a text can already carry this prefix.
_NEGATED = b"neg_"
_BOUNDARY = SENTENCE_BOUNDARY.encode()


def words(texts: list[str], negation_scope: int = 0) -> Iterator[list[bytes]]:
    """Each text's words, standardised as the model standardises them; the teachers' n-grams are
    over words alone, without sentence boundaries. With a `negation_scope`, up to that many words
    after a negation, within its clause, carry the prefix "neg_"."""
    for start in range(0, len(texts), _CHUNK):
        chunk = tf.constant(texts[start : start + _CHUNK])
        if negation_scope <= 0:
            yield from (text.split() for text in standardize(chunk).numpy())
            continue
        clauses = tf.strings.regex_replace(chunk, _CLAUSE_PUNCTUATION, SENTENCE_BOUNDARY)
        for text in standardize(clauses, sentence_boundaries=True).numpy():
            yield _negation_marked(text.split(), negation_scope)


def _negation_marked(tokens: list[bytes], scope: int) -> list[bytes]:
    """`tokens` without clause boundaries, the `scope` words after each negation marked; a negation
    inside another's reach is marked and starts a reach of its own ("not bad, never dull")."""
    marked, reach = [], 0
    for token in tokens:
        if token == _BOUNDARY:
            reach = 0
        elif token in _CONTRASTS:
            reach = 0
            marked.append(token)
        else:
            marked.append(_NEGATED + token if reach > 0 else token)
            reach = scope if token in _NEGATIONS else max(reach - 1, 0)
    return marked


def ngrams(tokens: list[bytes], order: int) -> set[bytes]:
    """The distinct n-grams of 1 to `order` words."""
    found = set(tokens)
    for size in range(2, order + 1):
        found.update(b" ".join(tokens[start : start + size]) for start in range(len(tokens) - size + 1))
    return found


class NgramTeacher:
    """Naive-Bayes-scaled n-gram features and logistic regression; `fit`, then `logits`."""

    def __init__(self, order: int, regularisation: float, negation_scope: int = 0, max_iterations: int = 300):
        self.order = order
        # Words after a negation whose n-grams are kept apart from the same words unnegated.
        self.negation_scope = negation_scope
        # Inverse strength of the L2 penalty, as in the usual C of logistic regression.
        self.regularisation = regularisation
        self.max_iterations = max_iterations
        self.features: dict[bytes, int] = {}
        self.ratios = np.zeros(0)
        self.weights = np.zeros(0)
        self.bias = 0.0

    def fit(self, texts: list[str], labels: np.ndarray) -> "NgramTeacher":
        self.features = {}
        present = self._present(texts, grow=True)
        positive, negative = labels == 1, labels == 0
        counts_positive = _SMOOTHING + np.asarray(present[positive].sum(axis=0)).ravel()
        counts_negative = _SMOOTHING + np.asarray(present[negative].sum(axis=0)).ravel()
        self.ratios = np.log(counts_positive / counts_positive.sum()) - np.log(counts_negative / counts_negative.sum())
        scaled = present @ sparse.diags(self.ratios)
        self.weights, self.bias = self._logistic_regression(scaled.tocsr(), labels.astype(np.float64))
        logger.info("teacher fitted on %d texts with %d n-grams", len(texts), len(self.features))
        return self

    def logits(self, texts: list[str]) -> np.ndarray:
        # In slices, so that scoring the half million sentences of the unlabelled reviews never holds
        # all their n-grams at once: that matrix set the peak memory of training.
        pieces = [
            self._slice_logits(texts[start : start + _SCORED_AT_ONCE])
            for start in range(0, len(texts), _SCORED_AT_ONCE)
        ]
        return np.concatenate(pieces) if pieces else np.zeros(0)

    def _slice_logits(self, texts: list[str]) -> np.ndarray:
        scaled = self._present(texts, grow=False) @ sparse.diags(self.ratios)
        return np.asarray(scaled @ self.weights + self.bias, dtype=np.float64)

    def _present(self, texts: list[str], grow: bool) -> sparse.csr_matrix:
        """A texts × n-grams matrix of 0/1; n-grams unseen while fitting are dropped."""
        rows, columns = [], []
        for row, tokens in enumerate(words(texts, self.negation_scope)):
            for gram in ngrams(tokens, self.order):
                column = self.features.get(gram)
                if column is None and grow:
                    column = self.features[gram] = len(self.features)
                if column is not None:
                    rows.append(row)
                    columns.append(column)
        values = np.ones(len(rows), dtype=np.float64)
        return sparse.csr_matrix((values, (rows, columns)), shape=(len(texts), len(self.features)))

    def _logistic_regression(self, features: sparse.csr_matrix, labels: np.ndarray) -> tuple[np.ndarray, float]:
        signs = 2.0 * labels - 1.0

        def loss_and_gradient(parameters: np.ndarray) -> tuple[float, np.ndarray]:
            weights, bias = parameters[:-1], parameters[-1]
            margins = signs * (features @ weights + bias)
            loss = np.logaddexp(0.0, -margins).sum() + weights @ weights / (2 * self.regularisation)
            slopes = -signs * np.exp(-np.logaddexp(0.0, margins))
            gradient = np.append(features.T @ slopes + weights / self.regularisation, slopes.sum())
            return float(loss), gradient

        start = np.zeros(features.shape[1] + 1)
        options = {"maxiter": self.max_iterations}
        result = optimize.minimize(loss_and_gradient, start, jac=True, method="L-BFGS-B", options=options)
        return result.x[:-1], float(result.x[-1])
