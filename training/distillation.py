"""Soft labels for unlabelled reviews and sentences, from the bag-of-n-grams teacher."""

import logging

import numpy as np

from training.calibration import fit_temperature
from training.config import TrainConfig
from training.data import Reviews
from training.metrics import classification_figures
from training.sentences import sample_sentences
from training.teacher import NgramTeacher

logger = logging.getLogger(__name__)


def sigmoid(logits: np.ndarray) -> np.ndarray:
    return np.exp(-np.logaddexp(0.0, -logits))


def unlabelled_sample(texts: list[str], count: int | None, seed: int) -> list[str]:
    if count is None or count >= len(texts):
        return texts
    chosen = np.sort(np.random.default_rng(seed).permutation(len(texts))[:count])
    return [texts[index] for index in chosen]


def teacher_labelled(
    train: Reviews, validation: Reviews, unlabelled: list[str], config: TrainConfig
) -> tuple[Reviews, dict]:
    """Unlabelled reviews and sentences cut from them, with the teacher's calibrated probability as
    their label; also the teacher's figures on validation, for metadata.json.

    The temperature comes from validation, which the teacher never saw, so a soft label of 0.8 is
    right about 80% of the time and the LSTM learns how sure to be as well as which way to lean.
    """
    teacher = NgramTeacher(config.teacher_ngram_order, config.teacher_regularisation).fit(train.texts, train.labels)
    validation_logits = teacher.logits(validation.texts)
    temperature = fit_temperature(validation_logits, validation.labels)
    reviews = unlabelled_sample(unlabelled, config.teacher_unlabelled_reviews, config.seed)
    placeholder = np.zeros(len(unlabelled), dtype=np.int64)
    sentences = sample_sentences(Reviews(unlabelled, placeholder), config.teacher_sentences, config.seed).texts
    texts = reviews + sentences
    labels = sigmoid(teacher.logits(texts) / temperature) if texts else np.zeros(0)
    figures = classification_figures(validation.labels, sigmoid(validation_logits / temperature))
    logger.info(
        "teacher: validation accuracy %.4f; labelled %d unlabelled reviews and %d sentences",
        figures["accuracy"],
        len(reviews),
        len(sentences),
    )
    summary = {
        "validation": figures,
        "temperature": temperature,
        "unlabelled_reviews": len(reviews),
        "sentences": len(sentences),
    }
    return Reviews(texts, labels.astype(np.float32)), summary


def combined(labelled: Reviews, teacher_labelled: Reviews) -> Reviews:
    """The labelled reviews (hard labels) followed by the teacher-labelled texts (soft labels)."""
    labels = np.concatenate([labelled.labels.astype(np.float32), teacher_labelled.labels])
    return Reviews(labelled.texts + teacher_labelled.texts, labels)
