"""Load exported versions: SavedModels that take raw texts, with metadata.json beside them."""

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tensorflow as tf

from model.artifact import (
    EXPLAIN_SIGNATURE_NAME,
    INPUT_TEXTS,
    OUTPUT_ATTRIBUTION,
    OUTPUT_KNOWN_TOKENS,
    OUTPUT_PROBABILITY,
    OUTPUT_TOKEN_COUNT,
    OUTPUT_TOKEN_END,
    OUTPUT_TOKEN_START,
    OUTPUT_TOKENS,
    OUTPUT_TRUNCATED,
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
class TokenAttribution:
    # The token as the model's tokenizer wrote it (lower-cased, punctuation removed).
    token: str
    # Code point offsets into the text (Python string indexes); -1 if the token could not be located.
    start: int
    end: int
    # Share of the calibrated log-odds, above zero towards positive; None for a token not read.
    attribution: float | None
    # Whether truncation of a long text dropped the token before the model read it.
    truncated: bool


@dataclass(frozen=True)
class TextExplanation:
    score: TextScore
    tokens: list[TokenAttribution]


@dataclass(frozen=True)
class LoadedModel:
    version: int
    metadata: dict[str, Any]
    signature: Any
    # Most texts per model call; a larger batch is cut into calls of texts of similar length.
    length_group_size: int = 0
    # The explain signature; None for versions exported before it existed.
    explainer: Any = None

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

    @property
    def can_explain(self) -> bool:
        return self.explainer is not None

    def explain(self, texts: list[str]) -> list[TextExplanation]:
        """Each text's score and its tokens with their attributions, from one call of the explain signature."""
        outputs = {
            name: value.numpy()
            for name, value in self.explainer(**{INPUT_TEXTS: tf.constant(texts, dtype=tf.string)}).items()
        }
        explanations = []
        for index in range(len(texts)):
            count = int(outputs[OUTPUT_TOKEN_COUNT][index])
            columns = (
                outputs[OUTPUT_TOKENS][index][:count].tolist(),
                outputs[OUTPUT_TOKEN_START][index][:count].tolist(),
                outputs[OUTPUT_TOKEN_END][index][:count].tolist(),
                outputs[OUTPUT_ATTRIBUTION][index][:count].tolist(),
                outputs[OUTPUT_TRUNCATED][index][:count].tolist(),
            )
            tokens = [
                TokenAttribution(token.decode("utf-8"), start, end, None if truncated else attribution, truncated)
                for token, start, end, attribution, truncated in zip(*columns, strict=True)
            ]
            score = TextScore(float(outputs[OUTPUT_PROBABILITY][index]), int(outputs[OUTPUT_KNOWN_TOKENS][index]))
            explanations.append(TextExplanation(score, tokens))
        return explanations


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
        signatures = tf.saved_model.load(str(path)).signatures
        signature = signatures[SIGNATURE_NAME]
    except (MetadataError, OSError, ValueError, KeyError, tf.errors.OpError) as error:
        raise ModelLoadError(f"cannot load the model at {path}: {error}") from error
    explainer = signatures.get(EXPLAIN_SIGNATURE_NAME)
    model = LoadedModel(version_of(path), metadata, signature, length_group_size, explainer)
    model.predict(_WARM_UP_TEXTS)
    if model.can_explain:
        model.explain(_WARM_UP_TEXTS[:2])
    else:
        logger.warning("version %d has no %s signature: /explain answers 501", model.version, EXPLAIN_SIGNATURE_NAME)
    logger.info("loaded model version %d from %s", model.version, path)
    return model
