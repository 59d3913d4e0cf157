"""Cutting a batch into model calls of texts of similar length.

A masked LSTM still computes every padded step, so a call padded to one long review makes every
short text beside it cost as much as that review. Sorting by length and calling the model once per
group of similar lengths removes most of that waste; padding is masked, so no score changes.
"""

from collections.abc import Callable, Sequence
from itertools import pairwise
from typing import TypeVar

Result = TypeVar("Result")


def length_groups(lengths: Sequence[int], group_size: int) -> list[list[int]]:
    """Indexes into `lengths`, shortest first, in groups of at most `group_size` (0: one group in
    the original order)."""
    if group_size <= 0 or len(lengths) <= group_size:
        return [list(range(len(lengths)))]
    order = sorted(range(len(lengths)), key=lengths.__getitem__)
    count = -(-len(order) // group_size)
    # Groups of nearly equal size: 65 texts in groups of 32 become 22, 22 and 21, not 32, 32 and 1.
    bounds = [round(part * len(order) / count) for part in range(count + 1)]
    return [order[start:end] for start, end in pairwise(bounds)]


def in_length_groups(
    predict: Callable[[list[str]], Sequence[Result]], group_size: int
) -> Callable[[list[str]], list[Result]]:
    """`predict` called once per group of texts of similar length, its results put back in the
    order of the texts. Characters stand in for tokens, which only the model counts."""

    def grouped(texts: list[str]) -> list[Result]:
        groups = length_groups([len(text) for text in texts], group_size)
        if len(groups) == 1 and groups[0] == list(range(len(texts))):
            return list(predict(texts))
        positions = [index for group in groups for index in group]
        results = [result for group in groups for result in predict([texts[index] for index in group])]
        if len(results) != len(texts):
            raise ValueError(f"predict returned {len(results)} results for {len(texts)} texts")
        return [result for _, result in sorted(zip(positions, results, strict=True), key=lambda pair: pair[0])]

    return grouped
