"""Temperature scaling: one scalar that makes the model's probabilities match its accuracy."""

import numpy as np


def fit_temperature(logits: np.ndarray, labels: np.ndarray, low: float = 0.05, high: float = 20.0) -> float:
    """The temperature T minimising the log-loss of sigmoid(logits / T), by golden-section search on log T."""
    ratio = (np.sqrt(5) - 1) / 2
    a, b = np.log(low), np.log(high)
    for _ in range(80):
        c, d = b - ratio * (b - a), a + ratio * (b - a)
        if log_loss(logits / np.exp(c), labels) < log_loss(logits / np.exp(d), labels):
            b = d
        else:
            a = c
    return float(np.exp((a + b) / 2))


def log_loss(logits: np.ndarray, labels: np.ndarray) -> float:
    # log(1 + exp(-z)) for positives and log(1 + exp(z)) for negatives, computed stably.
    signed = np.where(labels == 1, logits, -logits)
    return float(np.mean(np.logaddexp(0.0, -signed)))
