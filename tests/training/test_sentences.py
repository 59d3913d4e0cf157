import numpy as np

from training.data import Reviews
from training.sentences import all_sentences, sample_passages, sample_sentences, sentences_of


def test_sentences_are_split_on_end_marks_and_line_breaks_and_kept_between_4_and_30_words():
    text = "Loved it. Truly a superb film from start to end!<br /><br />Go see it now, really. " + "word " * 40 + "."
    assert sentences_of(text) == ["Truly a superb film from start to end!", "Go see it now, really."]


def test_each_sampled_sentence_comes_from_a_review_with_the_same_label():
    reviews = Reviews(
        ["A fine film with a great cast. Bad ending though, sadly.", "Not worth a minute of your time. Avoid."],
        np.array([1, 0]),
    )
    # More than the reviews have: every sentence, once.
    short = sample_sentences(reviews, count=10, seed=0)
    assert sorted(short.texts) == sorted(all_sentences(reviews).texts)
    for text, label in zip(short.texts, short.labels, strict=True):
        source = next(index for index, review in enumerate(reviews.texts) if text in review)
        assert reviews.labels[source] == label


def test_all_sentences_of_every_review_keep_their_review_order_and_label():
    reviews = Reviews(
        ["A fine film with a great cast. Loved every single minute.", "Too short.", "A dull mess of a film."],
        np.array([1, 1, 0]),
    )
    every = all_sentences(reviews)
    assert every.texts == ["A fine film with a great cast.", "Loved every single minute.", "A dull mess of a film."]
    assert every.labels.tolist() == [1, 1, 0]


def test_sampling_is_seeded_and_bounded():
    reviews = Reviews([f"Sentence number {n} is here. And another one {n} here." for n in range(50)], np.zeros(50))
    first = sample_sentences(reviews, count=20, seed=3)
    assert len(first) == 20
    assert sample_sentences(reviews, count=20, seed=3).texts == first.texts


def test_training_adds_one_sentence_per_review_labelled_like_it():
    from training.sentences import with_sentences

    reviews = Reviews(
        [f"Review {n} starts here. It is {'great' if n % 2 else 'awful'} in every way." for n in range(20)],
        np.array([n % 2 for n in range(20)]),
    )
    extended = with_sentences(reviews, 0.5, seed=1337)
    assert extended.texts[:20] == reviews.texts
    added = list(zip(extended.texts[20:], extended.labels[20:], strict=True))
    assert len(added) == 10
    for sentence, label in added:
        source = next(index for index, text in enumerate(reviews.texts) if sentence in text)
        assert reviews.labels[source] == label
    assert with_sentences(reviews, 0, seed=1337) is reviews


def test_passages_are_neighbouring_sentences_of_one_review_with_its_label():
    reviews = Reviews(
        [
            "The film opens at night. The lead is superb. The music is wonderful too. I loved it.",
            "It drags on and on. The acting is wooden.",
            "Too short.",  # no sentence of four words or more
            "Only one sentence of enough words here.",
        ],
        np.array([1, 0, 1, 0], dtype=np.int64),
    )
    # More than the reviews have: every passage (two in the first review, one in the second), once.
    passages = sample_passages(reviews, count=10, seed=3)
    assert len(set(passages.texts)) == len(passages) == 3
    for text, label in zip(passages.texts, passages.labels, strict=True):
        source = next(index for index, review in enumerate(reviews.texts) if text in review)
        assert label == reviews.labels[source]
        first, second = sentences_of(text)
        assert f"{first} {second}" in reviews.texts[source]
    starts = {sample_passages(reviews, count=1, seed=seed).texts[0].split(".")[0] for seed in range(30)}
    assert len(starts) > 2  # the passage starts anywhere in its review


def test_more_sentences_than_reviews_take_further_distinct_sentences_from_each_review():
    reviews = Reviews(
        [f"Review {n} opens here. It goes on for {n} hours. Then it closes {n} nicely." for n in range(10)]
        + ["Too short."],
        np.array([n % 2 for n in range(10)] + [1], dtype=np.int64),
    )
    one_each = sample_sentences(reviews, count=10, seed=5)
    two_each = sample_sentences(reviews, count=20, seed=5)
    every = sample_sentences(reviews, count=1000, seed=5)
    # The first pass is what a count up to the number of reviews draws.
    assert two_each.texts[:10] == one_each.texts
    assert len({_source(reviews, text) for text in one_each.texts}) == 10
    assert len(set(two_each.texts)) == 20
    assert sorted(every.texts) == sorted(all_sentences(reviews).texts)
    for text, label in zip(every.texts, every.labels, strict=True):
        assert reviews.labels[_source(reviews, text)] == label


def _source(reviews: Reviews, text: str) -> int:
    return next(index for index, review in enumerate(reviews.texts) if text in review)
