"""Evaluation figures of binary predictions, computed with NumPy alone."""

import numpy as np

CALIBRATION_BINS = 15


def classification_figures(labels: np.ndarray, probabilities: np.ndarray) -> dict:
    """Accuracy, precision, recall, F1, ROC-AUC, ECE and the confusion matrix at threshold 0.5."""
    labels = labels.astype(np.int64)
    predicted = (probabilities >= 0.5).astype(np.int64)
    true_positive = int(np.sum((predicted == 1) & (labels == 1)))
    false_positive = int(np.sum((predicted == 1) & (labels == 0)))
    false_negative = int(np.sum((predicted == 0) & (labels == 1)))
    true_negative = int(np.sum((predicted == 0) & (labels == 0)))
    precision = true_positive / max(true_positive + false_positive, 1)
    recall = true_positive / max(true_positive + false_negative, 1)
    return {
        "examples": int(len(labels)),
        "accuracy": float(np.mean(predicted == labels)),
        "precision": precision,
        "recall": recall,
        "f1": 2 * precision * recall / max(precision + recall, 1e-12),
        "roc_auc": roc_auc(labels, probabilities),
        "ece": expected_calibration_error(labels, probabilities),
        # Rows are the true label, columns the predicted one: [[TN, FP], [FN, TP]].
        "confusion_matrix": [[true_negative, false_positive], [false_negative, true_positive]],
    }


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """The probability that a random positive scores above a random negative (ties count half)."""
    positives, negatives = int(np.sum(labels == 1)), int(np.sum(labels == 0))
    if positives == 0 or negatives == 0:
        return float("nan")
    ranks = _average_ranks(scores)
    return float((np.sum(ranks[labels == 1]) - positives * (positives + 1) / 2) / (positives * negatives))


def _average_ranks(values: np.ndarray) -> np.ndarray:
    order = np.argsort(values, kind="mergesort")
    sorted_values = values[order]
    ranks = np.empty(len(values), dtype=np.float64)
    start = 0
    while start < len(values):
        end = start
        while end + 1 < len(values) and sorted_values[end + 1] == sorted_values[start]:
            end += 1
        ranks[order[start : end + 1]] = (start + end) / 2 + 1
        start = end + 1
    return ranks


def roc_curve(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """False and true positive rates at every threshold, from the highest score down."""
    order = np.argsort(-scores, kind="mergesort")
    sorted_labels = labels[order]
    true_positives = np.concatenate([[0], np.cumsum(sorted_labels == 1)])
    false_positives = np.concatenate([[0], np.cumsum(sorted_labels == 0)])
    return false_positives / max(false_positives[-1], 1), true_positives / max(true_positives[-1], 1)


def reliability(labels: np.ndarray, probabilities: np.ndarray, bins: int = CALIBRATION_BINS) -> list[dict]:
    """Per equal-width bin of the predicted label's confidence: count, mean confidence, accuracy."""
    predicted = (probabilities >= 0.5).astype(np.int64)
    confidence = np.where(predicted == 1, probabilities, 1 - probabilities)
    correct = predicted == labels
    edges = np.linspace(0.5, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    rows = []
    for index in range(bins):
        members = which == index
        if np.any(members):
            rows.append(
                {
                    "low": float(edges[index]),
                    "high": float(edges[index + 1]),
                    "count": int(np.sum(members)),
                    "confidence": float(np.mean(confidence[members])),
                    "accuracy": float(np.mean(correct[members])),
                }
            )
    return rows


def expected_calibration_error(labels: np.ndarray, probabilities: np.ndarray, bins: int = CALIBRATION_BINS) -> float:
    """Mean gap between confidence and accuracy over the bins, weighted by how many predictions fall in each."""
    total = len(labels)
    rows = reliability(labels, probabilities, bins)
    return float(sum(row["count"] / total * abs(row["accuracy"] - row["confidence"]) for row in rows))
