"""Single sentences cut from reviews, each labelled with its review's label.

Users send one-liners as often as full reviews. Sentences serve three ends: the short-text figures
of evaluation, extra one-liners for training (`with_sentences`), and the material of the sentence
teacher. A sentence inherits its review's label, which is noisy (a positive review can hold a
negative sentence), so a figure measured on them is a floor, not a ceiling.
"""

import logging
import re

import numpy as np

from training.data import Reviews

logger = logging.getLogger(__name__)

_LINE_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_MIN_WORDS = 4
_MAX_WORDS = 30


def sentences_of(text: str) -> list[str]:
    """The sentences of a review with 4 to 30 words."""
    pieces = _SENTENCE_END.split(_LINE_BREAK.sub(" ", text))
    return [piece.strip() for piece in pieces if _MIN_WORDS <= len(piece.split()) <= _MAX_WORDS]


def all_sentences(reviews: Reviews) -> Reviews:
    """Every sentence of every review, each labelled like its review."""
    texts, labels = [], []
    for text, label in zip(reviews.texts, reviews.labels, strict=True):
        pieces = sentences_of(text)
        texts.extend(pieces)
        labels.extend([label] * len(pieces))
    return Reviews(texts, np.array(labels, dtype=np.int64))


def sample_sentences(reviews: Reviews, count: int, seed: int) -> Reviews:
    """`count` random sentences: one from each of `count` random reviews, or, when `count` is larger
    than the reviews that have one, a second from each of them, and so on (see sample_passages)."""
    return sample_passages(reviews, count, seed, length=1)


def sample_passages(reviews: Reviews, count: int, seed: int, length: int = 2) -> Reviews:
    """`count` random passages of `length` neighbouring sentences, each with its review's label.

    The first pass over the reviews, in a random order, takes at most one passage from each; when
    that gives fewer than `count`, further passes in the same order take another from each review
    that has a passage left to give (one starting at another sentence), until `count` or none is
    left. A count up to the number of reviews therefore picks the same passages whatever the passes
    after the first would do.
    """
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(reviews))
    taken: dict[int, set[int]] = {}
    texts: list[str] = []
    labels: list[int] = []
    while len(texts) < count:
        before = len(texts)
        for index in map(int, order):
            candidates = sentences_of(reviews.texts[index])
            used = taken.setdefault(index, set())
            free = [start for start in range(len(candidates) - length + 1) if start not in used]
            if free:
                start = free[int(rng.integers(len(free)))]
                used.add(start)
                texts.append(" ".join(candidates[start : start + length]))
                labels.append(int(reviews.labels[index]))
            if len(texts) == count:
                break
        if len(texts) == before:
            break
    return Reviews(texts, np.array(labels, dtype=np.int64))


def with_sentences(reviews: Reviews, fraction: float, seed: int) -> Reviews:
    """The reviews plus `fraction` as many single sentences cut from them, each labelled like its review."""
    count = round(fraction * len(reviews))
    if count == 0:
        return reviews
    sentences = sample_sentences(reviews, count, seed)
    logger.info("training on %d reviews and %d sentences cut from them", len(reviews), len(sentences))
    return reviews.followed_by(sentences)
