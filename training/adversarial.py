"""Adversarial training on the word embeddings of short texts (Miyato et al. 2016, "Adversarial
Training Methods for Semi-Supervised Text Classification").

Each training step of a batch of short texts also fits the batch with its embeddings moved a small
step in the direction that raises the loss most, so that the model's answer cannot flip on a nudge
to the words it reads. Long batches (the reviews) are fitted as usual: the step costs a second
forward and backward pass, and the one-liners are where the model is weakest.
"""

from typing import NamedTuple

import keras
import tensorflow as tf
from keras import layers

from model.architecture import EMBEDDING_LAYER
from model.artifact import PADDING_ID


class Gradients(NamedTuple):
    """One pass of a batch: its logits and loss, and the loss's gradients."""

    logits: tf.Tensor
    loss: tf.Tensor
    # By trainable weight, in order; the embedding's is sparse.
    weights: list
    # With respect to the perturbation added to the embeddings: [batch, steps, width].
    perturbation: tf.Tensor


class AdversarialTrainer(keras.Model):
    """Fits `chain` (a model whose layers form a chain starting at its embedding, as `build_model`
    and `with_fused_recurrence` make them) on its loss plus, for batches at most `max_tokens` wide,
    its loss with each text's embeddings moved against it by `epsilon` times the mean length of the
    text's token embeddings.

    The model shares every layer and weight of `chain`: fitting it fits `chain`. Called, it is
    `chain`; the reported training loss is that of the unmoved texts.
    """

    def __init__(self, chain: keras.Model, epsilon: float, max_tokens: int, **kwargs):
        super().__init__(name=f"{chain.name}_adversarial", **kwargs)
        self.epsilon = epsilon
        self.max_tokens = max_tokens
        self.embedding = chain.get_layer(EMBEDDING_LAYER)
        self.perturbable = _perturbable(chain)
        # Built already: its layers are `chain`'s (callbacks such as BackupAndRestore require it).
        self.built = True

    def call(self, token_ids, training=False):
        return self.perturbable([token_ids, self._no_perturbation(token_ids)], training=training)

    def train_step(self, data):
        token_ids, labels, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        weights = self.trainable_weights
        clean = self.loss_gradients(token_ids, labels, sample_weight, self._no_perturbation(token_ids))

        def fit_both() -> tf.Tensor:
            perturbation = self.perturbation(token_ids, clean.perturbation)
            moved = self.loss_gradients(token_ids, labels, sample_weight, perturbation)
            summed = [
                tf.convert_to_tensor(gradient) + tf.convert_to_tensor(more)
                for gradient, more in zip(clean.weights, moved.weights, strict=True)
            ]
            self.optimizer.apply_gradients(zip(summed, weights, strict=True))
            return tf.constant(True)

        def fit_as_usual() -> tf.Tensor:
            # The gradients as they are (the embedding's sparse), as a step without this class applies them.
            self.optimizer.apply_gradients(zip(clean.weights, weights, strict=True))
            return tf.constant(False)

        tf.cond(tf.shape(token_ids)[1] <= self.max_tokens, fit_both, fit_as_usual)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(clean.loss, sample_weight=tf.shape(token_ids)[0])
        return self.compute_metrics(token_ids, labels, clean.logits, sample_weight=sample_weight)

    def loss_gradients(self, token_ids, labels, sample_weight, perturbation) -> Gradients:
        """The loss with the embeddings moved by `perturbation` (a constant), and its gradients with
        respect to every trainable weight and to the perturbation."""
        perturbation = tf.stop_gradient(perturbation)
        with tf.GradientTape() as tape:
            tape.watch(perturbation)
            logits = self.perturbable([token_ids, perturbation], training=True)
            loss = self.compute_loss(x=token_ids, y=labels, y_pred=logits, sample_weight=sample_weight)
        *weight_gradients, perturbation_gradient = tape.gradient(loss, [*self.trainable_weights, perturbation])
        return Gradients(logits, loss, weight_gradients, perturbation_gradient)

    def perturbation(self, token_ids, embedding_gradient):
        """`embedding_gradient` ([batch, steps, width]) scaled, text by text, to `epsilon` times the
        mean length of the text's token embeddings: the step along which the loss rises fastest."""
        real = tf.cast(tf.not_equal(token_ids, PADDING_ID), embedding_gradient.dtype)
        token_lengths = tf.norm(self.embedding(token_ids), axis=-1) * real
        mean_length = tf.reduce_sum(token_lengths, axis=1) / tf.maximum(tf.reduce_sum(real, axis=1), 1.0)
        gradient = embedding_gradient * real[..., None]
        gradient_length = tf.sqrt(tf.reduce_sum(tf.square(gradient), axis=[1, 2]))
        scale = self.epsilon * mean_length / tf.maximum(gradient_length, 1e-12)
        return gradient * scale[:, None, None]

    def _no_perturbation(self, token_ids):
        shape = tf.shape(token_ids)
        return tf.zeros([shape[0], shape[1], self.embedding.output_dim])


class Perturbed(layers.Layer):
    """Embeddings plus a perturbation of the same shape, masked as the embeddings are."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        embedded, perturbation = inputs
        return embedded + perturbation

    def compute_mask(self, inputs, mask=None):
        return None if mask is None else mask[0]

    def compute_output_shape(self, input_shape):
        return input_shape[0]


def _perturbable(chain: keras.Model) -> keras.Model:
    """`chain` with a second input, [batch, steps, width], added to its embedding layer's output;
    the embedding's mask goes on to the layers after it as before."""
    (token_ids,) = chain.inputs
    embedding = chain.get_layer(EMBEDDING_LAYER)
    perturbation = keras.Input(shape=(None, embedding.output_dim), name="embedding_perturbation")
    x = Perturbed(name="perturbed_embedding")([embedding(token_ids), perturbation])
    after = chain.layers[chain.layers.index(embedding) + 1 :]
    for layer in after:
        x = layer(x)
    return keras.Model([token_ids, perturbation], x, name=f"{chain.name}_perturbable")
