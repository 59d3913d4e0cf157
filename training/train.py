"""Train the sentiment model on IMDB and export a new version into artifacts/.

python -m training.train                          # imdb_reviews from tensorflow-datasets
python -m training.train --data-dir aclImdb_v1.tar.gz --epochs 4
make train ARGS="--data-dir path/to/aclImdb"
"""

import json
import logging
import math
import shutil
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from model.architecture import build_model
from model.artifact import EXPLAIN_SIGNATURE_DESCRIPTION, REPORT_FILE, SIGNATURE_DESCRIPTION, SIGNATURE_NAME
from model.text import build_vectorizer
from training.calibration import fit_temperature
from training.config import TrainConfig, parse_config
from training.data import LABEL_NAMES, DataUnavailableError, ImdbData, Reviews, load_imdb
from training.distillation import TeacherLabels, averaged_with, combined, teacher_labelled
from training.embeddings import pretrained_embeddings
from training.evaluate import Signature, evaluate_signature, predict_probabilities
from training.export import EXPLANATION_METHOD, discard, publish_version, staging_directory, write_savedmodel
from training.metrics import classification_figures
from training.pipeline import batches, token_ids_of, tokenize
from training.pretrain import pretrain
from training.report import write_report
from training.sentences import sample_sentences
from training.split import split_validation

logger = logging.getLogger("training")

VOCABULARY_FILE = "vocabulary.json"
# Sentences cut from test reviews, to measure how the model does on one-liners.
SHORT_TEXTS = 5000


def rounded_accuracy(labels: tf.Tensor, logits: tf.Tensor) -> tf.Tensor:
    """Accuracy against labels rounded to 0 or 1, since the teacher's labels are probabilities."""
    return keras.metrics.binary_accuracy(keras.ops.round(labels), logits, threshold=0.0)


def compile_model(model: keras.Model, config: TrainConfig) -> None:
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=config.learning_rate, clipnorm=1.0),
        # Cross-entropy takes soft labels as they are: the teacher's probabilities are targets too.
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
        metrics=[keras.metrics.MeanMetricWrapper(rounded_accuracy, name="accuracy")],
    )


def learning_rate_schedule(config: TrainConfig, epochs: int) -> list[keras.callbacks.Callback]:
    """A half-cosine decay of the learning rate over `epochs`, or nothing when it is turned off."""
    if not config.decay_learning_rate:
        return []

    # Computed from the epoch number alone, so a resumed run continues at the right rate.
    def rate(epoch: int, _current: float) -> float:
        return config.learning_rate * 0.5 * (1.0 + math.cos(math.pi * epoch / epochs))

    return [keras.callbacks.LearningRateScheduler(rate)]


def callbacks(config: TrainConfig, run_dir: Path) -> list[keras.callbacks.Callback]:
    return learning_rate_schedule(config, config.epochs) + [
        # Saves weights and the epoch after every epoch; a run started with --resume continues from them.
        # The backup outlives this fit, so a run killed in the second round resumes after the first;
        # publishing a version removes it.
        keras.callbacks.BackupAndRestore(str(backup_dir(config)), double_checkpoint=True, delete_checkpoint=False),
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=config.patience, restore_best_weights=True),
        keras.callbacks.TensorBoard(log_dir=str(run_dir / "tensorboard")),
    ]


def logits_and_labels(model: keras.Model, dataset: tf.data.Dataset) -> tuple[np.ndarray, np.ndarray]:
    """Logits and labels in the dataset's own (bucketed) order."""
    # Traced once for any shape: an eager call would run the recurrent loop step by step in Python.
    forward = tf.function(lambda token_ids: model(token_ids, training=False), reduce_retracing=True)
    logits, labels = [], []
    for token_ids, batch_labels in dataset:
        logits.append(forward(token_ids).numpy())
        labels.append(batch_labels.numpy())
    return np.concatenate(logits), np.concatenate(labels).astype(np.int64)


def limit(reviews: Reviews, count: int | None, seed: int) -> Reviews:
    if count is None or count >= len(reviews):
        return reviews
    return reviews.subset(np.sort(np.random.default_rng(seed).permutation(len(reviews))[:count]))


@dataclass(frozen=True)
class Prepared:
    """The splits, the adapted vectorizer and the batched token ids for fitting."""

    train: Reviews
    validation: Reviews
    test: Reviews
    vectorizer: keras.layers.TextVectorization
    train_batches: tf.data.Dataset
    validation_batches: tf.data.Dataset
    # Initial word vectors, or None to start from random ones.
    embeddings: np.ndarray | None
    # Token ids of the train and unlabelled reviews, untruncated, for pretraining.
    unlabelled_ids: tf.RaggedTensor
    # The reviews with their own labels (and sentences cut from them), which every round trains on.
    labelled: Reviews
    # The teacher's labels for unlabelled texts; None without a teacher.
    teacher: TeacherLabels | None


def prepare(config: TrainConfig, data: ImdbData) -> Prepared:
    train, validation = split_validation(data.train, config.validation_fraction, config.seed)
    train = limit(train, config.max_train_reviews, config.seed)
    test = limit(data.test, config.max_test_reviews, config.seed)
    logger.info("%d train, %d validation, %d test reviews", len(train), len(validation), len(test))
    # The vocabulary may come from unlabelled reviews too: their words then get learned vectors.
    vocabulary_texts = train.texts + data.unsupervised
    vectorizer = vocabulary(config, vocabulary_texts)
    logger.info("vocabulary of %d tokens", vectorizer.vocabulary_size())
    embeddings = None
    unlabelled_ids = token_ids_of(vectorizer, vocabulary_texts)
    if config.pretrained_embeddings:
        # Sized like the embedding layer, which is larger than the vocabulary when the corpus is small.
        embeddings = pretrained_embeddings(
            unlabelled_ids,
            config.model.vocabulary_size,
            config.model.embedding_dim,
            config.embedding_window,
            config.seed,
        )
        logger.info("learned word vectors from %d reviews", len(vocabulary_texts))

    labelled, teacher = with_sentences(train, config), None
    fit_reviews = labelled
    if config.teacher_ngram_order > 0:
        teacher = teacher_labelled(train, validation, data.unsupervised, config)
        fit_reviews = combined(labelled, teacher.as_reviews())
    return Prepared(
        train,
        validation,
        test,
        vectorizer,
        batched(vectorizer, fit_reviews, config, config.seed),
        batched(vectorizer, validation, config, None),
        embeddings,
        unlabelled_ids,
        labelled,
        teacher,
    )


def batched(vectorizer, reviews: Reviews, config: TrainConfig, shuffle_seed: int | None) -> tf.data.Dataset:
    ids = tokenize(vectorizer, reviews.texts, config.model)
    return batches(ids, reviews.labels, config.model, config.batch_size, shuffle_seed)


def logits_in_order(model: keras.Model, vectorizer, texts: list[str], config: TrainConfig) -> np.ndarray:
    """The model's logit for each text, in the order of `texts`."""
    # Each text's index rides along as its label, which puts the bucketed results back in order.
    ids = tokenize(vectorizer, texts, config.model)
    logits, indexes = logits_and_labels(model, batches(ids, np.arange(len(texts)), config.model, batch_size=256))
    ordered = np.empty(len(texts))
    ordered[indexes] = logits
    return ordered


def with_sentences(reviews: Reviews, config: TrainConfig) -> Reviews:
    """The reviews plus single sentences cut from them, each labelled like its review."""
    count = round(config.sentence_fraction * len(reviews))
    if count == 0:
        return reviews
    sentences = sample_sentences(reviews, count, config.seed)
    logger.info("training on %d reviews and %d sentences cut from them", len(reviews), len(sentences))
    return Reviews(reviews.texts + sentences.texts, np.concatenate([reviews.labels, sentences.labels]))


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


def initialise(model: keras.Model, config: TrainConfig, prepared: Prepared) -> list[float]:
    """Start from learned word vectors and a pretrained first layer, as configured; returns the
    language model's loss per pretraining epoch."""
    embedding = model.get_layer("embedding")
    if prepared.embeddings is not None:
        embedding.set_weights([prepared.embeddings])
    losses = []
    if config.language_model_epochs > 0:
        vocabulary_size, epochs = config.model.vocabulary_size, config.language_model_epochs
        losses = pretrain(model, prepared.unlabelled_ids, vocabulary_size, epochs, batch_size=128, seed=config.seed)
    embedding.trainable = not (config.freeze_embeddings and prepared.embeddings is not None)
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
    language_model_losses = [] if can_resume(config) else initialise(model, config, prepared)
    compile_model(model, config)
    history = model.fit(
        prepared.train_batches,
        validation_data=prepared.validation_batches,
        epochs=config.epochs,
        callbacks=callbacks(config, run_dir),
        verbose=2,
    )
    curves = {name: [float(value) for value in values] for name, values in history.history.items()}
    teacher = prepared.teacher
    for _ in range(1, config.teacher_rounds if teacher is not None else 1):
        teacher, round_curves = distil_again(model, config, prepared, teacher, run_dir)
        curves = {name: curves.get(name, []) + values for name, values in round_curves.items()}
    return Fitted(model, curves, language_model_losses, teacher.summary if teacher is not None else None)


def distil_again(
    model: keras.Model, config: TrainConfig, prepared: Prepared, teacher: TeacherLabels, run_dir: Path
) -> tuple[TeacherLabels, dict[str, list[float]]]:
    """Average the teacher with the LSTM, relabel the unlabelled texts, and train on the new labels;
    the weights only change if validation loss improves. Returns the new teacher and the curves."""
    validation = prepared.validation
    teacher = averaged_with(
        teacher,
        logits_in_order(model, prepared.vectorizer, teacher.texts, config),
        logits_in_order(model, prepared.vectorizer, validation.texts, config),
        validation.labels,
    )
    before = model.evaluate(prepared.validation_batches, verbose=0, return_dict=True)["loss"]
    weights = model.get_weights()
    # A resumed first round leaves its starting epoch on the model (Keras's BackupAndRestore), which
    # would make this fit start past its last epoch and run none.
    model._initial_epoch = None
    history = model.fit(
        batched(prepared.vectorizer, combined(prepared.labelled, teacher.as_reviews()), config, config.seed + 1),
        validation_data=prepared.validation_batches,
        epochs=config.teacher_round_epochs,
        callbacks=learning_rate_schedule(config, config.teacher_round_epochs)
        + [
            keras.callbacks.EarlyStopping(monitor="val_loss", patience=config.patience, restore_best_weights=True),
            keras.callbacks.TensorBoard(log_dir=str(run_dir / "tensorboard-distilled")),
        ],
        verbose=2,
    )
    if min(history.history.get("val_loss", [np.inf])) >= before:
        logger.info("training on the averaged teacher's labels did not lower validation loss; weights kept")
        model.set_weights(weights)
    return teacher, {name: [float(value) for value in values] for name, values in history.history.items()}


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
        "signature": SIGNATURE_DESCRIPTION,
        "explanation": {**EXPLANATION_METHOD, "outputs": EXPLAIN_SIGNATURE_DESCRIPTION},
        "training": {
            "epochs_run": len(fitted.history.get("loss", [])),
            "history": fitted.history,
            "language_model_losses": fitted.language_model_losses,
            "teacher": fitted.teacher,
        },
        **extra,
    }


def evaluate_export(signature: Signature, prepared: Prepared, seed: int) -> tuple[dict, np.ndarray]:
    """Figures of the exported model on validation, test and short texts; also the test probabilities."""
    test_probabilities = predict_probabilities(signature, prepared.test.texts)
    evaluation = {
        "validation": evaluate_signature(signature, prepared.validation),
        "test": classification_figures(prepared.test.labels, test_probabilities),
        "test_sentences": evaluate_signature(signature, sample_sentences(prepared.test, SHORT_TEXTS, seed)),
        # Short texts from validation: a one-liner figure that choosing between runs may look at.
        "validation_sentences": evaluate_signature(signature, sample_sentences(prepared.validation, SHORT_TEXTS, seed)),
    }
    return evaluation, test_probabilities


def report_summary(metadata: dict) -> list[str]:
    test, sentences = metadata["evaluation"]["test"], metadata["evaluation"]["test_sentences"]
    model = metadata["config"]["model"]
    return [
        f"test reviews        {test['examples']:,}",
        f"accuracy            {test['accuracy']:.4f}",
        f"F1                  {test['f1']:.4f}",
        f"ROC-AUC             {test['roc_auc']:.4f}",
        f"ECE (15 bins)       {test['ece']:.4f}",
        f"short texts ({sentences['examples']:,})",
        f"  accuracy          {sentences['accuracy']:.4f}",
        f"validation accuracy {metadata['evaluation']['validation']['accuracy']:.4f}",
        f"temperature         {metadata['temperature']:.3f}",
        f"epochs run          {metadata['training']['epochs_run']}",
        f"training time       {metadata['training']['seconds'] / 60:.1f} min",
        f"LSTM units          {model['lstm_units']} bidirectional={model['bidirectional']}",
        f"vocabulary          {metadata['vocabulary_size']:,}, {model['sequence_length']} tokens",
    ]


def train_and_export(config: TrainConfig, data: ImdbData) -> Path:
    """Fit, calibrate, export to a staging folder, evaluate what was exported, then publish it."""
    started = time.monotonic()
    keras.utils.set_random_seed(config.seed)
    prepared = prepare(config, data)
    fitted = fit(config, prepared)
    model = fitted.model
    temperature = fit_temperature(*logits_and_labels(model, prepared.validation_batches))
    logger.info("fitted temperature %.3f on the validation split", temperature)
    staging = staging_directory(config.artifacts_dir)
    try:
        write_savedmodel(staging, model, prepared.vectorizer, config.model, temperature)
        signature = tf.saved_model.load(str(staging)).signatures[SIGNATURE_NAME]
        evaluation, test_probabilities = evaluate_export(signature, prepared, config.seed)
        logger.info("test figures: %s", {k: v for k, v in evaluation["test"].items() if k != "confusion_matrix"})
        extra = {"temperature": temperature, "evaluation": evaluation}
        metadata = build_metadata(config, data, prepared, fitted, extra)
        metadata["training"]["seconds"] = round(time.monotonic() - started, 1)
        write_report(
            staging / REPORT_FILE, metadata, prepared.test.labels, test_probabilities, report_summary(metadata)
        )
        published = publish_version(staging, config.artifacts_dir, metadata)
    finally:
        discard(staging)
    shutil.rmtree(backup_dir(config), ignore_errors=True)
    return published


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = parse_config(argv)
    try:
        data = load_imdb(config.data_dir)
    except DataUnavailableError as error:
        logger.error("%s", error)
        return 2
    train_and_export(config, data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
