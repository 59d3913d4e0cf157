"""Load exported versions: SavedModels that take raw texts, with metadata.json beside them."""

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tensorflow as tf

from model.artifact import (
    INPUT_TEXTS,
    OUTPUT_KNOWN_TOKENS,
    OUTPUT_PROBABILITY,
    SIGNATURE_NAME,
    MetadataError,
    read_metadata,
    version_of,
)
from model.grouping import length_groups

logger = logging.getLogger(__name__)
# Texts of a few lengths, so that the first real request does not pay for graph and kernel set-up.
_WARM_UP_TEXTS = ["good", "a fine film " * 20, "not my kind of movie at all " * 60]


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
        """Scores in the order of `texts`, from one model call per group of similar lengths
        (characters stand in for tokens, which only the model counts)."""
        scores: list[TextScore | None] = [None] * len(texts)
        for group in length_groups([len(text) for text in texts], self.length_group_size):
            for index, score in zip(group, self._call([texts[index] for index in group]), strict=True):
                scores[index] = score
        return scores

    def _call(self, texts: list[str]) -> list[TextScore]:
        outputs = self.signature(**{INPUT_TEXTS: tf.constant(texts, dtype=tf.string)})
        probabilities = outputs[OUTPUT_PROBABILITY].numpy().tolist()
        counts = outputs[OUTPUT_KNOWN_TOKENS].numpy().tolist()
        return [TextScore(p, c) for p, c in zip(probabilities, counts, strict=True)]


def configure_threads(intra_op: int, inter_op: int) -> None:
    """Size TensorFlow's thread pools; only possible before TensorFlow runs its first op."""
    if intra_op == 0 and inter_op == 0:
        return
    try:
        tf.config.threading.set_intra_op_parallelism_threads(intra_op)
        tf.config.threading.set_inter_op_parallelism_threads(inter_op)
    except RuntimeError as error:
        logger.warning("TensorFlow is already running, its thread settings stay as they are: %s", error)


def load_version(path: Path, length_group_size: int = 0) -> LoadedModel:
    """Load a SavedModel and its metadata, and warm it up; the version is the folder's number."""
    try:
        metadata = read_metadata(path)
        signature = tf.saved_model.load(str(path)).signatures[SIGNATURE_NAME]
    except (MetadataError, OSError, ValueError, KeyError, tf.errors.OpError) as error:
        raise ModelLoadError(f"cannot load the model at {path}: {error}") from error
    model = LoadedModel(version_of(path), metadata, signature, length_group_size)
    model.predict(_WARM_UP_TEXTS)
    logger.info("loaded model version %d from %s", model.version, path)
    return model
