"""Soft labels for unlabelled reviews and sentences, from the bag-of-n-grams teachers and later from
the review teacher averaged with the LSTM itself."""

import functools
import logging
import zlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from model.architecture import build_model
from training.augment import RuleSentences, holds_negation, rule_sentences
from training.calibration import Platt, fit_platt, fit_temperature, log_loss
from training.config import TrainConfig
from training.data import Reviews, sample_indexes
from training.fitting import compiled_trainer, progress_verbosity, round_callbacks
from training.metrics import classification_figures
from training.pipeline import batched, logits_in_order
from training.sentences import all_sentences, sample_passages, sample_sentences
from training.teacher import NgramTeacher

logger = logging.getLogger(__name__)

# Shares of the LSTM in the averaged teacher that validation chooses from.
_LSTM_SHARES = np.linspace(0.0, 1.0, 11)
# Cross-fitted sentence teachers each label the sentences of one of this many parts of the unlabelled
# reviews.
_HALVES = 2
# The counts of sentences to label that cross-fitted teachers share.
_SENTENCE_COUNTS = (
    "teacher_passages",
    "teacher_sentences",
    "teacher_confident_sentences",
    "negation_sentences",
    "contrast_sentences",
    "agreement_sentences",
    "fragment_sentences",
)
# At most this many negated, contrasting, agreeing and sentence-and-fragment texts written from the
# sentences of validation reviews (the 2,500 of the full dataset give 471, 1,796, 1,898 and 2,000).
_VALIDATION_RULE_COUNTS = (4000, 4000, 2000, 2000)


def sigmoid(logits: np.ndarray) -> np.ndarray:
    return np.exp(-np.logaddexp(0.0, -logits))


@dataclass(frozen=True)
class TeacherLabels:
    """Texts without a label and a teacher's calibrated logits for them and for validation."""

    texts: list[str]
    logits: np.ndarray
    validation_logits: np.ndarray
    # What metadata.json records about the teacher.
    summary: dict
    # Texts the rules wrote from sentences of validation reviews, with the sentence teacher's logits.
    validation_rules: RuleSentences

    def as_reviews(self) -> Reviews:
        """The texts with the teacher's probability as their label."""
        return Reviews(self.texts, sigmoid(self.logits).astype(np.float32))


def teacher_labelled(train: Reviews, validation: Reviews, unlabelled: list[str], config: TrainConfig) -> TeacherLabels:
    """Unlabelled reviews and sentences cut from them, labelled by the n-gram teachers.

    The teachers' logits are calibrated on validation, which they never saw, so a soft label of 0.8
    is right about 80% of the time and the LSTM learns how sure to be as well as which way to lean.
    Reviews and sentences get a calibration each, fitted on validation reviews and on sentences cut
    from them: a teacher's intercept, learned on full reviews, would otherwise tilt every one-liner
    towards positive, and the LSTM would learn that tilt.
    """
    reviews = unlabelled_sample(unlabelled, config)
    review_logits, validation_logits, review_calibration = _review_teacher_logits(train, validation, reviews, config)
    sure_reviews = surest_reviews(reviews, review_logits, config.sentence_teacher_unlabelled_reviews)
    taught = _taught_sentences(train, validation, unlabelled, sure_reviews, review_calibration, config)
    labelled_sentences = taught.labels
    sentences = labelled_sentences.texts
    logits = np.concatenate([review_logits, labelled_sentences.logits])
    figures = classification_figures(validation.labels, sigmoid(validation_logits))
    logger.info(
        "teacher: validation accuracy %.4f on reviews, %s on sentences; labelled %d reviews and %d sentences",
        figures["accuracy"],
        taught.accuracies(),
        len(reviews),
        len(sentences),
    )
    summary = {
        "validation": figures,
        "review_calibration": asdict(review_calibration),
        "sentence_teacher": taught.by_sentence_teacher,
        "sentence_teachers": taught.teachers,
        "sentence_teacher_unlabelled_reviews": len(sure_reviews) if taught.by_sentence_teacher else 0,
        "unlabelled_reviews": len(reviews),
        "sentences": len(sentences),
        "passages": labelled_sentences.passages,
        "confident_sentences": labelled_sentences.confident,
        "negated_sentences": labelled_sentences.rules.negations,
        "contrast_sentences": labelled_sentences.rules.contrasts,
        "agreement_sentences": labelled_sentences.rules.agreements,
        "fragment_sentences": labelled_sentences.rules.fragments,
    }
    return TeacherLabels(reviews + sentences, logits, validation_logits, summary, taught.validation_rules)


@dataclass(frozen=True)
class _TaughtSentences:
    """The unlabelled reviews' sentences as the sentence teachers labelled them, and what else they did."""

    labels: "SentenceLabels"
    # Texts the rules wrote from sentences of validation reviews, labelled by the first teacher.
    validation_rules: RuleSentences
    # What metadata.json records about each teacher.
    teachers: list[dict]
    # False where the review teacher labelled the sentences.
    by_sentence_teacher: bool

    def accuracies(self) -> str:
        """Each teacher's accuracy on validation sentences, for the log."""
        figures = [teacher["validation_sentences"] for teacher in self.teachers]
        return ", ".join("-" if one is None else f"{one['accuracy']:.4f}" for one in figures)


def _taught_sentences(
    train: Reviews,
    validation: Reviews,
    unlabelled: list[str],
    sure_reviews: Reviews,
    review_calibration: Platt,
    config: TrainConfig,
) -> _TaughtSentences:
    """The sentences of the unlabelled reviews, each labelled by a sentence teacher that never saw it."""
    parts, teachers = [], []
    by_sentence_teacher = False
    validation_rules: RuleSentences | None = None
    for labeller in sentence_labellers(train, validation, sure_reviews, review_calibration, config):
        parts.append(_labelled_sentences(labeller.chosen(unlabelled), labeller, labeller.share_of(config)))
        if validation_rules is None:
            # The first teacher writes them, so that a report can score them with the teacher that did.
            validation_rules = validation_rule_sentences(validation, labeller, config.seed)
        teachers.append(labeller.summary())
        by_sentence_teacher = labeller.is_sentence_teacher
        # The next teacher is fitted without this one's n-grams in memory.
        del labeller
    assert validation_rules is not None, "sentence_labellers yields at least one teacher"
    return _TaughtSentences(
        functools.reduce(SentenceLabels.followed_by, parts), validation_rules, teachers, by_sentence_teacher
    )


def unlabelled_sample(unlabelled: list[str], config: TrainConfig) -> list[str]:
    """The unlabelled reviews the teacher labels: `teacher_unlabelled_reviews` of them, or all."""
    chosen = sample_indexes(len(unlabelled), config.teacher_unlabelled_reviews, config.seed)
    return [unlabelled[index] for index in chosen]


def surest_reviews(reviews: list[str], logits: np.ndarray, count: int) -> Reviews:
    """The `count` reviews the review teacher is surest of, half of either sign, each labelled like
    the teacher reads it."""
    chosen = _surest_of_either_sign(np.arange(len(reviews)), logits, count)
    return Reviews([reviews[index] for index in chosen], (logits[chosen] > 0).astype(np.int64))


def fit_review_teacher(train: Reviews, config: TrainConfig) -> NgramTeacher:
    """The n-gram teacher fitted on the training reviews."""
    teacher = NgramTeacher(config.teacher_ngram_order, config.teacher_regularisation, config.teacher_negation_scope)
    return teacher.fit(train.texts, train.labels)


def _review_teacher_logits(
    train: Reviews, validation: Reviews, reviews: list[str], config: TrainConfig
) -> tuple[np.ndarray, np.ndarray, Platt]:
    """The review teacher's calibrated logits for `reviews` and for validation, and its calibration.

    The teacher lives only inside this call, so that its millions of n-grams are gone before the
    sentence teacher collects as many again: training holds one teacher at a time.
    """
    teacher = fit_review_teacher(train, config)
    raw_validation_logits = teacher.logits(validation.texts)
    calibration = fit_platt(raw_validation_logits, validation.labels)
    return calibration(teacher.logits(reviews)), calibration(raw_validation_logits), calibration


def _labelled_sentences(unlabelled: list[str], labeller: "SentenceLabeller", config: TrainConfig) -> "SentenceLabels":
    """Sentences of the unlabelled reviews with their calibrated logits: passages of two neighbouring
    sentences from `teacher_passages` reviews, `teacher_sentences` random sentences (one from each
    review, then a second from each, and so on), then the `teacher_confident_sentences` of all the
    others that the teacher is surest of, half of them negative and half positive, then sentences
    rewritten from sure ones by the negation, contrast, agreement and fragment rules
    (training/augment.py).

    Random sentences are mostly plot and teach the LSTM that a one-liner without an opinion is a
    coin toss. The sure ones hold the opinions, many of them in phrases too rare to come up among
    the random ones ("two hours of my life I will never get back"), which the LSTM can learn only
    from seeing them as sentences of their own.
    """
    reviews = Reviews(unlabelled, np.zeros(len(unlabelled), dtype=np.int64))
    # Random passages are labelled like random sentences, but are never a rule's source: a rule
    # rewrites one sentence.
    passages = sample_passages(reviews, config.teacher_passages, config.seed + 1).texts
    passage_logits = labeller.logits(passages)
    sampled = sample_sentences(reviews, config.teacher_sentences, config.seed).texts
    sampled_logits = labeller.logits(sampled)
    rule_counts = (
        config.negation_sentences,
        config.contrast_sentences,
        config.agreement_sentences,
        config.fragment_sentences,
    )
    if config.teacher_confident_sentences <= 0 and sum(rule_counts) <= 0:
        no_rules = RuleSentences([], np.zeros(0), 0, 0, 0, 0)
        logits = np.concatenate([passage_logits, sampled_logits])
        return SentenceLabels(passages + sampled, logits, len(passages), 0, no_rules)
    taken = set(sampled)
    others = [text for text in all_sentences(reviews).texts if text not in taken]
    other_logits = labeller.logits(others)
    surest = surest_sentences(
        others, other_logits, config.teacher_confident_sentences, config.teacher_confident_negations_balanced
    )
    confident = [others[index] for index in surest]
    rules = rule_sentences(
        sampled + others,
        np.concatenate([sampled_logits, other_logits]),
        *rule_counts,
        config.seed,
        negation_quantifiers=config.negation_quantifiers,
        negation_objects=config.negation_objects,
        negations_per_source=config.negations_per_source,
        negation_speakers=config.negation_speakers,
    )
    texts = passages + sampled + confident + rules.texts
    logits = np.concatenate([passage_logits, sampled_logits, other_logits[surest], rules.logits])
    return SentenceLabels(texts, logits, len(passages), len(confident), rules)


def surest_sentences(texts: list[str], logits: np.ndarray, count: int, negations_balanced: bool) -> np.ndarray:
    """The indexes, in order, of the `count` texts the teacher is surest of: as many of the surest
    negatives as of the surest positives, and with `negations_balanced`, so among the texts that
    hold a negation and among the others, each group given its share of `count`.

    Negative one-liners are the surer kind, and taking the surest of either sign alone would tilt
    the LSTM's one-liners negative. The same holds within the sentences that hold a negation: 58% of
    those cut from validation reviews come from negative reviews, but 71% of those among the full
    data's surest 80,000 are negative, and an LSTM that learns that lean reads a negation as a
    complaint whatever it negates ("I can't fault it."). The balance is an option, off by default:
    it removed that lean on validation but was right on fewer of those sentences (training/README.md).
    """
    if not negations_balanced:
        return _surest_of_either_sign(np.arange(len(texts)), logits, count)
    negated = np.array([holds_negation(text) for text in texts], dtype=bool)
    negated_count = round(count * negated.mean()) if len(texts) else 0
    chosen = (
        _surest_of_either_sign(np.flatnonzero(negated), logits, negated_count),
        _surest_of_either_sign(np.flatnonzero(~negated), logits, count - negated_count),
    )
    return np.sort(np.concatenate(chosen))


def _surest_of_either_sign(indexes: np.ndarray, logits: np.ndarray, count: int) -> np.ndarray:
    """The `count` of `indexes` with the lowest and highest logits, half of either, in order."""
    order = indexes[np.argsort(logits[indexes], kind="stable")]
    negatives = count // 2
    positives = count - negatives
    return np.union1d(order[:negatives], order[max(0, len(order) - positives) :]).astype(np.int64)


@dataclass(frozen=True)
class SentenceLabels:
    """Sentences for the LSTM to learn from, with the sentence teacher's calibrated logits."""

    texts: list[str]
    logits: np.ndarray
    # How many are passages of two sentences.
    passages: int
    # How many were chosen for the teacher's confidence.
    confident: int
    # The negated, contrasting and agreeing sentences among them (training/augment.py).
    rules: RuleSentences

    def followed_by(self, other: "SentenceLabels") -> "SentenceLabels":
        """These sentences, then `other`'s, with their counts added up."""
        return SentenceLabels(
            self.texts + other.texts,
            np.concatenate([self.logits, other.logits]),
            self.passages + other.passages,
            self.confident + other.confident,
            self.rules.followed_by(other.rules),
        )


def fit_sentence_teacher(
    train: Reviews, config: TrainConfig, sure_reviews: Reviews | None = None
) -> NgramTeacher | None:
    """An n-gram teacher fitted on every sentence of the training reviews and of `sure_reviews`
    (unlabelled ones the review teacher labelled), each labelled like its review; None when the
    config asks for none or the reviews hold no sentence of both labels."""
    if not config.sentence_teacher:
        return None
    sentences = all_sentences(train if sure_reviews is None else train.followed_by(sure_reviews))
    if len(np.unique(sentences.labels)) < 2:
        return None
    teacher = NgramTeacher(
        config.teacher_ngram_order, config.sentence_teacher_regularisation, config.teacher_negation_scope
    )
    return teacher.fit(sentences.texts, sentences.labels)


def unlabelled_half(text: str) -> int:
    """Which of the two halves of the unlabelled reviews a review lies in, by a hash of its text, so
    that a review that comes up twice lies in one half."""
    return zlib.crc32(text.encode()) % _HALVES


@dataclass(frozen=True)
class SentenceLabeller:
    """A teacher that labels sentences, its calibration on validation sentences and its figures there,
    and the half of the unlabelled reviews whose sentences it labels (None: all of them)."""

    teacher: NgramTeacher
    calibration: Platt
    figures: dict | None
    half: int | None
    # False where the review teacher labels sentences: the config asks for no sentence teacher, or
    # the training reviews hold no sentence of both labels.
    is_sentence_teacher: bool

    def logits(self, texts: list[str]) -> np.ndarray:
        """The teacher's calibrated logits for `texts`."""
        return self.calibration(self.teacher.logits(texts))

    def chosen(self, unlabelled: list[str]) -> list[str]:
        """The unlabelled reviews whose sentences this teacher labels."""
        if self.half is None:
            return unlabelled
        return [review for review in unlabelled if unlabelled_half(review) == self.half]

    def share_of(self, config: TrainConfig) -> TrainConfig:
        """The config with this teacher's share of every count of sentences to label: all of them, or
        one half."""
        if self.half is None:
            return config
        shares: dict[str, Any] = {name: _part(getattr(config, name), self.half, _HALVES) for name in _SENTENCE_COUNTS}
        return replace(config, **shares)

    def summary(self) -> dict:
        """What metadata.json records about the teacher."""
        return {"calibration": asdict(self.calibration), "validation_sentences": self.figures, "half": self.half}


def _part(count: int, part: int, parts: int) -> int:
    """The size of part `part` of `count` cut into `parts` parts that differ by one at most."""
    return count * (part + 1) // parts - count * part // parts


def sentence_labellers(
    train: Reviews, validation: Reviews, sure_reviews: Reviews, review_calibration: Platt, config: TrainConfig
) -> Iterator[SentenceLabeller]:
    """The teachers that label the unlabelled reviews' sentences, one at a time, so that training holds
    one teacher's millions of n-grams at a time.

    Without `sure_reviews`, the sentence teacher fitted on the training reviews' sentences labels
    them all. With them, the teachers are cross-fitted: each is fitted on the training sentences and
    those of the sure reviews in one half of the unlabelled reviews, and labels the sentences of the
    other half. A teacher reads the sentences it was fitted on more surely than its calibration on
    unseen validation sentences says, and the LSTM would learn that (training/README.md).
    """
    halves: list[int | None] = list(range(_HALVES)) if len(sure_reviews) else [None]
    for half in halves:
        labeller = _fitted_labeller(train, validation, sure_reviews, review_calibration, config, half)
        is_sentence_teacher = labeller.is_sentence_teacher
        yield labeller
        # The next teacher is fitted without this one's n-grams in memory.
        del labeller
        if not is_sentence_teacher:
            return


def _fitted_labeller(
    train: Reviews,
    validation: Reviews,
    sure_reviews: Reviews,
    review_calibration: Platt,
    config: TrainConfig,
    half: int | None,
) -> SentenceLabeller:
    """The sentence teacher that labels `half` (None: all), calibrated; the review teacher where there
    is no sentence teacher."""
    fitted_on = None
    if half is not None:
        fitted_on = sure_reviews.subset(np.flatnonzero([unlabelled_half(text) != half for text in sure_reviews.texts]))
    teacher = fit_sentence_teacher(train, config, fitted_on)
    is_sentence_teacher = teacher is not None
    if teacher is None:
        # Fitted again rather than kept from before: only runs without a sentence teacher pay for it.
        teacher, half = fit_review_teacher(train, config), None
    calibration, figures = calibrated_on_sentences(teacher, validation, config.seed, review_calibration)
    return SentenceLabeller(teacher, calibration, figures, half, is_sentence_teacher)


def calibrated_on_sentences(
    teacher: NgramTeacher, validation: Reviews, seed: int, fallback: Platt
) -> tuple[Platt, dict | None]:
    """Platt scaling of `teacher` on one sentence from each validation review, and its figures there;
    `fallback` (the review calibration) and no figures where the validation reviews hold no sentence."""
    sentences = sample_sentences(validation, len(validation), seed)
    if len(sentences) == 0:
        return fallback, None
    logits = teacher.logits(sentences.texts)
    calibration = fit_platt(logits, sentences.labels)
    return calibration, classification_figures(sentences.labels, sigmoid(calibration(logits)))


def validation_rule_sentences(validation: Reviews, labeller: SentenceLabeller, seed: int) -> RuleSentences:
    """The rules applied to the sentences of validation reviews, labelled by the sentence teacher.

    The model never trains on them, so how often it agrees with their labels measures how well it
    learned each rule on sentences it has not seen: review validation loss barely notices a change
    in how the model reads "not" or "but". The negation rule uses all its forms whatever the config
    asks for training, so that runs with different rules are measured on the same texts.
    """
    sentences = all_sentences(validation).texts
    return rule_sentences(
        sentences,
        labeller.logits(sentences),
        *_VALIDATION_RULE_COUNTS,
        seed,
        negation_quantifiers=True,
        negation_objects=True,
    )


def averaged_with(
    teacher: TeacherLabels, lstm_logits: np.ndarray, lstm_validation_logits: np.ndarray, validation_labels: np.ndarray
) -> TeacherLabels:
    """A new teacher: the n-gram teacher and the LSTM averaged, with the LSTM's share and the
    temperature that validation prefers (lowest log-loss).

    The two make different mistakes (word order against exact phrases), so their average is more
    accurate than either; the LSTM then learns again from the better labels.
    """
    lstm_temperature = fit_temperature(lstm_validation_logits, validation_labels)
    lstm_logits, lstm_validation_logits = lstm_logits / lstm_temperature, lstm_validation_logits / lstm_temperature

    def mixed(share: float, ngram: np.ndarray, lstm: np.ndarray) -> np.ndarray:
        return share * lstm + (1.0 - share) * ngram

    losses = [
        log_loss(mixed(share, teacher.validation_logits, lstm_validation_logits), validation_labels)
        for share in _LSTM_SHARES
    ]
    share = float(_LSTM_SHARES[int(np.argmin(losses))])
    validation_logits = mixed(share, teacher.validation_logits, lstm_validation_logits)
    temperature = fit_temperature(validation_logits, validation_labels)
    figures = classification_figures(validation_labels, sigmoid(validation_logits / temperature))
    logger.info("averaged teacher: LSTM share %.1f, validation accuracy %.4f", share, figures["accuracy"])
    summary = {**teacher.summary, "averaged": {"lstm_share": share, "temperature": temperature, "validation": figures}}
    logits = mixed(share, teacher.logits, lstm_logits) / temperature
    return TeacherLabels(teacher.texts, logits, validation_logits / temperature, summary, teacher.validation_rules)


def combined(labelled: Reviews, teacher_labelled: Reviews) -> Reviews:
    """The labelled reviews (hard labels) followed by the teacher-labelled texts (soft labels)."""
    return Reviews(labelled.texts, labelled.labels.astype(np.float32)).followed_by(teacher_labelled)


def distil_again(
    model: keras.Model,
    config: TrainConfig,
    teacher: TeacherLabels,
    labelled: Reviews,
    validation: Reviews,
    vectorizer: keras.layers.TextVectorization,
    validation_batches: tf.data.Dataset,
    log_dir: Path,
) -> tuple[keras.Model, TeacherLabels, dict[str, list[float]]]:
    """A further round: average the teacher with the LSTM, relabel the unlabelled texts, and train a
    copy of the LSTM on the new labels. Returns the copy if it lowered validation loss (else the
    model as it was), the new teacher and the round's curves."""
    teacher = averaged_with(
        teacher,
        logits_in_order(model, vectorizer, teacher.texts, config.model),
        logits_in_order(model, vectorizer, validation.texts, config.model),
        validation.labels,
    )
    # A copy starts its epochs at 0: the model of a resumed first round keeps that round's epoch.
    student = build_model(config.model)
    student.set_weights(model.get_weights())
    student.get_layer("embedding").trainable = model.get_layer("embedding").trainable
    reviews = combined(labelled, teacher.as_reviews())
    training_batches = batched(
        vectorizer, reviews, config.model, config.batch_size, config.seed + 1, config.batch_tokens
    )
    trainer = compiled_trainer(student, config, training_batches)
    # The copy holds the model's weights until it is fitted.
    before = trainer.evaluate(validation_batches, verbose=0, return_dict=True)["loss"]
    history = trainer.fit(
        training_batches,
        validation_data=validation_batches,
        epochs=config.teacher_round_epochs,
        callbacks=round_callbacks(config, config.teacher_round_epochs, log_dir),
        verbose=progress_verbosity(),
        shuffle=False,  # The dataset shuffles itself, in buckets of similar length.
    )
    curves = {name: [float(value) for value in values] for name, values in history.history.items()}
    if min(curves.get("val_loss", [np.inf])) >= before:
        logger.info("training on the averaged teacher's labels did not lower validation loss; weights kept")
        return model, teacher, curves
    return student, teacher, curves
