"""Find and load exported versions: SavedModels that take raw texts, with metadata.json beside them."""

import json
import logging
from dataclasses import dataclass
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

    @property
    def labels(self) -> list[str]:
        return self.metadata["labels"]

    def predict(self, texts: list[str]) -> list[TextScore]:
        outputs = self.signature(texts=tf.constant(texts, dtype=tf.string))
        probabilities = outputs["positive_probability"].numpy().tolist()
        counts = outputs["known_token_count"].numpy().tolist()
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


def load_version(path: Path) -> LoadedModel:
    """Load a SavedModel and its metadata, and warm it up."""
    try:
        metadata = json.loads((path / METADATA_FILE).read_text(encoding="utf-8"))
        signature = tf.saved_model.load(str(path)).signatures["serving_default"]
    except (OSError, ValueError, KeyError, tf.errors.OpError) as error:
        raise ModelLoadError(f"cannot load the model at {path}: {error}") from error
    model = LoadedModel(version=int(metadata["version"]), metadata=metadata, signature=signature)
    model.predict(_WARM_UP_TEXTS)
    logger.info("loaded model version %d from %s", model.version, path)
    return model
