import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from model.architecture import (
    EMBEDDING_LAYER,
    FusedRecurrence,
    build_model,
    fused_lstm,
    logit_from_embeddings,
    logit_to_longest,
    lstm_to_longest,
    with_fused_recurrence,
)
from model.config import ModelConfig


def recurrent_layers(model: keras.Model) -> list[keras.layers.Layer]:
    return [layer for layer in model.layers if isinstance(layer, keras.layers.Bidirectional | keras.layers.LSTM)]


def test_model_stacks_the_configured_lstm_layers(tiny_config):
    model = build_model(tiny_config)
    assert len(recurrent_layers(model)) == len(tiny_config.lstm_units) >= 2
    assert model.output.shape == (None,)


def test_padding_does_not_change_the_logit(tiny_config):
    model = build_model(tiny_config)
    tokens = np.array([[5, 9, 3, 12]])
    padded = np.array([[5, 9, 3, 12, 0, 0, 0, 0, 0]])
    np.testing.assert_allclose(model(padded).numpy(), model(tokens).numpy(), atol=1e-6)


def test_a_fully_padded_row_gives_a_finite_logit_without_disturbing_its_batch(tiny_config):
    model = build_model(tiny_config)
    batch = np.array([[0, 0, 0], [7, 8, 9]])
    logits = model(batch).numpy()
    assert np.all(np.isfinite(logits))
    np.testing.assert_allclose(logits[1], model(np.array([[7, 8, 9]])).numpy()[0], atol=1e-6)


def test_build_model_is_deterministic_under_a_seed(tiny_config):
    keras.utils.set_random_seed(3)
    first = build_model(tiny_config).get_weights()
    keras.utils.set_random_seed(3)
    second = build_model(tiny_config).get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))


@pytest.mark.parametrize("recurrent", [fused_lstm, lstm_to_longest])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_each_recurrent_layer_gives_kerass_outputs_and_input_gradients_on_padded_texts(go_backwards: bool, recurrent):
    keras.utils.set_random_seed(3)
    layer = keras.layers.LSTM(6, return_sequences=True, go_backwards=go_backwards)
    inputs = tf.random.normal([3, 7, 5])
    lengths = tf.constant([7, 4, 1], dtype=tf.int64)
    mask = tf.sequence_mask(lengths, 7)
    weights = tf.cast(mask, tf.float32)[:, :, None]
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(inputs)
        expected = layer(inputs, mask=mask)
        if go_backwards:
            # Keras returns a backwards layer's outputs last step first, and Bidirectional flips them
            # back into time order; the fused op keeps time order.
            expected = tf.reverse(expected, axis=[1])
        fused = recurrent(layer, inputs, lengths)
        expected_loss = tf.reduce_sum(tf.sin(expected) * weights)
        fused_loss = tf.reduce_sum(tf.sin(fused) * weights)
    np.testing.assert_allclose((fused * weights).numpy(), (expected * weights).numpy(), atol=1e-5)
    np.testing.assert_allclose(
        tape.gradient(fused_loss, inputs).numpy(), tape.gradient(expected_loss, inputs).numpy(), atol=1e-5
    )


@pytest.mark.parametrize("recurrent", [fused_lstm, lstm_to_longest])
@pytest.mark.parametrize("bidirectional", [True, False])
def test_the_logit_from_embeddings_is_the_models_logit(bidirectional: bool, recurrent):
    model = build_model(
        ModelConfig(vocabulary_size=50, embedding_dim=8, lstm_units=(4, 3), bidirectional=bidirectional)
    )
    token_ids = tf.constant([[5, 9, 12, 3, 7], [4, 8, 0, 0, 0], [2, 0, 0, 0, 0]], dtype=tf.int64)
    embedded = model.get_layer(EMBEDDING_LAYER)(token_ids)
    from_embeddings = logit_from_embeddings(model, embedded, tf.not_equal(token_ids, 0), recurrent)
    np.testing.assert_allclose(from_embeddings.numpy(), model(token_ids, training=False).numpy(), atol=1e-5)


@pytest.mark.parametrize("jit_compile", [False, True])
def test_the_logit_to_the_longest_text_is_the_models_whatever_the_padding_after_it(jit_compile: bool):
    model = build_model(ModelConfig(vocabulary_size=50, embedding_dim=8, lstm_units=(4, 3)))
    token_ids = np.array([[5, 9, 12, 3, 7], [4, 8, 0, 0, 0], [2, 0, 0, 0, 0], [0, 0, 0, 0, 0]])
    expected = model(token_ids, training=False).numpy()
    compute = tf.function(lambda ids: logit_to_longest(model, ids), jit_compile=jit_compile)
    # Padded wider than the longest text: the loop stops at the longest, and the scores stay.
    for width in (5, 9, 32):
        padded = np.pad(token_ids, [(0, 0), (0, width - 5)])
        np.testing.assert_allclose(compute(tf.constant(padded)).numpy(), expected, atol=1e-5)
    # A batch of empty texts only: no step at all.
    empty = np.zeros((2, 6), dtype=np.int64)
    np.testing.assert_allclose(compute(tf.constant(empty)).numpy(), model(empty, training=False).numpy(), atol=1e-5)


def test_the_fused_model_shares_the_weights_and_gives_the_same_logits_and_weight_gradients():
    keras.utils.set_random_seed(5)
    model = build_model(ModelConfig(vocabulary_size=50, embedding_dim=8, lstm_units=(4, 3), dense_units=5))
    fused = with_fused_recurrence(model)
    assert [id(variable) for variable in fused.trainable_variables] == [id(v) for v in model.trainable_variables]
    token_ids = tf.constant([[5, 9, 12, 3, 7], [4, 8, 0, 0, 0], [2, 0, 0, 0, 0], [0, 0, 0, 0, 0]], dtype=tf.int64)
    labels = tf.constant([1.0, 0.0, 0.3, 1.0])
    loss = keras.losses.BinaryCrossentropy(from_logits=True)
    gradients = []
    for each in (model, fused):
        with tf.GradientTape() as tape:
            logits = each(token_ids, training=False)
            value = loss(labels, logits)
        gradients.append(tape.gradient(value, model.trainable_variables))
        np.testing.assert_allclose(logits.numpy(), model(token_ids, training=False).numpy(), atol=1e-5)
    for variable, expected, computed in zip(model.trainable_variables, *gradients, strict=True):
        np.testing.assert_allclose(tf.convert_to_tensor(computed).numpy(), tf.convert_to_tensor(expected).numpy(),
                                   atol=1e-5, err_msg=variable.path)  # fmt: skip
    # Dropout still applies when training: two calls draw two masks.
    training_logits = [fused(token_ids, training=True).numpy() for _ in range(2)]
    assert not np.allclose(*training_logits)


def test_the_fused_model_can_be_described_and_rebuilt():
    model = build_model(ModelConfig(vocabulary_size=50, embedding_dim=8, lstm_units=(4, 3)))
    rebuilt = keras.Model.from_config(json.loads(with_fused_recurrence(model).to_json())["config"])
    fused_layers = [layer for layer in rebuilt.layers if isinstance(layer, FusedRecurrence)]
    assert [layer.recurrent.forward_layer.units for layer in fused_layers] == [4, 3]
    assert rebuilt.count_params() == model.count_params()


def test_a_recurrent_layer_the_fused_op_cannot_compute_is_refused():
    with pytest.raises(ValueError, match="not a plain LSTM"):
        FusedRecurrence(keras.layers.LSTM(4, return_sequences=True, recurrent_dropout=0.2))
