"""The bag-of-n-grams teacher and the soft labels it gives unlabelled texts."""

import json
import os
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest

from tests.conftest import NO_RULES
from training.augment import RuleSentences
from training.calibration import Platt
from training.config import TrainConfig
from training.data import Reviews
from training.distillation import (
    averaged_with,
    combined,
    fit_review_teacher,
    fit_sentence_teacher,
    sentence_labellers,
    surest_reviews,
    surest_sentences,
    teacher_labelled,
    unlabelled_half,
)
from training.teacher import NgramTeacher, ngrams, words

POSITIVE = ["a good film", "good acting and a fine story", "i liked it, good", "not bad at all", "fine and good"]
NEGATIVE = ["a bad film", "bad acting and a dull story", "not good", "i hated it, bad", "dull and not good at all"]


def labelled() -> Reviews:
    return Reviews(POSITIVE + NEGATIVE, np.array([1] * len(POSITIVE) + [0] * len(NEGATIVE)))


def test_words_are_standardised_like_the_model_standardises_them():
    assert list(words(["Don't <br />miss it: GREAT!"])) == [[b"dont", b"miss", b"it", b"great"]]


def test_a_negation_marks_the_words_it_reaches_within_its_clause():
    marked = list(words(["I can't fault it, but the end drags.", "Not bad, never dull: a treat."], negation_scope=3))
    assert marked == [
        [b"i", b"cant", b"neg_fault", b"neg_it", b"but", b"the", b"end", b"drags"],
        [b"not", b"neg_bad", b"never", b"neg_dull", b"a", b"treat"],
    ]
    # The reach is at most the scope, and "but" ends it early.
    assert list(words(["It is not a film I would ever see again"], negation_scope=2)) == [
        [b"it", b"is", b"not", b"neg_a", b"neg_film", b"i", b"would", b"ever", b"see", b"again"]
    ]
    assert list(words(["Not good but fun"], negation_scope=5)) == [[b"not", b"neg_good", b"but", b"fun"]]
    # Without a scope the words are the plain ones, sentence and clause ends dropped alike.
    assert list(words(["Not bad, never dull."])) == [[b"not", b"bad", b"never", b"dull"]]


def test_a_teacher_that_marks_negations_reads_a_negated_complaint_apart_from_the_complaint():
    # "dull" comes with negative reviews more often than "never" with positive ones, so unigrams read
    # "never dull" as a complaint; marked, "neg_dull" is a word of the positive reviews alone.
    positive = ["it is never dull", "never dull and fun", "a fun story"]
    negative = ["dull", "a dull story", "so dull and slow", "dull", "never again"]
    labels = np.array([1] * len(positive) + [0] * len(negative))
    plain, marking = (
        NgramTeacher(order=1, regularisation=10.0, negation_scope=scope).fit(positive + negative, labels)
        for scope in (0, 3)
    )
    assert plain.logits(["the film is never dull"])[0] < 0 < marking.logits(["the film is never dull"])[0]
    assert marking.logits(["the film is dull"])[0] < 0


def test_the_config_s_negation_scope_reaches_both_teachers():
    reviews = labelled()
    for scope in (0, 2):
        config = replace(TrainConfig(), teacher_ngram_order=1, teacher_negation_scope=scope)
        for teacher in (fit_review_teacher(reviews, config), fit_sentence_teacher(reviews, config)):
            assert teacher is not None
            assert (b"neg_good" in teacher.features) == (scope > 0)


def test_the_surest_unlabelled_reviews_are_half_of_either_sign_labelled_as_the_teacher_reads_them():
    reviews = [f"review {number}" for number in range(6)]
    logits = np.array([-0.5, 4.0, -6.0, 0.2, -3.0, 5.0])
    sure = surest_reviews(reviews, logits, 4)
    assert sure.texts == ["review 1", "review 2", "review 4", "review 5"]
    assert sure.labels.tolist() == [1, 0, 0, 1]
    assert len(surest_reviews(reviews, logits, 0)) == 0


def test_the_sentence_teacher_learns_from_the_sentences_of_sure_unlabelled_reviews():
    # "superb" and "dire" come up only in the unlabelled reviews.
    sure = Reviews(
        [
            "I liked it a lot. The cast was superb in every scene.",
            "What a superb and fine story it was.",
            "I hated it a lot. The ending was dire in every way.",
            "Dire acting and a dull story too.",
        ],
        np.array([1, 1, 0, 0]),
    )
    reviews = _reviews_of_sentences(20)
    config = replace(TrainConfig(), teacher_ngram_order=1, sentence_teacher_regularisation=10.0)
    alone = fit_sentence_teacher(reviews, config)
    helped = fit_sentence_teacher(reviews, config, sure)
    assert alone is not None and helped is not None
    assert b"superb" not in alone.features
    superb, unknown, dire = helped.logits(["superb", "zebra", "dire"])
    assert superb > unknown > dire


# Made-up words, one for each unlabelled review, so that a teacher's n-grams say which reviews it saw.
_MADE_UP = ["zorgle", "blorp", "quibble", "snark", "frimp", "glorb", "wumble", "trazz"]


def _sure_unlabelled() -> Reviews:
    """Unlabelled reviews in both halves, alternately praise and complaint, each with a made-up word."""
    verdicts = ["A moving and beautifully acted film.", "Two hours i will never get back."]
    texts = [f"{verdicts[index % 2]} The cast was {word} throughout it." for index, word in enumerate(_MADE_UP)]
    return Reviews(texts, np.array([1 - index % 2 for index in range(len(texts))]))


def test_the_unlabelled_reviews_lie_in_two_halves_by_their_text_in_every_process():
    texts = _sure_unlabelled().texts
    halves = [unlabelled_half(text) for text in texts]
    assert set(halves) == {0, 1}
    # Training and the quality report run in processes of their own: they must agree on the halves
    # whatever Python's own string hashing does there.
    script = "import json, sys; from training.distillation import unlabelled_half; "
    script += "print(json.dumps([unlabelled_half(text) for text in json.loads(sys.argv[1])]))"
    other = subprocess.run(
        [sys.executable, "-c", script, json.dumps(texts)],
        env={**os.environ, "PYTHONHASHSEED": "12345"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(other.stdout.strip().splitlines()[-1]) == halves


def test_cross_fitted_sentence_teachers_never_saw_the_reviews_whose_sentences_they_label():
    sure = _sure_unlabelled()
    config = replace(TrainConfig(), teacher_ngram_order=1)
    labellers = sentence_labellers(_reviews_of_sentences(20), _reviews_of_sentences(20), sure, Platt(1.0, 0.0), config)
    halves = []
    for labeller in labellers:
        words = dict(zip(sure.texts, _MADE_UP, strict=True))
        seen = {word for word in _MADE_UP if word.encode() in labeller.teacher.features}
        labelled = {words[text] for text in labeller.chosen(sure.texts)}
        assert seen and labelled and seen.isdisjoint(labelled) and seen | labelled == set(_MADE_UP)
        halves.append(labeller.half)
    assert halves == [0, 1]


def test_one_sentence_teacher_labels_every_review_without_sure_unlabelled_reviews():
    no_reviews = Reviews([], np.zeros(0, dtype=np.int64))
    config = replace(TrainConfig(), teacher_ngram_order=1)
    reviews = _reviews_of_sentences(20)
    (labeller,) = sentence_labellers(reviews, reviews, no_reviews, Platt(1.0, 0.0), config)
    texts = _sure_unlabelled().texts
    assert labeller.half is None and labeller.chosen(texts) == texts and labeller.share_of(config) == config


def test_rule_texts_of_two_parts_keep_each_rule_together():
    first = RuleSentences(["n1", "c1", "c2"], np.array([1.0, 2.0, 3.0]), 1, 2, 0, 0)
    second = RuleSentences(["n2", "a1", "f1"], np.array([4.0, 5.0, 6.0]), 1, 0, 1, 1)
    joined = first.followed_by(second)
    assert joined.texts == ["n1", "n2", "c1", "c2", "a1", "f1"]
    assert joined.logits.tolist() == [1.0, 4.0, 2.0, 3.0, 5.0, 6.0]
    assert (joined.negations, joined.contrasts, joined.agreements, joined.fragments) == (2, 2, 1, 1)


def test_training_fits_cross_fitted_sentence_teachers_on_the_sure_unlabelled_reviews_asked_for():
    reviews = _reviews_of_sentences(40)
    unlabelled = [text.replace("The cast was", "Its cast is superb and") for text in _sure_unlabelled().texts[::2]]
    unlabelled += [text.replace("The cast was", "Its cast is dire and") for text in _sure_unlabelled().texts[1::2]]
    praise, complaint = "Its cast is superb and zorgle throughout it.", "Its cast is dire and blorp throughout it."
    for count in (0, len(unlabelled)):
        config = replace(
            TrainConfig(),
            teacher_ngram_order=2,
            teacher_sentences=0,
            teacher_confident_sentences=20,
            sentence_teacher_unlabelled_reviews=count,
            **NO_RULES,
        )
        teacher = teacher_labelled(reviews, reviews, unlabelled, config)
        summary = teacher.summary
        assert summary["sentence_teacher_unlabelled_reviews"] == count
        assert [one["half"] for one in summary["sentence_teachers"]] == ([0, 1] if count else [None])
        # With two teachers, each labels its half's sentences (two to a review) and gives half of the 20.
        halves = [unlabelled_half(text) for text in unlabelled]
        shares = [min(10, 2 * halves.count(half)) for half in (0, 1)] if count else [min(20, 2 * len(unlabelled))]
        assert summary["confident_sentences"] == sum(shares)
        labels = dict(zip(teacher.texts, teacher.as_reviews().labels, strict=True))
        # Words the training reviews never hold are unknown to a teacher fitted on them alone; the
        # other half's reviews teach them.
        if count:
            assert labels[praise] > labels[complaint]
        else:
            assert labels[praise] == labels[complaint]


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
    config = replace(
        TrainConfig(), teacher_ngram_order=2, teacher_sentences=2, teacher_confident_sentences=0, **NO_RULES
    )
    teacher = teacher_labelled(reviews, reviews, unlabelled, config)
    soft, summary = teacher.as_reviews(), teacher.summary
    assert len(soft) == 3 + 2
    assert soft.labels.dtype == np.float32 and np.all((soft.labels >= 0) & (soft.labels <= 1))
    assert soft.labels[0] > 0.5 > soft.labels[1]
    assert summary["unlabelled_reviews"] == 3 and summary["sentences"] == 2
    assert summary["validation"]["accuracy"] == 1.0
    # Reviews and sentences each get their own calibration, both recorded.
    (sentence_teacher,) = summary["sentence_teachers"]
    assert set(summary["review_calibration"]) == set(sentence_teacher["calibration"]) == {"scale", "bias"}
    together = combined(reviews, soft)
    assert together.texts == reviews.texts + soft.texts
    assert together.labels.tolist()[: len(reviews)] == reviews.labels.tolist()


def _reviews_of_sentences(count: int) -> Reviews:
    """Reviews of two sentences: one that carries the verdict and one of plot that is the same in both."""
    texts, labels = [], []
    for index in range(count):
        verdict = "two hours i will never get back" if index % 2 else "a moving and beautifully acted film"
        texts.append(f"The story follows a family over one summer. {verdict.capitalize()}.")
        labels.append(index % 2 == 0)
    return Reviews(texts, np.array(labels, dtype=np.int64))


@pytest.mark.parametrize("sentence_teacher", [True, False])
def test_sentences_are_labelled_by_a_teacher_fitted_on_sentences_when_asked(sentence_teacher: bool):
    reviews = _reviews_of_sentences(40)
    unlabelled = ["Too long. Two hours I will never get back, sadly."]
    config = replace(
        TrainConfig(), teacher_ngram_order=2, teacher_sentences=1, sentence_teacher=sentence_teacher, **NO_RULES
    )
    teacher = teacher_labelled(reviews, reviews, unlabelled, config)
    assert teacher.summary["sentence_teacher"] is sentence_teacher
    assert teacher.summary["sentence_teachers"][0]["validation_sentences"]["accuracy"] >= 0.5
    sentence_label = teacher.as_reviews().labels[-1]
    assert teacher.texts[-1] in unlabelled[0] and sentence_label < 0.5


def test_beyond_the_random_sentences_come_those_the_teacher_is_surest_of_either_way():
    reviews = _reviews_of_sentences(40)
    plot = "The story follows a family over one summer."
    opinions = ["Two hours i will never get back.", "A moving and beautifully acted film."]
    unlabelled = [f"{plot} {opinions[0]} {opinions[1]}", f"{plot} The family lives by the sea."]
    config = replace(
        TrainConfig(), teacher_ngram_order=2, teacher_sentences=0, teacher_confident_sentences=2, **NO_RULES
    )
    teacher = teacher_labelled(reviews, reviews, unlabelled, config)
    assert teacher.summary["sentences"] == 2 and teacher.summary["confident_sentences"] == 2
    # The surest negative and the surest positive, not the plot.
    labels = dict(zip(teacher.texts[-2:], teacher.as_reviews().labels[-2:], strict=True))
    assert sorted(labels) == sorted(opinions)
    assert labels[opinions[0]] < 0.5 < labels[opinions[1]]


def test_the_surest_sentences_are_half_negative_and_half_positive():
    texts = [f"sentence {number}" for number in range(10)]
    logits = np.array([-5.0, -4.0, -3.0, -2.0, -1.0, 1.0, 2.0, 6.0, 7.0, 8.0])
    assert surest_sentences(texts, logits, 4, negations_balanced=False).tolist() == [0, 1, 8, 9]
    assert surest_sentences(texts, logits, 5, negations_balanced=True).tolist() == [0, 1, 7, 8, 9]


def test_balanced_negations_are_half_negative_and_half_positive_among_the_surest():
    # Negated sentences that lean negative, the surest of them most, as in reviews.
    negated = ["It was not good.", "I never liked it.", "Nothing works.", "It isn't funny.", "I can't fault it."]
    negated_logits = [-9.0, -8.0, -7.0, -6.0, 1.0]
    plain = ["A fine film.", "A dull film.", "Great fun.", "Awful acting.", "A gem.", "A mess.", "Lovely.", "Dire."]
    plain_logits = [3.0, -3.0, 4.0, -4.0, 5.0, -5.0, 2.0, -2.0]
    texts, logits = negated + plain, np.array(negated_logits + plain_logits)

    def chosen_negated(negations_balanced: bool) -> list[str]:
        chosen = surest_sentences(texts, logits, 6, negations_balanced)
        assert len(chosen) == 6
        return [texts[index] for index in chosen if texts[index] in negated]

    # Alone, the surest six take three negated complaints and no negated praise.
    assert chosen_negated(False) == ["It was not good.", "I never liked it.", "Nothing works."]
    # Balanced, the negated sentences get their share (5 of 13, so 2 of 6), one of either sign.
    assert chosen_negated(True) == ["It was not good.", "I can't fault it."]


def test_sentences_drawn_at_random_are_not_drawn_again_for_confidence():
    reviews = _reviews_of_sentences(40)
    unlabelled = ["Two hours i will never get back. A moving and beautifully acted film."]
    config = replace(
        TrainConfig(), teacher_ngram_order=2, teacher_sentences=1, teacher_confident_sentences=2, **NO_RULES
    )
    teacher = teacher_labelled(reviews, reviews, unlabelled, config)
    assert sorted(teacher.texts[-2:]) == ["A moving and beautifully acted film.", "Two hours i will never get back."]
    assert teacher.summary["confident_sentences"] == 1


def test_the_averaged_teacher_leans_on_whichever_teacher_validation_finds_right():
    labels = np.array([1, 0] * 50)
    reviews = Reviews(["good film", "bad film"] * 50, labels)
    config = replace(
        TrainConfig(), teacher_ngram_order=1, teacher_sentences=0, teacher_confident_sentences=0, **NO_RULES
    )
    teacher = teacher_labelled(reviews, reviews, ["good", "bad"], config)
    # An LSTM that is mostly right on validation (wrong on about one in eight) and sure of itself,
    # and that disagrees on the unlabelled texts.
    lstm_validation_logits = np.where(labels == 1, 3.0, -3.0) + np.random.default_rng(0).normal(0, 2.5, 100)
    averaged = averaged_with(teacher, np.array([-5.0, 5.0]), lstm_validation_logits, labels)
    assert 0.0 <= averaged.summary["averaged"]["lstm_share"] <= 1.0
    assert averaged.texts == teacher.texts
    assert averaged.validation_logits.shape == (100,)
    # The n-gram teacher is perfect on this validation, so it keeps most of the say.
    assert averaged.summary["averaged"]["lstm_share"] < 0.5
    assert averaged.logits[0] > 0 > averaged.logits[1]
