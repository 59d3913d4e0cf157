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
    width]) with `mask` ([batch, steps], False on padding after each text), in inference mode.

    Explanations need the model as a function of its embeddings, to take gradients with respect to
    them. This runs the layers after the embedding in order, handing the mask to those that take
    one, as Keras does when it propagates the embedding's mask. The recurrent layers run as one
    fused TensorFlow op per direction (`fused_lstm`) instead of Keras's step-by-step loop: the same
    arithmetic, but its gradient costs a fraction of the loop's, whose every step pays for many
    small ops.
    """
    import tensorflow as tf

    layers_after = model.layers[[layer.name for layer in model.layers].index(EMBEDDING_LAYER) + 1 :]
    lengths = tf.reduce_sum(tf.cast(mask, tf.int64), axis=1)
    x = embedded
    for layer in layers_after:
        if isinstance(layer, layers.Bidirectional) and _is_plain_lstm(layer.forward_layer):
            x = ops.concatenate(
                [fused_lstm(layer.forward_layer, x, lengths), fused_lstm(layer.backward_layer, x, lengths)], axis=-1
            )
            continue
        if isinstance(layer, layers.LSTM) and _is_plain_lstm(layer):
            x = fused_lstm(layer, x, lengths)
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


def _is_plain_lstm(layer: layers.Layer) -> bool:
    """Whether an LSTM layer computes what `fused_lstm` computes: the standard activations, every step."""
    return (
        isinstance(layer, layers.LSTM)
        and layer.return_sequences
        and not layer.stateful
        and layer.cell.activation is keras.activations.tanh
        and layer.cell.recurrent_activation is keras.activations.sigmoid
    )


def fused_lstm(layer: layers.LSTM, inputs, lengths):
    """An LSTM layer's outputs over right-padded `inputs` ([batch, steps, width]) of `lengths`, as one
    BlockLSTM op (TensorFlow's fused LSTM).

    BlockLSTM orders the gates i, c, f, o where Keras orders them i, f, c, o, so the weights' gate
    columns are reordered; its forget bias and cell clipping are turned off, as in Keras.
    BlockLSTMV2 takes Keras's order, but its gradient with respect to the inputs is wrong in
    TensorFlow 2.21 (a test compares both directions' gradients with Keras's loop).

    A layer that reads backwards starts at each text's last token, as Keras's masked loop does: the
    real steps are reversed in place, run forwards, and reversed back. Outputs at padded steps are
    not Keras's, and everything after the recurrent layers masks them out.
    """
    import tensorflow as tf

    cell = layer.cell
    steps = tf.transpose(inputs, [1, 0, 2])
    if layer.go_backwards:
        steps = tf.reverse_sequence(steps, lengths, seq_axis=0, batch_axis=1)
    batch = tf.shape(steps)[1]
    zeros = tf.zeros([batch, cell.units], dtype=steps.dtype)
    no_peephole = tf.zeros([cell.units], dtype=steps.dtype)
    bias = cell.bias if cell.use_bias else tf.zeros([4 * cell.units], dtype=steps.dtype)
    outputs = tf.raw_ops.BlockLSTM(
        seq_len_max=tf.cast(tf.shape(steps)[0], tf.int64),
        x=steps,
        cs_prev=zeros,
        h_prev=zeros,
        w=_icfo(tf.concat([cell.kernel, cell.recurrent_kernel], axis=0)),
        wci=no_peephole,
        wcf=no_peephole,
        wco=no_peephole,
        b=_icfo(bias),
        forget_bias=0.0,
        cell_clip=-1.0,
        use_peephole=False,
    ).h
    if layer.go_backwards:
        outputs = tf.reverse_sequence(outputs, lengths, seq_axis=0, batch_axis=1)
    return tf.transpose(outputs, [1, 0, 2])


def _icfo(gates):
    """Gate columns in Keras's order (input, forget, cell, output) put in BlockLSTM's (i, c, f, o)."""
    import tensorflow as tf

    input_gate, forget_gate, cell_gate, output_gate = tf.split(gates, 4, axis=-1)
    return tf.concat([input_gate, cell_gate, forget_gate, output_gate], axis=-1)
