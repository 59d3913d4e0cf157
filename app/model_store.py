"""Load exported versions (SavedModels that take raw texts, with metadata.json beside them) and score texts.

Scoring is three steps, as in Hugging Face pipelines: `preprocess` turns texts into the model's
input, one `forward` call runs the model, and `postprocess` turns its outputs into one `TextScore`
per text. How batches are cut into calls (length groups, the micro-batcher) is composed around
`LoadedModel.predict` where the service builds its units, not here.
"""

import logging
from collections.abc import Callable
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

logger = logging.getLogger(__name__)
# Texts of a few lengths, so that the first real request does not pay for graph and kernel set-up.
_WARM_UP_TEXTS = ["good", "a fine film " * 20, "not my kind of movie at all " * 60]

# The model's outputs by name, as the serving_default signature returns them.
Outputs = dict[str, tf.Tensor]
Forward = Callable[[tf.Tensor], Outputs]


class ModelLoadError(RuntimeError):
    """A version exists but cannot be loaded."""


@dataclass(frozen=True)
class TextScore:
    positive_probability: float
    # Words of the text the model knows; 0 means the model has nothing to judge it on.
    known_token_count: int


def preprocess(texts: list[str]) -> tf.Tensor:
    return tf.constant(texts, dtype=tf.string)


def postprocess(outputs: Outputs) -> list[TextScore]:
    probabilities = outputs[OUTPUT_PROBABILITY].numpy().tolist()
    counts = outputs[OUTPUT_KNOWN_TOKENS].numpy().tolist()
    return [TextScore(probability, count) for probability, count in zip(probabilities, counts, strict=True)]


def signature_forward(signature: Any) -> Forward:
    """The plain serving_default signature as the forward step."""

    def forward(texts: tf.Tensor) -> Outputs:
        return signature(**{INPUT_TEXTS: texts})

    return forward


@dataclass(frozen=True)
class LoadedModel:
    version: int
    metadata: dict[str, Any]
    # The version's serving_default signature, exactly as any TensorFlow program calls it.
    signature: Any
    # One model call: a batch of texts in, the signature's outputs out.
    forward: Forward

    @property
    def labels(self) -> list[str]:
        return self.metadata["labels"]

    def predict(self, texts: list[str]) -> list[TextScore]:
        """Scores in the order of `texts`, from one model call."""
        return postprocess(self.forward(preprocess(texts)))


def load_version(path: Path) -> LoadedModel:
    """Load a SavedModel and its metadata, and warm it up; the version is the folder's number."""
    try:
        metadata = read_metadata(path)
        signature = tf.saved_model.load(str(path)).signatures[SIGNATURE_NAME]
    except (MetadataError, OSError, ValueError, KeyError, tf.errors.OpError) as error:
        raise ModelLoadError(f"cannot load the model at {path}: {error}") from error
    model = LoadedModel(version_of(path), metadata, signature, signature_forward(signature))
    model.predict(_WARM_UP_TEXTS)
    logger.info("loaded model version %d from %s", model.version, path)
    return model
