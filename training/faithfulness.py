"""How faithful explanations are: deleting the words they rank highest should move the prediction most.

For each text, the tokens with the largest attribution towards the predicted label are deleted
from the text (their characters replaced by a space), and so are as many random tokens, several
times; the exported model scores every variant. A faithful explanation moves the probability
towards the other label much further than random deletions do.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from model.artifact import (
    INPUT_TEXTS,
    OUTPUT_ATTRIBUTION,
    OUTPUT_PROBABILITY,
    OUTPUT_TOKEN_COUNT,
    OUTPUT_TOKEN_END,
    OUTPUT_TOKEN_START,
    OUTPUT_TRUNCATED,
)

Signature = Callable[..., dict[str, tf.Tensor]]


@dataclass(frozen=True)
class DeletionResult:
    # Texts measured: those with more read tokens than are deleted.
    texts: int
    # Mean move of the probability towards the other label, deleting the top tokens / random ones.
    top_mean: float
    random_mean: float

    @property
    def ratio(self) -> float:
        return self.top_mean / self.random_mean if self.random_mean > 0 else float("inf")


def without_spans(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """The text with each span's characters replaced by one space, so that its neighbours stay apart."""
    pieces, position = [], 0
    for start, end in sorted(spans):
        pieces += [text[position:start], " "]
        position = end
    return "".join([*pieces, text[position:]])


def _outputs(signature: Signature, texts: list[str], batch_size: int) -> dict[str, list[np.ndarray]]:
    collected: dict[str, list[np.ndarray]] = {}
    for first in range(0, len(texts), batch_size):
        outputs = signature(**{INPUT_TEXTS: tf.constant(texts[first : first + batch_size])})
        for name, value in outputs.items():
            collected.setdefault(name, []).extend(list(value.numpy()))
    return collected


def deletion_effects(
    explain: Signature,
    serve: Signature,
    texts: Sequence[str],
    deleted: int = 5,
    random_draws: int = 5,
    seed: int = 0,
    batch_size: int = 16,
) -> DeletionResult:
    """Mean probability moves from deleting the `deleted` top tokens and `deleted` random read tokens."""
    rng = np.random.default_rng(seed)
    explained = _outputs(explain, list(texts), batch_size)
    variants: list[str] = []
    # Per measured text: its probability, the sign towards its predicted label, and which variants.
    plans: list[tuple[float, float, int, int]] = []
    for index, text in enumerate(texts):
        count = int(explained[OUTPUT_TOKEN_COUNT][index])
        starts = explained[OUTPUT_TOKEN_START][index][:count]
        ends = explained[OUTPUT_TOKEN_END][index][:count]
        read = np.flatnonzero(~explained[OUTPUT_TRUNCATED][index][:count])
        if len(read) <= deleted or np.any(starts < 0):
            continue
        probability = float(explained[OUTPUT_PROBABILITY][index])
        towards_label = 1.0 if probability >= 0.5 else -1.0
        attributions = towards_label * explained[OUTPUT_ATTRIBUTION][index][read]
        choices = [read[np.argsort(-attributions, kind="stable")[:deleted]]]
        choices += [rng.choice(read, size=deleted, replace=False) for _ in range(random_draws)]
        plans.append((probability, towards_label, len(variants), len(choices)))
        variants += [without_spans(text, [(starts[i], ends[i]) for i in chosen]) for chosen in choices]
    scores = np.array(_outputs(serve, variants, batch_size).get(OUTPUT_PROBABILITY, []), dtype=np.float64)
    top_moves, random_moves = [], []
    for probability, towards_label, first, size in plans:
        moves = towards_label * (probability - scores[first : first + size])
        top_moves.append(moves[0])
        random_moves.append(float(np.mean(moves[1:])))
    return DeletionResult(len(plans), float(np.mean(top_moves)), float(np.mean(random_moves)))
