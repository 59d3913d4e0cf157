"""Loading a version, and cutting a batch into model calls of texts of similar length."""

from pathlib import Path

import pytest

from app.model_store import load_version
from model.grouping import in_length_groups, length_groups


def test_length_groups_sort_by_length_and_split_evenly():
    texts = ["x" * length for length in (50, 3, 20, 1, 40, 7, 9)]
    groups = length_groups([len(text) for text in texts], group_size=3)
    assert [len(group) for group in groups] == [2, 3, 2]
    flattened = [index for group in groups for index in group]
    assert sorted(flattened) == list(range(len(texts)))
    assert [len(texts[index]) for index in flattened] == sorted(len(text) for text in texts)


@pytest.mark.parametrize("group_size", [0, 7, 100])
def test_a_batch_no_larger_than_a_group_is_one_call_in_its_own_order(group_size: int):
    texts = [str(number) * number for number in range(7, 0, -1)]
    assert length_groups([len(text) for text in texts], group_size) == [list(range(7))]


def test_grouped_calls_give_every_text_its_own_score_in_input_order(tiny_version: Path):
    texts = [
        "great " * 40,
        "awful",
        "a dull and boring film " * 8,
        "fine",
        "wonderful acting, a moving story " * 3,
        "bad bad bad",
        "the plot was slow but the ending great",
    ]
    model = load_version(tiny_version)
    calls: list[int] = []

    def counted(batch: list[str]):
        calls.append(len(batch))
        return model.predict(batch)

    whole = model.predict(texts)
    grouped = in_length_groups(counted, group_size=2)(texts)
    assert len(calls) == 4 and max(calls) <= 2 and sum(calls) == len(texts)
    assert [score.known_token_count for score in grouped] == [score.known_token_count for score in whole]
    for alone, in_groups in zip(whole, grouped, strict=True):
        assert in_groups.positive_probability == pytest.approx(alone.positive_probability, abs=1e-5)
    assert len({round(score.positive_probability, 6) for score in whole}) > 1
