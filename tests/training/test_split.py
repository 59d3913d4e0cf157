import numpy as np

from training.data import Reviews
from training.split import split_validation


def reviews(count: int, with_movies: bool) -> Reviews:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, size=count)
    movies = [f"tt{index // 7}" for index in range(count)] if with_movies else None
    return Reviews([f"review {index}" for index in range(count)], labels, movies)


def test_no_movie_is_on_both_sides():
    train, validation = split_validation(reviews(1400, with_movies=True), 0.2, seed=1)
    assert set(train.movies).isdisjoint(validation.movies)
    assert len(train) + len(validation) == 1400


def test_each_label_keeps_close_to_its_share():
    data = reviews(1400, with_movies=True)
    _, validation = split_validation(data, 0.2, seed=1)
    for label in (0, 1):
        share = np.sum(validation.labels == label) / np.sum(data.labels == label)
        assert 0.17 <= share <= 0.2


def test_without_movies_the_split_is_stratified_exactly():
    data = reviews(1000, with_movies=False)
    train, validation = split_validation(data, 0.1, seed=1)
    for label in (0, 1):
        assert np.sum(validation.labels == label) == round(0.1 * np.sum(data.labels == label))
    assert set(train.texts).isdisjoint(validation.texts)


def test_the_seed_decides_the_split():
    data = reviews(700, with_movies=True)
    first = split_validation(data, 0.2, seed=5)[1].texts
    assert split_validation(data, 0.2, seed=5)[1].texts == first
    assert split_validation(data, 0.2, seed=6)[1].texts != first
