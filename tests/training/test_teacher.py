"""The bag-of-n-grams teacher and the soft labels it gives unlabelled texts."""

from dataclasses import replace

import numpy as np
import pytest

from training.config import TrainConfig
from training.data import Reviews
from training.distillation import combined, teacher_labelled
from training.teacher import NgramTeacher, ngrams, words

POSITIVE = ["a good film", "good acting and a fine story", "i liked it, good", "not bad at all", "fine and good"]
NEGATIVE = ["a bad film", "bad acting and a dull story", "not good", "i hated it, bad", "dull and not good at all"]


def labelled() -> Reviews:
    return Reviews(POSITIVE + NEGATIVE, np.array([1] * len(POSITIVE) + [0] * len(NEGATIVE)))


def test_words_are_standardised_like_the_model_standardises_them():
    assert list(words(["Don't <br />miss it: GREAT!"])) == [[b"dont", b"miss", b"it", b"great"]]


def test_ngrams_hold_every_word_sequence_up_to_the_order():
    assert ngrams([b"not", b"good", b"at"], 2) == {b"not", b"good", b"at", b"not good", b"good at"}
    assert b"not good at" in ngrams([b"not", b"good", b"at"], 3)


def test_the_teacher_learns_words_and_negations():
    reviews = labelled()
    teacher = NgramTeacher(order=2, regularisation=10.0).fit(reviews.texts, reviews.labels)
    logits = teacher.logits(["a good story", "a dull film", "not good", "zebra"])
    assert logits[0] > 0 > logits[1]
    # "good" alone leans positive; the bigram "not good" turns it around.
    assert logits[2] < 0
    # Words never seen while fitting carry no weight: only the bias is left.
    assert logits[3] == pytest.approx(teacher.bias)


def test_unlabelled_texts_get_probabilities_and_the_labelled_keep_their_labels():
    reviews = labelled()
    unlabelled = ["A good film. I liked the story a lot.", "A bad film. The acting was dull and slow.", "good good"]
    config = replace(TrainConfig(), teacher_ngram_order=2, teacher_sentences=2)
    soft, summary = teacher_labelled(reviews, reviews, unlabelled, config)
    assert len(soft) == 3 + 2
    assert soft.labels.dtype == np.float32 and np.all((soft.labels >= 0) & (soft.labels <= 1))
    assert soft.labels[0] > 0.5 > soft.labels[1]
    assert summary["unlabelled_reviews"] == 3 and summary["sentences"] == 2
    assert summary["validation"]["accuracy"] == 1.0
    together = combined(reviews, soft)
    assert together.texts == reviews.texts + soft.texts
    assert together.labels.tolist()[: len(reviews)] == reviews.labels.tolist()
