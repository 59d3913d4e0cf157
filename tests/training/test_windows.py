"""Overlapping windows in the exported model: a long text is read whole and its window logits averaged."""

from dataclasses import replace

import keras
import numpy as np
import pytest
import tensorflow as tf

from model.architecture import build_model
from tests.conftest import CUT_WORDS, SHORT_CUT_MODEL, adapted_vectorizer
from training.export import write_savedmodel
from training.long_reviews import model_tokens, windowed_probabilities

TEMPERATURE = 1.7


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The same untrained tiny model exported twice: with head+tail truncation and with windows."""
    keras.utils.set_random_seed(3)
    config = SHORT_CUT_MODEL
    vectorizer = adapted_vectorizer(config)
    model = build_model(config)
    # Export needs built layers; training builds them by using them, so does this.
    model(vectorizer(tf.constant(["the film"])).to_tensor())
    signatures = {"config": config}
    for name, stride in (("head_tail", 0), ("windows", 5)):
        folder = tmp_path_factory.mktemp(name)
        write_savedmodel(folder, model, vectorizer, replace(config, window_stride=stride), TEMPERATURE)
        signatures[name] = tf.saved_model.load(str(folder)).signatures["serving_default"]
    return signatures


def probabilities(signature, texts: list[str]) -> np.ndarray:
    return signature(texts=tf.constant(texts))["positive_probability"].numpy()


def texts_of(lengths: list[int], seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(CUT_WORDS, size=length)).capitalize() + "!" for length in lengths]


def test_short_texts_score_the_same_with_windows_as_with_head_and_tail(exported):
    # Up to exactly the sequence length, counting the boundary token that each text's "!" becomes.
    config = exported["config"]
    texts = texts_of([1, 5, config.sequence_length - int(config.sentence_boundaries)])
    np.testing.assert_allclose(
        probabilities(exported["windows"], texts), probabilities(exported["head_tail"], texts), atol=1e-6
    )


def test_a_long_texts_probability_is_the_mean_of_its_window_logits(exported):
    texts = texts_of([13, 30, 47])
    config = replace(exported["config"], window_stride=5)
    # The same windows scored one by one by the head+tail export (each fits, so none is cut).
    expected = windowed_probabilities(exported["head_tail"], model_tokens(texts, config), config)
    windowed = probabilities(exported["windows"], texts)
    np.testing.assert_allclose(windowed, expected, atol=1e-5)
    assert not np.allclose(windowed, probabilities(exported["head_tail"], texts), atol=1e-4)


def test_a_windowed_texts_probability_is_the_same_alone_and_in_any_batch(exported):
    texts = texts_of([3, 40, 0, 13, 25], seed=1) + [""]
    batched = probabilities(exported["windows"], texts)
    alone = np.array([probabilities(exported["windows"], [text])[0] for text in texts])
    np.testing.assert_allclose(batched, alone, atol=1e-5)
    np.testing.assert_allclose(probabilities(exported["windows"], texts[::-1])[::-1], alone, atol=1e-5)


def test_windows_count_known_words_over_the_whole_text(exported):
    outputs = exported["windows"](texts=tf.constant(["great " * 30, "zebra", ""]))
    assert outputs["known_token_count"].numpy().tolist() == [30, 0, 0]
