"""Carve a validation split out of the training reviews, by movie where the movie is known."""

import numpy as np

from training.data import Reviews


def split_validation(reviews: Reviews, fraction: float, seed: int) -> tuple[Reviews, Reviews]:
    """Return (train, validation), each label's share of validation close to `fraction`.

    One movie has up to 30 correlated reviews; a validation split that shares movies with the
    training part flatters the model, so whole movies go to one side when the movies are known.
    """
    rng = np.random.default_rng(seed)
    if reviews.movies is None:
        validation = _stratified_indices(reviews.labels, fraction, rng)
    else:
        validation = _movie_indices(reviews, fraction, rng)
    is_validation = np.zeros(len(reviews), dtype=bool)
    is_validation[validation] = True
    return reviews.subset(np.flatnonzero(~is_validation)), reviews.subset(np.flatnonzero(is_validation))


def _stratified_indices(labels: np.ndarray, fraction: float, rng: np.random.Generator) -> np.ndarray:
    chosen = []
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        chosen.append(members[: round(fraction * len(members))])
    return np.sort(np.concatenate(chosen))


def _movie_indices(reviews: Reviews, fraction: float, rng: np.random.Generator) -> np.ndarray:
    """Add whole movies in random order while no label overshoots its target count."""
    movies = np.array(reviews.movies)
    targets = {label: fraction * np.sum(reviews.labels == label) for label in (0, 1)}
    counts = {0: 0, 1: 0}
    chosen = []
    for movie in rng.permutation(np.unique(movies)):
        members = np.flatnonzero(movies == movie)
        member_counts = {label: int(np.sum(reviews.labels[members] == label)) for label in (0, 1)}
        if all(counts[label] + member_counts[label] <= targets[label] for label in (0, 1)):
            chosen.append(members)
            for label in (0, 1):
                counts[label] += member_counts[label]
    return np.sort(np.concatenate(chosen)) if chosen else np.array([], dtype=np.int64)
