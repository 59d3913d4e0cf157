import keras
import numpy as np

from model.architecture import build_model


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
