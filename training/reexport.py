"""Export a published version again with the current export code, as a new version, without training.

    python -m training.reexport --version 5            # writes the next version under artifacts/sentiment
    make reexport VERSION=5

The export gains signatures over time (explanations, the token-level halves of the model), and a
retraining to get them would cost most of an hour and change every score. This rebuilds the Keras
model and the vectorizer from a version's own SavedModel (its weights and its vocabulary), exports
them with `training.export`, checks that `serving_default` still gives the same probabilities, and
publishes the result with the old version's metadata and a note of where it came from.
"""

import argparse
import logging
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from model.architecture import build_model
from model.artifact import (
    INPUT_TEXTS,
    OUTPUT_PROBABILITY,
    REPORT_FILE,
    SIGNATURE_NAME,
    MetadataError,
    VersionNotFoundError,
    read_metadata,
    version_folder,
)
from model.config import ModelConfig
from model.text import UNKNOWN_ID, build_vectorizer
from training.cli import run, version_parser
from training.export import discard, export_description, publish_version, staging_directory, write_savedmodel

logger = logging.getLogger("training.reexport")

# Texts the old and the new export must score alike: short, long past the truncation, and odd.
CHECK_TEXTS = [
    "A moving, beautifully acted film.",
    "Two hours I will never get back.",
    "The plot was predictable, but the acting saved it.",
    "not bad at all " * 150,
    "<br />Great!! 🎬 DON'T miss it.",
    "",
]


class ReexportError(RuntimeError):
    """The version cannot be rebuilt, or the rebuilt export does not score as the original."""


def model_config_of(metadata: dict) -> ModelConfig:
    values = dict(metadata["config"]["model"])
    # Metadata written before the option existed belongs to a model trained without boundaries,
    # whatever today's default is.
    values.setdefault("sentence_boundaries", False)
    values["lstm_units"] = tuple(values["lstm_units"])
    return ModelConfig(**values)


def saved_vocabulary(loaded: tf.Module) -> list[str]:
    """The vectorizer's vocabulary, read back from the lookup table inside the SavedModel.

    The export keeps the vocabulary only as that table (a restored resource that TensorFlow exposes
    through the loaded object's misc assets, not a file), so its keys are read out and put in id
    order. Ids 0 and 1 are padding and unknown, which the vectorizer adds itself.
    """
    for resource in getattr(loaded, "_misc_assets", []):
        if not hasattr(resource, "resource_handle"):
            continue
        try:
            keys, ids = tf.raw_ops.LookupTableExportV2(
                table_handle=resource.resource_handle, Tkeys=tf.string, Tvalues=tf.int64
            )
        except (tf.errors.OpError, TypeError, ValueError):
            continue
        if int(tf.size(keys)) == 0:
            continue
        order = np.argsort(ids.numpy())
        if ids.numpy()[order[0]] != UNKNOWN_ID + 1:
            continue
        return [word.decode("utf-8") for word in keys.numpy()[order]]
    raise ReexportError("no vocabulary table found in the SavedModel")


def restored_model(loaded: tf.Module, config: ModelConfig) -> keras.Model:
    """The Keras model with the SavedModel's weights, matched by their paths."""
    saved = {variable.name.removesuffix(":0"): variable for variable in loaded.variables}
    model = build_model(config)
    for weight in model.weights:
        if weight.path not in saved:
            raise ReexportError(f"the SavedModel has no weight {weight.path}")
        weight.assign(saved[weight.path].numpy())
    return model


def largest_difference(old: tf.types.experimental.ConcreteFunction, new_folder: Path) -> float:
    new = tf.saved_model.load(str(new_folder)).signatures[SIGNATURE_NAME]
    texts = tf.constant(CHECK_TEXTS)
    before = old(**{INPUT_TEXTS: texts})[OUTPUT_PROBABILITY].numpy()
    after = new(**{INPUT_TEXTS: texts})[OUTPUT_PROBABILITY].numpy()
    return float(np.max(np.abs(before - after)))


def export_again(loaded: tf.Module, config: ModelConfig, temperature: float, folder: Path) -> None:
    """Write the Keras model and vectorizer rebuilt from a loaded SavedModel into `folder`, exported
    with the current code and `config` (which may change how the export reads texts)."""
    vectorizer = build_vectorizer(config)
    vectorizer.set_vocabulary(saved_vocabulary(loaded))
    vectorizer(tf.constant(CHECK_TEXTS))  # The first call builds the layer, which export requires.
    write_savedmodel(folder, restored_model(loaded, config), vectorizer, config, temperature)


def reexport(source: Path, artifacts_dir: Path, tolerance: float = 1e-6) -> Path:
    """Publish `source` again, exported with the current code, as the next version under `artifacts_dir`."""
    metadata = read_metadata(source)
    loaded = tf.saved_model.load(str(source))
    staging = staging_directory(artifacts_dir)
    try:
        export_again(loaded, model_config_of(metadata), metadata["temperature"], staging)
        difference = largest_difference(loaded.signatures[SIGNATURE_NAME], staging)
        if difference > tolerance:
            raise ReexportError(f"the new export differs from version {metadata['version']} by {difference:.2e}")
        if (source / REPORT_FILE).is_file():
            shutil.copy2(source / REPORT_FILE, staging / REPORT_FILE)
        note = {"from_version": metadata["version"], "at": datetime.now(UTC).isoformat(timespec="seconds")}
        recorded = {name: value for name, value in metadata.items() if name != "version"}
        published = publish_version(staging, artifacts_dir, {**recorded, **export_description(), "reexported": note})
    finally:
        discard(staging)
    logger.info("version %s exported again as %s (max |Δp| %.1e)", metadata["version"], published, difference)
    return published


def build_parser() -> argparse.ArgumentParser:
    parser = version_parser("python -m training.reexport", __doc__, with_data=False)
    parser.add_argument("--output-dir", type=Path, help="publish the new version here (default: --artifacts-dir)")
    return parser


def main(argv: list[str] | None = None) -> int:
    def body(arguments: argparse.Namespace) -> None:
        source = version_folder(arguments.artifacts_dir, arguments.version)
        reexport(source, arguments.output_dir or arguments.artifacts_dir)

    return run(build_parser(), body, (VersionNotFoundError, MetadataError, ReexportError), argv)


if __name__ == "__main__":
    sys.exit(main())
