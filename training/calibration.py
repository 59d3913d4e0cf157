"""Calibration: a temperature (one scalar) for the exported model, Platt scaling (a scale and a
bias) for the teacher's soft labels."""

from dataclasses import dataclass

import numpy as np
from scipy import optimize


def fit_temperature(logits: np.ndarray, labels: np.ndarray, low: float = 0.05, high: float = 20.0) -> float:
    """The temperature T minimising the log-loss of sigmoid(logits / T), by golden-section search on log T;
    1 when the logits separate the labels without an error."""
    if np.all(np.where(labels == 1, logits, -logits) > 0):
        # Then the log-loss only falls as T shrinks: no temperature minimises it, and the search would
        # stop at `low`, sharpening every probability to 0 or 1 (as a small or easy validation split
        # does). The logits are left as they are.
        return 1.0
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


@dataclass(frozen=True)
class Platt:
    """A scale and a shift of the logits (Platt scaling): sigmoid(scale * logit + bias)."""

    scale: float
    bias: float

    def __call__(self, logits: np.ndarray) -> np.ndarray:
        return self.scale * logits + self.bias


def fit_platt(logits: np.ndarray, labels: np.ndarray) -> Platt:
    """The scale and bias minimising the log-loss of sigmoid(scale * logits + bias).

    Unlike a temperature, the bias can undo a lean towards one class, such as a bag-of-n-grams
    model's intercept that outweighs the few n-grams of a one-line text. Both are bounded so that
    separable data cannot send them to infinity.
    """
    signs = np.where(labels == 1, 1.0, -1.0)

    def loss_and_gradient(parameters: np.ndarray) -> tuple[float, np.ndarray]:
        margins = signs * (parameters[0] * logits + parameters[1])
        slopes = -signs * np.exp(-np.logaddexp(0.0, margins)) / len(logits)
        loss = float(np.mean(np.logaddexp(0.0, -margins)))
        return loss, np.array([slopes @ logits, slopes.sum()])

    bounds = [(0.01, 20.0), (-5.0, 5.0)]
    result = optimize.minimize(loss_and_gradient, np.array([1.0, 0.0]), jac=True, method="L-BFGS-B", bounds=bounds)
    return Platt(float(result.x[0]), float(result.x[1]))
