"""The stacked-LSTM classifier, built with the Functional API."""

import inspect
from collections.abc import Callable
from typing import Any

import keras
from keras import layers, ops

from model.artifact import PADDING_ID
from model.config import ModelConfig

EMBEDDING_LAYER = "embedding"
# One recurrent layer over right-padded inputs: (layer, inputs [batch, steps, width], lengths) -> outputs.
RecurrentLayer = Callable[[layers.LSTM, Any, Any], Any]


# Registered so that a model holding these layers can be rebuilt from its config.
@keras.saving.register_keras_serializable(package="sentiment")
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


def logit_from_embeddings(model: keras.Model, embedded, mask, recurrent: RecurrentLayer | None = None):
    """The logit `model` gives a text whose embedding layer output is `embedded` ([batch, steps,
    width]) with `mask` ([batch, steps], False on padding after each text), in inference mode.

    This runs the layers after the embedding in order, handing the mask to those that take one,
    as Keras does when it propagates the embedding's mask, except that the recurrent layers run as
    `recurrent` (by default `fused_lstm`) instead of Keras's step-by-step loop: the same
    arithmetic, computed another way. Explanations need the model as a function of its embeddings,
    to take gradients with respect to them, and the fused op's gradient costs a fraction of the
    loop's, whose every step pays for many small ops; compiled serving runs `lstm_to_longest`.
    """
    import tensorflow as tf

    recurrent = recurrent or fused_lstm
    layers_after = model.layers[[layer.name for layer in model.layers].index(EMBEDDING_LAYER) + 1 :]
    lengths = tf.reduce_sum(tf.cast(mask, tf.int64), axis=1)
    x = embedded
    for layer in layers_after:
        if _is_fusable(layer):
            x = recurrent_outputs(layer, x, lengths, recurrent)
            continue
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


def logit_to_longest(model: keras.Model, token_ids):
    """The logit `model` gives right-padded `token_ids` (0 is padding), computed with every recurrent
    layer stopping after the batch's longest text (`lstm_to_longest`)."""
    import tensorflow as tf

    embedded = model.get_layer(EMBEDDING_LAYER)(token_ids)
    return logit_from_embeddings(model, embedded, tf.not_equal(token_ids, PADDING_ID), lstm_to_longest)


def _is_plain_lstm(layer: layers.Layer) -> bool:
    """Whether an LSTM layer computes what `fused_lstm` computes: the standard activations, every step,
    no dropout inside the layer (the fused op has none)."""
    return (
        isinstance(layer, layers.LSTM)
        and layer.return_sequences
        and not layer.stateful
        and layer.cell.activation is keras.activations.tanh
        and layer.cell.recurrent_activation is keras.activations.sigmoid
        and layer.cell.dropout == 0
        and layer.cell.recurrent_dropout == 0
    )


def _is_fusable(layer: layers.Layer) -> bool:
    """A plain LSTM layer, or a Bidirectional pair of them whose outputs are concatenated."""
    if isinstance(layer, layers.Bidirectional):
        pair = (layer.forward_layer, layer.backward_layer)
        return layer.merge_mode == "concat" and all(_is_plain_lstm(direction) for direction in pair)
    return _is_plain_lstm(layer)


def recurrent_outputs(layer: layers.Layer, inputs, lengths, recurrent: RecurrentLayer):
    """What a fusable layer (`_is_fusable`) returns for right-padded `inputs` of `lengths`, with each
    LSTM run as `recurrent`."""
    if isinstance(layer, layers.Bidirectional):
        forward = recurrent(layer.forward_layer, inputs, lengths)
        return ops.concatenate([forward, recurrent(layer.backward_layer, inputs, lengths)], axis=-1)
    return recurrent(layer, inputs, lengths)


@keras.saving.register_keras_serializable(package="sentiment")
class FusedRecurrence(layers.Layer):
    """Runs a fusable recurrent layer (`_is_fusable`) of another model as `fused_lstm`, on that layer's
    own weights, over right-padded and masked inputs.

    Keras's masked loop runs a dozen small ops per step of each direction, in training and in its
    gradient; the fused op runs one kernel over all steps. Training through it computes the same
    arithmetic in about two thirds of the time on a CPU (training/README.md, "The fused LSTM op in
    training").
    """

    def __init__(self, recurrent: layers.Layer, **kwargs):
        super().__init__(**kwargs)
        if not _is_fusable(recurrent):
            raise ValueError(f"{recurrent.name} is not a plain LSTM layer or a Bidirectional pair of them")
        self.recurrent = recurrent
        self.supports_masking = True

    def call(self, inputs, mask=None):
        import tensorflow as tf

        if mask is None:
            mask = tf.ones(tf.shape(inputs)[:2], dtype=tf.bool)
        lengths = tf.reduce_sum(tf.cast(mask, tf.int64), axis=1)
        return recurrent_outputs(self.recurrent, inputs, lengths, fused_lstm)

    def compute_output_shape(self, input_shape):
        return self.recurrent.compute_output_shape(input_shape)

    # A config, as Bidirectional has one, so that a model holding this layer can be described
    # (TensorBoard writes the fitted model's config) and rebuilt, with weights of its own.
    def get_config(self) -> dict:
        return {**super().get_config(), "recurrent": keras.saving.serialize_keras_object(self.recurrent)}

    @classmethod
    def from_config(cls, config: dict) -> "FusedRecurrence":
        config = dict(config)
        return cls(keras.saving.deserialize_keras_object(config.pop("recurrent")), **config)


def with_fused_recurrence(model: keras.Model) -> keras.Model:
    """A model that shares every layer and weight of `model`, a chain of layers as `build_model` makes
    it, except that its fusable recurrent layers run as `FusedRecurrence`.

    Fitting it fits `model`. The exported model is `model` itself, so what users load keeps Keras's
    layers and the serving path's own recurrence.
    """
    (model_input,) = model.inputs
    x = inputs = keras.Input(shape=model_input.shape[1:], dtype=model_input.dtype, name=model_input.name)
    for layer in model.layers[1:]:
        x = FusedRecurrence(layer, name=f"fused_{layer.name}")(x) if _is_fusable(layer) else layer(x)
    return keras.Model(inputs, x, name=f"{model.name}_fused")


def fused_lstm(layer: layers.LSTM, inputs, lengths):
    """An LSTM layer's outputs over right-padded `inputs` ([batch, steps, width]) of `lengths`, as one
    BlockLSTM op (TensorFlow's fused LSTM).

    BlockLSTM orders the gates i, c, f, o where Keras orders them i, f, c, o, so the weights' gate
    columns are reordered; its forget bias and cell clipping are turned off, as in Keras.
    BlockLSTMV2 takes Keras's order, but its gradient with respect to the inputs is wrong in
    TensorFlow 2.21 (a test compares both directions' gradients with Keras's loop).
    """
    import tensorflow as tf

    cell = layer.cell
    steps = _in_reading_order(layer, inputs, lengths)
    batch = tf.shape(steps)[1]
    zeros = tf.zeros([batch, cell.units], dtype=steps.dtype)
    no_peephole = tf.zeros([cell.units], dtype=steps.dtype)
    outputs = tf.raw_ops.BlockLSTM(
        seq_len_max=tf.cast(tf.shape(steps)[0], tf.int64),
        x=steps,
        cs_prev=zeros,
        h_prev=zeros,
        w=_icfo(tf.concat([cell.kernel, cell.recurrent_kernel], axis=0)),
        wci=no_peephole,
        wcf=no_peephole,
        wco=no_peephole,
        b=_icfo(_bias(cell, steps.dtype)),
        forget_bias=0.0,
        cell_clip=-1.0,
        use_peephole=False,
    ).h
    return _in_text_order(layer, outputs, lengths)


def lstm_to_longest(layer: layers.LSTM, inputs, lengths):
    """An LSTM layer's outputs over right-padded `inputs` ([batch, steps, width]) of `lengths`, as a
    loop of Keras's own step arithmetic that stops after the longest text.

    Keras's masked loop computes every step of the padded tensor; this one computes as many steps
    as the batch's longest text has, so that a server that compiles one program for a padded width
    (XLA) pays only for the steps the batch holds. It needs no mask: each text's padding follows its
    last token, so no real step reads a padded one. Without the mask's selects it is also cheaper
    per step than Keras's loop.
    """
    import tensorflow as tf

    cell = layer.cell
    steps = _in_reading_order(layer, inputs, lengths)
    kernel, recurrent_kernel = ops.convert_to_tensor(cell.kernel), ops.convert_to_tensor(cell.recurrent_kernel)
    bias = _bias(cell, steps.dtype)
    batch = tf.shape(steps)[1]
    outputs = tf.TensorArray(steps.dtype, size=tf.shape(steps)[0], element_shape=tf.TensorShape([None, cell.units]))

    def step(time, hidden, carry, outputs):
        gates = tf.matmul(steps[time], kernel) + tf.matmul(hidden, recurrent_kernel) + bias
        input_gate, forget_gate, candidate, output_gate = tf.split(gates, 4, axis=-1)
        carry = tf.sigmoid(forget_gate) * carry + tf.sigmoid(input_gate) * tf.tanh(candidate)
        hidden = tf.sigmoid(output_gate) * tf.tanh(carry)
        return time + 1, hidden, carry, outputs.write(time, hidden)

    longest = tf.cast(tf.reduce_max(lengths), tf.int32)
    zeros = tf.zeros([batch, cell.units], dtype=steps.dtype)
    # Steps after the longest text are never written, and a TensorArray reads them as zeros.
    *_, outputs = tf.while_loop(lambda time, *_: time < longest, step, (0, zeros, zeros, outputs))
    return _in_text_order(layer, outputs.stack(), lengths)


def _in_reading_order(layer: layers.LSTM, inputs, lengths):
    """`inputs` time-major, in the order the layer reads them. A layer that reads backwards starts
    at each text's last token, as Keras's masked loop does: the real steps are reversed in place."""
    import tensorflow as tf

    steps = tf.transpose(inputs, [1, 0, 2])
    if layer.go_backwards:
        steps = tf.reverse_sequence(steps, lengths, seq_axis=0, batch_axis=1)
    return steps


def _in_text_order(layer: layers.LSTM, outputs, lengths):
    """Time-major outputs in reading order back to batch-major in the texts' order. Outputs at padded
    steps are not Keras's, and everything after the recurrent layers masks them out."""
    import tensorflow as tf

    if layer.go_backwards:
        outputs = tf.reverse_sequence(outputs, lengths, seq_axis=0, batch_axis=1)
    return tf.transpose(outputs, [1, 0, 2])


def _bias(cell: layers.LSTMCell, dtype):
    import tensorflow as tf

    return ops.convert_to_tensor(cell.bias) if cell.use_bias else tf.zeros([4 * cell.units], dtype=dtype)


def _icfo(gates):
    """Gate columns in Keras's order (input, forget, cell, output) put in BlockLSTM's (i, c, f, o)."""
    import tensorflow as tf

    input_gate, forget_gate, cell_gate, output_gate = tf.split(gates, 4, axis=-1)
    return tf.concat([input_gate, cell_gate, forget_gate, output_gate], axis=-1)
