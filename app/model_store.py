"""Find and load exported versions: SavedModels that take raw texts, with metadata.json beside them."""

import json
import logging
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import tensorflow as tf

logger = logging.getLogger(__name__)

METADATA_FILE = "metadata.json"
# Texts of a few lengths, so that the first real request does not pay for graph and kernel set-up.
_WARM_UP_TEXTS = ["good", "a fine film " * 20, "not my kind of movie at all " * 60]


class ModelNotFoundError(RuntimeError):
    """No complete version exists under the model folder."""


class ModelLoadError(RuntimeError):
    """A version exists but cannot be loaded."""


@dataclass(frozen=True)
class TextScore:
    positive_probability: float
    # Words of the text the model knows; 0 means the model has nothing to judge it on.
    known_token_count: int


@dataclass(frozen=True)
class LoadedModel:
    version: int
    metadata: dict[str, Any]
    signature: Any
    # Most texts per model call; a larger batch is cut into calls of texts of similar length.
    length_group_size: int = 0

    @property
    def labels(self) -> list[str]:
        return self.metadata["labels"]

    def predict(self, texts: list[str]) -> list[TextScore]:
        """Scores in the order of `texts`.

        The model pads a call to its longest text and its LSTMs compute every padded step, so one
        long review makes every short text beside it cost as much as itself. Sorting by length
        (characters stand in for tokens, which only the model counts) and calling the model once
        per group of similar lengths removes most of that waste. Padding is masked, so the
        grouping does not change any score.
        """
        scores: list[TextScore | None] = [None] * len(texts)
        for group in length_groups(texts, self.length_group_size):
            for index, score in zip(group, self._call([texts[index] for index in group]), strict=True):
                scores[index] = score
        return scores

    def _call(self, texts: list[str]) -> list[TextScore]:
        outputs = self.signature(texts=tf.constant(texts, dtype=tf.string))
        probabilities = outputs["positive_probability"].numpy().tolist()
        counts = outputs["known_token_count"].numpy().tolist()
        return [TextScore(p, c) for p, c in zip(probabilities, counts, strict=True)]


def length_groups(texts: list[str], group_size: int) -> list[list[int]]:
    """Indexes of `texts`, shortest first, in groups of at most `group_size` (0: one group)."""
    if group_size <= 0 or len(texts) <= group_size:
        return [list(range(len(texts)))]
    order = sorted(range(len(texts)), key=lambda index: len(texts[index]))
    count = -(-len(order) // group_size)
    # Groups of nearly equal size: 65 texts in groups of 32 become 22, 22 and 21, not 32, 32 and 1.
    bounds = [round(part * len(order) / count) for part in range(count + 1)]
    return [order[start:end] for start, end in pairwise(bounds)]


def configure_threads(intra_op: int, inter_op: int) -> None:
    """Size TensorFlow's thread pools; only possible before TensorFlow runs its first op."""
    if intra_op == 0 and inter_op == 0:
        return
    try:
        tf.config.threading.set_intra_op_parallelism_threads(intra_op)
        tf.config.threading.set_inter_op_parallelism_threads(inter_op)
    except RuntimeError as error:
        logger.warning("TensorFlow is already running, its thread settings stay as they are: %s", error)


def complete_versions(model_dir: Path) -> list[Path]:
    """Version folders, oldest first; staging folders and folders without metadata are not versions."""
    if not model_dir.is_dir():
        return []
    folders = [entry for entry in model_dir.iterdir() if entry.name.isdigit() and entry.is_dir()]
    complete = [folder for folder in folders if (folder / METADATA_FILE).is_file()]
    return sorted(complete, key=lambda folder: int(folder.name))


def newest_version(model_dir: Path) -> Path:
    versions = complete_versions(model_dir)
    if not versions:
        raise ModelNotFoundError(f"no model version under {model_dir}: run `make train` or set MODEL_DIR")
    return versions[-1]


def load_version(path: Path, length_group_size: int = 0) -> LoadedModel:
    """Load a SavedModel and its metadata, and warm it up."""
    try:
        metadata = json.loads((path / METADATA_FILE).read_text(encoding="utf-8"))
        signature = tf.saved_model.load(str(path)).signatures["serving_default"]
    except (OSError, ValueError, KeyError, tf.errors.OpError) as error:
        raise ModelLoadError(f"cannot load the model at {path}: {error}") from error
    model = LoadedModel(int(metadata["version"]), metadata, signature, length_group_size)
    model.predict(_WARM_UP_TEXTS)
    logger.info("loaded model version %d from %s", model.version, path)
    return model
