"""Train the sentiment model on IMDB and export a new version into artifacts/.

python -m training.train                          # imdb_reviews from tensorflow-datasets
python -m training.train --data-dir aclImdb_v1.tar.gz --epochs 4
make train ARGS="--data-dir path/to/aclImdb"

The run reads top to bottom: prepare (split, vocabulary, word vectors, teacher labels) -> fit ->
calibrate -> export and evaluate what was exported -> publish.
"""

import argparse
import logging
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import keras
import tensorflow as tf

from model.architecture import build_model
from model.artifact import REPORT_FILE, SIGNATURE_NAME
from model.threads import configure_threads
from training import resume
from training.calibration import fit_temperature
from training.cli import run
from training.config import TrainConfig, build_parser, config_from_arguments
from training.data import LABEL_NAMES, DataUnavailableError, ImdbData, Reviews, load_imdb
from training.distillation import TeacherLabels, combined, distil_again, teacher_labelled
from training.embeddings import pretrained_embeddings
from training.evaluate import evaluation_figures
from training.export import discard, export_description, publish_version, staging_directory, write_savedmodel
from training.fitting import compiled_trainer, progress_verbosity, round_callbacks
from training.memory import MemoryLogger, limit_allocator_arenas, log_memory, peak_rss_gb
from training.pipeline import batched, logits_in_order, token_ids_of
from training.pretrain import pretrain
from training.report import write_report
from training.sentences import with_sentences
from training.split import split_validation

logger = logging.getLogger("training")


@dataclass(frozen=True)
class Prepared:
    """The splits, the adapted vectorizer and what fitting starts from."""

    train: Reviews
    validation: Reviews
    test: Reviews
    vectorizer: keras.layers.TextVectorization
    # Token ids of the train and unlabelled reviews, untruncated, for word vectors and pretraining.
    unlabelled_ids: tf.RaggedTensor
    # The reviews with their own labels (and sentences cut from them), which every round trains on.
    labelled: Reviews
    # The teacher's labels for unlabelled texts; None without a teacher.
    teacher: TeacherLabels | None

    def fit_reviews(self) -> Reviews:
        return self.labelled if self.teacher is None else combined(self.labelled, self.teacher.as_reviews())


def prepare(config: TrainConfig, data: ImdbData) -> Prepared:
    train, validation = split_validation(data.train, config.validation_fraction, config.seed)
    train = train.at_most(config.max_train_reviews, config.seed)
    test = data.test.at_most(config.max_test_reviews, config.seed)
    logger.info("%d train, %d validation, %d test reviews", len(train), len(validation), len(test))
    # The vocabulary may come from unlabelled reviews too: their words then get learned vectors.
    vocabulary_texts = train.texts + data.unsupervised
    vectorizer = resume.vocabulary(config, vocabulary_texts)
    logger.info("vocabulary of %d tokens", vectorizer.vocabulary_size())
    log_memory("the vocabulary")
    teacher = None
    if config.teacher_ngram_order > 0:
        teacher = teacher_labelled(train, validation, data.unsupervised, config)
        log_memory("the teacher's labels")
    labelled = with_sentences(train, config.sentence_fraction, config.seed)
    unlabelled_ids = token_ids_of(vectorizer, vocabulary_texts)
    log_memory("tokenizing the reviews")
    return Prepared(train, validation, test, vectorizer, unlabelled_ids, labelled, teacher)


def initialise(model: keras.Model, config: TrainConfig, unlabelled_ids: tf.RaggedTensor) -> list[float]:
    """Start from learned word vectors and a pretrained first layer, as configured; returns the
    language model's loss per pretraining epoch."""
    embedding = model.get_layer("embedding")
    if config.pretrained_embeddings:
        # Sized like the embedding layer, which is larger than the vocabulary when the corpus is small.
        model_config = config.model
        vectors = pretrained_embeddings(
            unlabelled_ids,
            model_config.vocabulary_size,
            model_config.embedding_dim,
            config.embedding_window,
            config.seed,
        )
        embedding.set_weights([vectors])
        logger.info("learned word vectors from %d reviews", int(unlabelled_ids.nrows()))
        log_memory("the word vectors")
    losses = []
    if config.language_model_epochs > 0:
        vocabulary_size, epochs = config.model.vocabulary_size, config.language_model_epochs
        losses = pretrain(model, unlabelled_ids, vocabulary_size, epochs, batch_size=128, seed=config.seed)
    embedding.trainable = not (config.freeze_embeddings and config.pretrained_embeddings)
    return losses


@dataclass(frozen=True)
class Fitted:
    model: keras.Model
    history: dict[str, list[float]]
    language_model_losses: list[float]
    # What metadata.json records about the teacher; None without one.
    teacher: dict | None


def fit(config: TrainConfig, prepared: Prepared) -> Fitted:
    run_dir = config.runs_dir / datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    model = build_model(config.model)
    # A resumed run gets its weights back from the backup, so pretraining them again would be wasted.
    language_model_losses = [] if resume.can_resume(config) else initialise(model, config, prepared.unlabelled_ids)
    reviews = prepared.fit_reviews()
    training_batches = batched(
        prepared.vectorizer, reviews, config.model, config.batch_size, config.seed, config.batch_tokens
    )
    trainer = compiled_trainer(model, config, training_batches)
    validation_batches = batched(prepared.vectorizer, prepared.validation, config.model, config.batch_size, None)
    history = trainer.fit(
        training_batches,
        validation_data=validation_batches,
        epochs=config.epochs,
        callbacks=[
            resume.backup_callback(config),
            *round_callbacks(config, config.epochs, run_dir / "tensorboard"),
            MemoryLogger(),
        ],
        verbose=progress_verbosity(),
        shuffle=False,  # The dataset shuffles itself, in buckets of similar length.
    )
    curves = {name: [float(value) for value in values] for name, values in history.history.items()}
    teacher = prepared.teacher
    for round_number in range(1, config.teacher_rounds if teacher is not None else 1):
        # The range is empty without a teacher, so every further round has one.
        assert teacher is not None, "a distillation round ran without a teacher"
        log_dir = run_dir / f"tensorboard-round-{round_number + 1}"
        model, teacher, round_curves = distil_again(
            model,
            config,
            teacher,
            prepared.labelled,
            prepared.validation,
            prepared.vectorizer,
            validation_batches,
            log_dir,
        )
        curves = {name: curves.get(name, []) + values for name, values in round_curves.items()}
    return Fitted(model, curves, language_model_losses, teacher.summary if teacher is not None else None)


def calibrate(fitted: Fitted, prepared: Prepared, config: TrainConfig) -> float:
    """The temperature that makes the exported probabilities honest on the validation split."""
    logits = logits_in_order(fitted.model, prepared.vectorizer, prepared.validation.texts, config.model)
    temperature = fit_temperature(logits, prepared.validation.labels)
    logger.info("fitted temperature %.3f on the validation split", temperature)
    return temperature


def build_metadata(config: TrainConfig, data: ImdbData, prepared: Prepared, fitted: Fitted, extra: dict) -> dict:
    """Everything metadata.json records but the version number, which publishing adds."""
    split = {"train": len(prepared.train), "validation": len(prepared.validation), "test": len(prepared.test)}
    return {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "tensorflow_version": tf.__version__,
        "keras_version": keras.__version__,
        "labels": list(LABEL_NAMES),
        "vocabulary_size": prepared.vectorizer.vocabulary_size(),
        "sequence_length": config.model.sequence_length,
        "data_source": data.source,
        "split": {**split, "validation_by_movie": data.train.movies is not None},
        "config": config.to_dict(),
        **export_description(),
        "training": {
            "epochs_run": len(fitted.history.get("loss", [])),
            "history": fitted.history,
            "language_model_losses": fitted.language_model_losses,
            "teacher": fitted.teacher,
        },
        **extra,
    }


def export_and_publish(
    config: TrainConfig, data: ImdbData, prepared: Prepared, fitted: Fitted, temperature: float, started: float
) -> Path:
    """Export to a staging folder, evaluate what was exported, write its report, then publish it."""
    staging = staging_directory(config.artifacts_dir)
    try:
        write_savedmodel(staging, fitted.model, prepared.vectorizer, config.model, temperature)
        signature = tf.saved_model.load(str(staging)).signatures[SIGNATURE_NAME]
        validation_rules = None if prepared.teacher is None else prepared.teacher.validation_rules
        evaluation, test_probabilities = evaluation_figures(
            signature, prepared.validation, prepared.test, config.seed, validation_rules
        )
        logger.info("test figures: %s", {k: v for k, v in evaluation["test"].items() if k != "confusion_matrix"})
        logger.info(
            "accuracy on rule-written validation texts: %s",
            {kind: round(figures["accuracy"], 4) for kind, figures in evaluation.get("validation_rules", {}).items()},
        )
        metadata = build_metadata(
            config, data, prepared, fitted, {"temperature": temperature, "evaluation": evaluation}
        )
        metadata["training"]["seconds"] = round(time.monotonic() - started, 1)
        metadata["training"]["peak_memory_gb"] = round(peak_rss_gb(), 2)
        write_report(staging / REPORT_FILE, metadata, prepared.test.labels, test_probabilities)
        published = publish_version(staging, config.artifacts_dir, metadata)
    finally:
        discard(staging)
    resume.remove_backup(config)
    return published


def train_and_export(config: TrainConfig, data: ImdbData) -> Path:
    """Prepare, fit, calibrate, export and publish; returns the new version's folder."""
    started = time.monotonic()
    keras.utils.set_random_seed(config.seed)
    prepared = prepare(config, data)
    fitted = fit(config, prepared)
    temperature = calibrate(fitted, prepared, config)
    return export_and_publish(config, data, prepared, fitted, temperature, started)


def main(argv: list[str] | None = None) -> int:
    def body(arguments: argparse.Namespace) -> None:
        config = config_from_arguments(arguments)
        limit_allocator_arenas()
        configure_threads(config.intra_op_threads, config.inter_op_threads)
        train_and_export(config, load_imdb(config.data_dir))

    return run(build_parser(), body, (DataUnavailableError, resume.BackupMismatchError), argv)


if __name__ == "__main__":
    sys.exit(main())
