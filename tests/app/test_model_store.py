"""Loading a version, and cutting a batch into model calls of texts of similar length."""

import itertools
import shutil
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from app.model_store import Buckets, CompiledForward, ShapeTiming, load_version, plan_calls
from model.artifact import METADATA_FILE, SIGNATURE_NAME
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


SCORED = [
    "wonderful superb film",
    "awful boring dull film " * 30,  # Longer than the tiny model's 48 tokens: truncated, as exported.
    "🎬🍿 ?!",  # No known word.
    "the plot was great but the acting awful",
    "fine",
] * 15


def test_the_xla_forward_scores_as_the_plain_savedmodel_and_compiles_nothing_after_loading(tiny_version: Path):
    compiled = load_version(tiny_version, Buckets(lengths=(4, 16), batch_sizes=(1, 4, 16)))
    assert isinstance(compiled.forward, CompiledForward)
    shapes = compiled.forward.compiled_shapes()
    assert len(shapes) == 3 * 3
    plain = tf.saved_model.load(str(tiny_version)).signatures[SIGNATURE_NAME]
    # Batches of one, of sizes between buckets, and larger than the largest bucket (cut in calls).
    for size in (1, 3, 16, 23, len(SCORED)):
        batch = SCORED[:size]
        expected = plain(texts=tf.constant(batch))
        scores = compiled.predict(batch)
        got = [score.positive_probability for score in scores]
        np.testing.assert_allclose(got, expected["positive_probability"].numpy(), atol=1e-4)
        assert [score.known_token_count for score in scores] == expected["known_token_count"].numpy().tolist()
    assert compiled.forward.compiled_shapes() == shapes


def test_a_version_without_the_halves_is_served_by_serving_default(tiny_version: Path, tmp_path: Path):
    # An older export: serving_default alone.
    loaded = tf.saved_model.load(str(tiny_version))
    older = tmp_path / "1"
    tf.saved_model.save(loaded, str(older), signatures={SIGNATURE_NAME: loaded.signatures[SIGNATURE_NAME]})
    shutil.copy(tiny_version / METADATA_FILE, older / METADATA_FILE)
    model = load_version(older, Buckets(lengths=(16,), batch_sizes=(4,)))
    assert not isinstance(model.forward, CompiledForward)
    expected = load_version(tiny_version).predict(SCORED[:5])
    assert model.predict(SCORED[:5]) == expected


BATCH_SIZES = (1, 4, 16)


def padded_steps(overhead: float):
    """Call times of a model that costs `overhead` per call plus one unit per padded row and step it
    computes (rows up to a batch size, steps up to the longest text)."""

    def call_time(texts: int, longest: int) -> float:
        return overhead + min(size for size in BATCH_SIZES if size >= texts) * longest

    return call_time


def total_time(calls: list[tuple[int, int]], lengths: list[int], call_time) -> float:
    return sum(call_time(end - start, lengths[end - 1]) for start, end in calls)


def every_cut(count: int, largest: int) -> list[list[tuple[int, int]]]:
    """Every way to cut `count` sorted texts into consecutive calls of at most `largest` texts."""
    plans = []
    for cuts in itertools.product([False, True], repeat=count - 1):
        bounds = [0] + [index + 1 for index, cut in enumerate(cuts) if cut] + [count]
        calls = list(itertools.pairwise(bounds))
        if all(end - start <= largest for start, end in calls):
            plans.append(calls)
    return plans


@pytest.mark.parametrize("seed", range(6))
def test_the_planned_calls_take_the_least_time_of_every_way_to_cut_the_batch(seed: int):
    rng = np.random.default_rng(seed)
    lengths = sorted(int(length) for length in rng.integers(1, 129, size=int(rng.integers(2, 11))))
    call_time = padded_steps(overhead=float(rng.choice([0, 40, 400])))
    calls = plan_calls(lengths, BATCH_SIZES, call_time)
    assert [start for start, _ in calls] == [0] + [end for _, end in calls[:-1]]
    assert calls[-1][1] == len(lengths) and all(0 < end - start <= 16 for start, end in calls)
    fastest = min(total_time(plan, lengths, call_time) for plan in every_cut(len(lengths), largest=16))
    assert total_time(calls, lengths, call_time) == pytest.approx(fastest)


def test_a_long_text_gets_a_call_of_its_own_rather_than_lengthening_the_short_ones():
    lengths = [5] * 15 + [120]
    assert plan_calls(lengths, BATCH_SIZES, padded_steps(overhead=40)) == [(0, 15), (15, 16)]
    # When a call costs far more than its steps, one call is cheapest again.
    assert plan_calls(lengths, BATCH_SIZES, padded_steps(overhead=100_000)) == [(0, 16)]


def test_a_batch_larger_than_every_bucket_is_cut_into_calls_that_fit_one():
    calls = plan_calls([10] * 40, BATCH_SIZES, padded_steps(overhead=40))
    # Two full calls and two of four texts: a third call of sixteen would pad eight rows.
    assert sorted(end - start for start, end in calls) == [4, 4, 16, 16]


def test_a_shapes_time_grows_with_the_longest_text_between_its_two_timings():
    timing = ShapeTiming(one_step_s=1.0, every_step_s=5.0)
    assert [timing.seconds(longest, width=9) for longest in (0, 1, 5, 9, 20)] == [1.0, 1.0, 3.0, 5.0, 5.0]


def test_the_compiled_forward_times_every_shape_it_compiles(tiny_version: Path):
    compiled = load_version(tiny_version, Buckets(lengths=(4, 16), batch_sizes=(1, 4)))
    assert isinstance(compiled.forward, CompiledForward)
    timings = compiled.forward.shape_timings()
    assert set(timings) == compiled.forward.compiled_shapes()
    # Measured, then made monotone: a shape never takes less than one it contains.
    assert all(0 < timing.one_step_s <= timing.every_step_s for timing in timings.values())
    assert timings[(4, 16)].every_step_s >= max(timings[(1, 16)].every_step_s, timings[(4, 4)].every_step_s)
    # A call of more, or of longer, texts is never expected to be quicker.
    forward = compiled.forward
    assert forward.call_time(1, 2) <= forward.call_time(1, 12) <= forward.call_time(3, 12) <= forward.call_time(4, 16)
