"""The training report: one PNG with the learning curves, ROC curve, reliability diagram and confusion matrix."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from training.metrics import reliability, roc_curve  # noqa: E402


def _learning_curve(axis: plt.Axes, history: dict[str, list[float]], name: str) -> None:
    epochs = np.arange(1, len(history[name]) + 1)
    axis.plot(epochs, history[name], marker="o", label="train")
    axis.plot(epochs, history[f"val_{name}"], marker="o", label="validation")
    axis.set(title=f"{name} per epoch", xlabel="epoch", ylabel=name, xticks=epochs)
    axis.legend()
    axis.grid(alpha=0.3)


def _roc(axis: plt.Axes, labels: np.ndarray, probabilities: np.ndarray, auc: float) -> None:
    false_rate, true_rate = roc_curve(labels, probabilities)
    axis.plot(false_rate, true_rate, label=f"ROC-AUC {auc:.4f}")
    axis.plot([0, 1], [0, 1], linestyle="--", color="grey")
    axis.set(title="ROC curve (test)", xlabel="false positive rate", ylabel="true positive rate")
    axis.legend(loc="lower right")
    axis.grid(alpha=0.3)


def _reliability(axis: plt.Axes, labels: np.ndarray, probabilities: np.ndarray, ece: float) -> None:
    rows = reliability(labels, probabilities)
    centres = [(row["low"] + row["high"]) / 2 for row in rows]
    width = rows[0]["high"] - rows[0]["low"] if rows else 0.03
    axis.bar(centres, [row["accuracy"] for row in rows], width=width * 0.9, alpha=0.7, label="accuracy")
    axis.plot([0.5, 1], [0.5, 1], linestyle="--", color="grey", label="perfect calibration")
    axis.scatter([row["confidence"] for row in rows], [row["accuracy"] for row in rows], color="black", s=12)
    axis.set(title=f"reliability (test), ECE {ece:.4f}", xlabel="confidence", ylabel="accuracy", xlim=(0.5, 1))
    axis.legend(loc="upper left")
    axis.grid(alpha=0.3)


def _confusion(axis: plt.Axes, matrix: list[list[int]], label_names: list[str]) -> None:
    axis.imshow(matrix, cmap="Blues")
    darkest = max(max(row) for row in matrix)
    for row in range(2):
        for column in range(2):
            value = matrix[row][column]
            colour = "white" if value > darkest / 2 else "black"
            axis.text(column, row, f"{value:,}", ha="center", va="center", fontsize=14, color=colour)
    axis.set(title="confusion matrix (test)", xlabel="predicted", ylabel="true", xticks=[0, 1], yticks=[0, 1])
    axis.set_xticklabels(label_names)
    axis.set_yticklabels(label_names)


def _summary(axis: plt.Axes, lines: list[str]) -> None:
    axis.axis("off")
    axis.text(0.0, 1.0, "\n".join(lines), va="top", family="monospace", fontsize=12)


def summary_lines(metadata: dict) -> list[str]:
    """The headline figures of a version, as the report prints them beside its charts."""
    test, sentences = metadata["evaluation"]["test"], metadata["evaluation"]["test_sentences"]
    model = metadata["config"]["model"]
    return [
        f"test reviews        {test['examples']:,}",
        f"accuracy            {test['accuracy']:.4f}",
        f"F1                  {test['f1']:.4f}",
        f"ROC-AUC             {test['roc_auc']:.4f}",
        f"ECE (15 bins)       {test['ece']:.4f}",
        f"short texts ({sentences['examples']:,})",
        f"  accuracy          {sentences['accuracy']:.4f}",
        f"validation accuracy {metadata['evaluation']['validation']['accuracy']:.4f}",
        f"temperature         {metadata['temperature']:.3f}",
        f"epochs run          {metadata['training']['epochs_run']}",
        f"training time       {metadata['training']['seconds'] / 60:.1f} min",
        f"LSTM units          {model['lstm_units']} bidirectional={model['bidirectional']}",
        f"vocabulary          {metadata['vocabulary_size']:,}, {model['sequence_length']} tokens",
    ]


def write_report(path: Path, metadata: dict, labels: np.ndarray, probabilities: np.ndarray) -> None:
    """Draw the report of one version from its metadata and its test predictions."""
    test = metadata["evaluation"]["test"]
    figure, axes = plt.subplots(2, 3, figsize=(18, 10), dpi=100)
    _learning_curve(axes[0, 0], metadata["training"]["history"], "loss")
    _learning_curve(axes[0, 1], metadata["training"]["history"], "accuracy")
    _roc(axes[0, 2], labels, probabilities, test["roc_auc"])
    _reliability(axes[1, 0], labels, probabilities, test["ece"])
    _confusion(axes[1, 1], test["confusion_matrix"], metadata["labels"])
    _summary(axes[1, 2], summary_lines(metadata))
    figure.suptitle("Sentiment model: training report", fontsize=16)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
