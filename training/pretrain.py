"""Pretrain the classifier's embedding and first recurrent layer as a language model (Dai & Le, 2015).

The forward half of the first bidirectional LSTM learns to predict the next word and the backward
half the previous one, on the train and unlabelled reviews. A sampled softmax keeps the 20,000-way
output affordable on a CPU. The classifier then starts from these layers instead of random ones.
"""

import logging

import keras
import numpy as np
import tensorflow as tf

from model.text import UNKNOWN_ID
from training.fitting import progress_verbosity

logger = logging.getLogger(__name__)

# Tokens per training window; reviews are cut into windows so that batches need almost no padding.
WINDOW = 100
SAMPLED_WORDS = 512


class SampledSoftmaxLoss(keras.layers.Layer):
    """Adds the sampled-softmax loss of predicting `targets` from `hidden` at the unmasked positions."""

    def __init__(self, vocabulary_size: int, sampled: int, **kwargs):
        super().__init__(**kwargs)
        self.vocabulary_size = vocabulary_size
        self.sampled = sampled

    def build(self, input_shape):
        hidden_size = input_shape[0][-1]
        self.kernel = self.add_weight(shape=(self.vocabulary_size, hidden_size), initializer="glorot_uniform")
        self.bias = self.add_weight(shape=(self.vocabulary_size,), initializer="zeros")

    def call(self, inputs):
        hidden, targets = inputs
        # Padding and unknown words are not worth predicting.
        keep = targets > UNKNOWN_ID
        losses = tf.nn.sampled_softmax_loss(
            weights=self.kernel,
            biases=self.bias,
            labels=tf.expand_dims(tf.boolean_mask(targets, keep), axis=-1),
            inputs=tf.boolean_mask(hidden, keep),
            num_sampled=self.sampled,
            num_classes=self.vocabulary_size,
        )
        loss = tf.reduce_mean(losses)
        self.add_loss(loss)
        return loss


def language_model(classifier: keras.Model, vocabulary_size: int) -> keras.Model:
    """A model that shares the classifier's embedding and first bidirectional LSTM, and trains them."""
    token_ids = keras.Input(shape=(None,), dtype="int64", name="window")
    states = classifier.get_layer("bidirectional_0")(classifier.get_layer("embedding")(token_ids))
    units = states.shape[-1] // 2
    # Sampling needs more classes than samples; a small vocabulary samples all but one word.
    sampled = min(SAMPLED_WORDS, vocabulary_size - 1)
    forward, backward = states[:, :-1, :units], states[:, 1:, units:]
    # The forward state at t has read words 0..t and predicts word t+1; the backward one predicts t-1.
    next_loss = SampledSoftmaxLoss(vocabulary_size, sampled, name="next_word")([forward, token_ids[:, 1:]])
    previous_loss = SampledSoftmaxLoss(vocabulary_size, sampled, name="previous_word")([backward, token_ids[:, :-1]])
    return keras.Model(token_ids, [next_loss, previous_loss], name="language_model")


def windows(token_ids: tf.RaggedTensor, length: int = WINDOW) -> np.ndarray:
    """Cut each text into windows of `length` tokens; the last window of a text is padded with 0."""
    rows = []
    for text in token_ids.numpy():
        for start in range(0, len(text), length):
            rows.append(np.pad(text[start : start + length], (0, max(0, start + length - len(text)))))
    return np.stack(rows) if rows else np.zeros((0, length), dtype=np.int64)


def pretrain(
    classifier: keras.Model, token_ids: tf.RaggedTensor, vocabulary_size: int, epochs: int, batch_size: int, seed: int
) -> list[float]:
    """Fit the classifier's first layers as a language model; returns the loss per epoch."""
    data = windows(token_ids)
    logger.info("language-model pretraining on %d windows of %d tokens", len(data), WINDOW)
    model = language_model(classifier, vocabulary_size)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=2e-3, clipnorm=1.0))
    dataset = tf.data.Dataset.from_tensor_slices(data).shuffle(len(data), seed=seed).batch(batch_size)
    # The dataset shuffles itself; Keras's own shuffling does not apply to a dataset.
    history = model.fit(dataset.prefetch(tf.data.AUTOTUNE), epochs=epochs, verbose=progress_verbosity(), shuffle=False)
    return [float(value) for value in history.history["loss"]]
