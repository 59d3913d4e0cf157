"""Score one chunk of rows: every row kept, in its order, with a label or the reason it has none.

Both engines call `score_frame`, so a row gets the same columns and values whichever one runs it.
"""

import math
from collections.abc import Sequence
from enum import StrEnum
from typing import Any, Protocol

import numpy as np
import pandas as pd

from model.grouping import length_groups

# The service's threshold: a probability of 0.5 or more is the positive label.
POSITIVE_THRESHOLD = 0.5
LABEL = "label"
POSITIVE_PROBABILITY = "positive_probability"
MODEL_VERSION = "model_version"
ERROR = "error"
ADDED_COLUMNS = (LABEL, POSITIVE_PROBABILITY, MODEL_VERSION, ERROR)


class RowError(StrEnum):
    """Why a row has no label; the row itself is kept."""

    MISSING_TEXT = "missing_text"
    EMPTY_TEXT = "empty_text"
    NOT_A_STRING = "not_a_string"
    # The model knows none of the text's words (only punctuation, emoji, or unseen words).
    NO_KNOWN_WORDS = "no_known_words"


class Score(Protocol):
    """What scoring reads of one text's score (app.model_store.TextScore).

    Read-only properties, because scoring never sets them and the service's TextScore is frozen: a
    plain attribute here would ask for one that can be assigned, which TextScore does not offer.
    """

    @property
    def positive_probability(self) -> float: ...

    @property
    def known_token_count(self) -> int: ...


class Model(Protocol):
    """What scoring needs of a loaded version (app.model_store.LoadedModel)."""

    @property
    def version(self) -> int: ...

    @property
    def labels(self) -> list[str]: ...

    def predict(self, texts: list[str]) -> Sequence[Score]: ...


def text_error(value: Any) -> RowError | None:
    """Why a cell cannot be scored, or None when it is a text with something in it."""
    if isinstance(value, str):
        return None if value.strip() else RowError.EMPTY_TEXT
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return RowError.MISSING_TEXT
    return RowError.NOT_A_STRING


def output_names(prefix: str) -> dict[str, str]:
    """The added columns' names in the output, each with `prefix` in front."""
    return {name: prefix + name for name in ADDED_COLUMNS}


def score_frame(frame: pd.DataFrame, text_column: str, model: Model, batch_size: int, prefix: str = "") -> pd.DataFrame:
    """`frame` with the added columns, rows in their own order.

    Texts are sorted by length and scored in batches of at most `batch_size`: a batch is padded to
    its longest text, so batches of similar lengths waste the least work.
    """
    values = frame[text_column].tolist()
    errors: list[str | None] = [text_error(value) for value in values]
    scorable = [index for index, error in enumerate(errors) if error is None]
    probabilities = np.full(len(values), np.nan)
    for group in length_groups([len(values[index]) for index in scorable], batch_size):
        rows = [scorable[position] for position in group]
        for row, score in zip(rows, model.predict([values[row] for row in rows]), strict=True):
            if score.known_token_count == 0:
                errors[row] = RowError.NO_KNOWN_WORDS
            else:
                probabilities[row] = score.positive_probability
    negative, positive = model.labels
    labels = [
        None if error is not None else positive if probability >= POSITIVE_THRESHOLD else negative
        for error, probability in zip(errors, probabilities, strict=True)
    ]
    names = output_names(prefix)
    # Explicit types, so that a chunk of only error rows writes the same column types as any other.
    added = {
        names[LABEL]: pd.array(labels, dtype="string"),
        names[POSITIVE_PROBABILITY]: probabilities,
        names[MODEL_VERSION]: np.full(len(values), model.version, dtype=np.int64),
        names[ERROR]: pd.array([None if error is None else str(error) for error in errors], dtype="string"),
    }
    return frame.assign(**added)
