"""Crash safety: the backup that lets an interrupted run continue from its last finished epoch.

The backup holds the vocabulary (so the resumed run tokenizes as the first did), the settings the
run was started with, and Keras's BackupAndRestore checkpoints of the weights and the epoch. It
outlives the first fit, so a run killed in a later round resumes after the first; publishing a
version removes it.
"""

import json
import logging
import shutil
from pathlib import Path
from typing import Any

import keras
import tensorflow as tf

from model.text import build_vectorizer
from training.config import TrainConfig

logger = logging.getLogger(__name__)

VOCABULARY_FILE = "vocabulary.json"
SETTINGS_FILE = "settings.json"

# Settings that say where files are, how many test reviews are scored and how many threads run:
# a run resumed with other values of these fits the same model, so they may differ.
RUN_ONLY_SETTINGS = frozenset(
    {"resume", "data_dir", "artifacts_dir", "runs_dir", "max_test_reviews", "intra_op_threads", "inter_op_threads"}
)


class BackupMismatchError(Exception):
    """--resume met a backup written with other settings: continuing would mix two runs."""


def backup_dir(config: TrainConfig) -> Path:
    return config.runs_dir / "backup"


def can_resume(config: TrainConfig) -> bool:
    return config.resume and (backup_dir(config) / VOCABULARY_FILE).is_file()


def vocabulary(config: TrainConfig, texts: list[str]) -> keras.layers.TextVectorization:
    """Learn the vocabulary, or take the interrupted run's when resuming, and back it up."""
    vectorizer = build_vectorizer(config.model)
    saved = backup_dir(config) / VOCABULARY_FILE
    if can_resume(config):
        check_settings(config)
        vectorizer.set_vocabulary(json.loads(saved.read_text(encoding="utf-8")))
        logger.info("resuming the run backed up in %s", saved.parent)
        return vectorizer
    shutil.rmtree(saved.parent, ignore_errors=True)
    vectorizer.adapt(tf.data.Dataset.from_tensor_slices(texts).batch(1024))
    saved.parent.mkdir(parents=True, exist_ok=True)
    saved.write_text(json.dumps(vectorizer.get_vocabulary(include_special_tokens=False)), encoding="utf-8")
    (saved.parent / SETTINGS_FILE).write_text(json.dumps(fitted_settings(config), indent=1), encoding="utf-8")
    return vectorizer


def fitted_settings(config: TrainConfig) -> dict[str, Any]:
    """The settings that decide what a run fits, flat ("model.lstm_units"), as JSON reads them back."""
    flat: dict[str, Any] = {}
    for name, value in config.to_dict().items():
        if name in RUN_ONLY_SETTINGS:
            continue
        nested = value.items() if isinstance(value, dict) else [(None, value)]
        flat |= {name if inner is None else f"{name}.{inner}": item for inner, item in nested}
    return json.loads(json.dumps(flat))


def check_settings(config: TrainConfig) -> None:
    """Refuse to resume a backup whose run had other settings than `config`, naming each of them."""
    saved = backup_dir(config) / SETTINGS_FILE
    try:
        backed_up = json.loads(saved.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise BackupMismatchError(
            f"{saved.parent} holds no readable record of the settings of the run that wrote it ({error}), so "
            "it cannot be resumed safely: start over without --resume"
        ) from error
    current = fitted_settings(config)
    differences = [
        f"{name} {backed_up.get(name)!r} (now {current.get(name)!r})"
        for name in sorted(backed_up.keys() | current.keys())
        if backed_up.get(name) != current.get(name)
    ]
    if differences:
        raise BackupMismatchError(
            f"the run backed up in {saved.parent} had other settings: {'; '.join(differences)}. "
            "Resume with that run's flags, or start over without --resume"
        )


def backup_callback(config: TrainConfig) -> keras.callbacks.BackupAndRestore:
    """Saves weights and the epoch after every epoch; a run started with --resume continues from them."""
    return keras.callbacks.BackupAndRestore(str(backup_dir(config)), double_checkpoint=True, delete_checkpoint=False)


def remove_backup(config: TrainConfig) -> None:
    shutil.rmtree(backup_dir(config), ignore_errors=True)
