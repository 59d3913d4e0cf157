"""Crash safety: the backup that lets an interrupted run continue from its last finished epoch.

The backup holds the vocabulary (so the resumed run tokenizes as the first did) and Keras's
BackupAndRestore checkpoints of the weights and the epoch. It outlives the first fit, so a run
killed in a later round resumes after the first; publishing a version removes it.
"""

import json
import logging
import shutil
from pathlib import Path

import keras
import tensorflow as tf

from model.text import build_vectorizer
from training.config import TrainConfig

logger = logging.getLogger(__name__)

VOCABULARY_FILE = "vocabulary.json"


def backup_dir(config: TrainConfig) -> Path:
    return config.runs_dir / "backup"


def can_resume(config: TrainConfig) -> bool:
    return config.resume and (backup_dir(config) / VOCABULARY_FILE).is_file()


def vocabulary(config: TrainConfig, texts: list[str]) -> keras.layers.TextVectorization:
    """Learn the vocabulary, or take the interrupted run's when resuming, and back it up."""
    vectorizer = build_vectorizer(config.model)
    saved = backup_dir(config) / VOCABULARY_FILE
    if can_resume(config):
        vectorizer.set_vocabulary(json.loads(saved.read_text(encoding="utf-8")))
        logger.info("resuming the run backed up in %s", saved.parent)
        return vectorizer
    shutil.rmtree(saved.parent, ignore_errors=True)
    vectorizer.adapt(tf.data.Dataset.from_tensor_slices(texts).batch(1024))
    saved.parent.mkdir(parents=True, exist_ok=True)
    saved.write_text(json.dumps(vectorizer.get_vocabulary(include_special_tokens=False)), encoding="utf-8")
    return vectorizer


def backup_callback(config: TrainConfig) -> keras.callbacks.BackupAndRestore:
    """Saves weights and the epoch after every epoch; a run started with --resume continues from them."""
    return keras.callbacks.BackupAndRestore(str(backup_dir(config)), double_checkpoint=True, delete_checkpoint=False)


def remove_backup(config: TrainConfig) -> None:
    shutil.rmtree(backup_dir(config), ignore_errors=True)
