"""The project's own check set: hand-written one-liners and two-clause texts with unambiguous labels.

People type short texts into a sentiment box, and the IMDB test split measures whole reviews. This
set measures what they send: negation, contrast, plain praise and complaints, intensifiers and
hedges, and texts about things other than films. Each text was written for this set (none is cut
from IMDB), and its label is the one any reader gives it; there is no sarcasm in it.

It is a report and nothing else: never trained on, and never used to choose a model, a config or
an epoch. Choosing on it would turn it into a validation set and its figures into flattery.

    python -m training.evaluate --version 5     # prints its accuracy per category beside the test figures
    python -m training.quality_report           # the same per category for the LSTM and its n-gram teachers

`checkset.jsonl` holds one object per line: `text`, `label` (1 positive, 0 negative) and `category`.
"""

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

CHECK_SET_FILE = "checkset.jsonl"

# Positive through a negated complaint: "not bad", "never dull", "can't fault it".
NEGATED_POSITIVE = "negated_positive"
# Negative through negated praise: "not great", "not worth it".
NEGATED_NEGATIVE = "negated_negative"
# Two clauses where the second decides: "A, but B" and "despite A, B" (or "although A, B"), both ways.
CONTRAST = "contrast"
# Short praise and complaints without a trick.
PLAIN = "plain"
# Praise and complaints strengthened or softened: "absolutely brilliant", "somewhat disappointing".
INTENSIFIERS_HEDGES = "intensifiers_hedges"
# Products, apps, restaurants and hotels.
OUTSIDE_FILMS = "outside_films"
CATEGORIES = (NEGATED_POSITIVE, NEGATED_NEGATIVE, CONTRAST, PLAIN, INTENSIFIERS_HEDGES, OUTSIDE_FILMS)
# The two negation categories hold one label each by their definition and are as large as each
# other, so that negation as a whole is balanced; every other category is balanced on its own.
MIRRORED_CATEGORIES = (NEGATED_POSITIVE, NEGATED_NEGATIVE)


class CheckSetError(ValueError):
    """The check set file is missing, unreadable, or holds a row without a text, a 0/1 label or a known category."""


@dataclass(frozen=True)
class CheckSet:
    texts: list[str]
    # 1 for positive, 0 for negative.
    labels: np.ndarray
    categories: list[str]

    def __len__(self) -> int:
        return len(self.texts)


def default_path() -> Path:
    return Path(str(resources.files(__package__) / CHECK_SET_FILE))


def load_check_set(path: Path | None = None) -> CheckSet:
    """Read the check set shipped with the package, or the JSON-lines file at `path`."""
    path = path or default_path()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise CheckSetError(f"cannot read the check set at {path}: {error}") from error
    texts, labels, categories = [], [], []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise CheckSetError(f"{path}:{number} is not JSON: {error}") from error
        if not isinstance(row, dict):
            raise CheckSetError(f"{path}:{number} is not a JSON object")
        text, label, category = row.get("text"), row.get("label"), row.get("category")
        if not isinstance(text, str) or not text.strip() or label not in (0, 1) or category not in CATEGORIES:
            raise CheckSetError(f"{path}:{number} needs a text, a label of 0 or 1 and one of {CATEGORIES}")
        texts.append(text)
        labels.append(label)
        categories.append(category)
    return CheckSet(texts, np.array(labels, dtype=np.int64), categories)


def read_correctly(check_set: CheckSet, probabilities: np.ndarray) -> np.ndarray:
    """Whether each text's probability lies on its label's side of 0.5 (0.5 itself reads negative)."""
    return (np.asarray(probabilities).reshape(-1) > 0.5).astype(np.int64) == check_set.labels


def check_set_figures(check_set: CheckSet, probabilities: np.ndarray) -> dict:
    """Accuracy overall and per category (a probability above 0.5 reads as positive)."""
    correct = read_correctly(check_set, probabilities)
    categories = np.array(check_set.categories)
    per_category = {}
    for name in CATEGORIES:
        members = categories == name
        if members.any():
            per_category[name] = {"examples": int(members.sum()), "accuracy": float(correct[members].mean())}
    return {"examples": len(check_set), "accuracy": float(correct.mean()), "categories": per_category}


def check_set_misses(check_set: CheckSet, probabilities: np.ndarray) -> list[tuple[str, float, str]]:
    """(category, positive probability, text) of each text read on the wrong side of 0.5, in the
    order of CATEGORIES and, within one, surest mistake first."""
    probabilities = np.asarray(probabilities).reshape(-1)
    wrong = np.flatnonzero(~read_correctly(check_set, probabilities)).tolist()
    # How far a text sits on the wrong side of 0.5, whichever side that is.
    wrong.sort(key=lambda index: (CATEGORIES.index(check_set.categories[index]), -abs(probabilities[index] - 0.5)))
    return [(check_set.categories[index], float(probabilities[index]), check_set.texts[index]) for index in wrong]
