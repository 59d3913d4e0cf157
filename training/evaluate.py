"""Score reviews with an exported SavedModel and compute the evaluation figures.

python -m training.evaluate --version 3 --data-dir ../aclImdb_v1.tar.gz
"""

from collections.abc import Callable

import numpy as np
import tensorflow as tf

from training.data import Reviews
from training.metrics import classification_figures

Signature = Callable[..., dict[str, tf.Tensor]]


def predict_probabilities(signature: Signature, texts: list[str], batch_size: int = 128) -> np.ndarray:
    """Positive-class probabilities in input order; texts of similar length share a batch."""
    order = np.argsort([len(text) for text in texts], kind="stable")
    probabilities = np.empty(len(texts), dtype=np.float32)
    for start in range(0, len(texts), batch_size):
        chosen = order[start : start + batch_size]
        outputs = signature(texts=tf.constant([texts[i] for i in chosen]))
        probabilities[chosen] = outputs["positive_probability"].numpy()
    return probabilities


def evaluate_signature(signature: Signature, reviews: Reviews) -> dict:
    return classification_figures(reviews.labels, predict_probabilities(signature, reviews.texts))
