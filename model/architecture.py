"""The stacked-LSTM classifier, built with the Functional API."""

import inspect

import keras
from keras import layers, ops

from model.config import ModelConfig

EMBEDDING_LAYER = "embedding"


class MaskedMeanMaxPooling(layers.Layer):
    """Concatenate the mean and the max over time of the unmasked steps.

    A row with no unmasked step (an empty text) pools to zeros instead of dividing by zero.
    """

    def call(self, inputs, mask=None):
        if mask is None:
            mask = ops.ones(ops.shape(inputs)[:2], dtype="bool")
        weights = ops.expand_dims(ops.cast(mask, inputs.dtype), axis=-1)
        steps = ops.sum(weights, axis=1)
        mean = ops.sum(inputs * weights, axis=1) / ops.maximum(steps, 1.0)
        masked_inputs = ops.where(weights > 0, inputs, ops.full_like(inputs, -1e9))
        maximum = ops.where(steps > 0, ops.max(masked_inputs, axis=1), ops.zeros_like(mean))
        return ops.concatenate([mean, maximum], axis=-1)

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        return (input_shape[0], 2 * input_shape[-1])


def build_model(config: ModelConfig) -> keras.Model:
    """Token ids (0 = padding) in, one logit per text out (positive sentiment when above 0)."""
    token_ids = keras.Input(shape=(None,), dtype="int64", name="token_ids")
    x = layers.Embedding(config.vocabulary_size, config.embedding_dim, mask_zero=True, name=EMBEDDING_LAYER)(token_ids)
    x = layers.SpatialDropout1D(config.dropout, name="embedding_dropout")(x)
    for index, units in enumerate(config.lstm_units):
        lstm = layers.LSTM(units, return_sequences=True, name=f"lstm_{index}")
        x = layers.Bidirectional(lstm, name=f"bidirectional_{index}")(x) if config.bidirectional else lstm(x)
    x = MaskedMeanMaxPooling(name="pooling")(x)
    x = layers.Dropout(config.dropout, name="head_dropout")(x)
    x = layers.Dense(config.dense_units, activation="relu", name="dense")(x)
    logit = layers.Dense(1, name="logit")(x)
    logit = layers.Reshape((), name="squeeze")(logit)
    return keras.Model(token_ids, logit, name="sentiment_lstm")


def logit_from_embeddings(model: keras.Model, embedded, mask):
    """The logit `model` gives a text whose embedding layer output is `embedded` ([batch, steps,
    width]) with `mask` ([batch, steps], False on padding), in inference mode.

    Explanations need the model as a function of its embeddings, to take gradients with respect to
    them. This runs the layers after the embedding in order, handing the mask to those that take
    one, as Keras does when it propagates the embedding's mask.
    """
    layers_after = model.layers[[layer.name for layer in model.layers].index(EMBEDDING_LAYER) + 1 :]
    x = embedded
    for layer in layers_after:
        arguments = inspect.signature(layer.call).parameters
        options = {}
        if "mask" in arguments and mask is not None:
            options["mask"] = mask
        if "training" in arguments:
            options["training"] = False
        inputs, x = x, layer(x, **options)
        # After pooling, no step is left to mask.
        if mask is not None and layer.compute_mask(inputs, mask) is None:
            mask = None
    return x
