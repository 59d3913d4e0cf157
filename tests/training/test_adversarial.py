"""Adversarial training on the embeddings of short texts: the step it takes raises the loss, short
batches are fitted on both losses, long ones as without it, and a run with callbacks fits."""

from dataclasses import replace
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from model.architecture import build_model, with_fused_recurrence
from model.config import ModelConfig
from training.adversarial import AdversarialTrainer
from training.config import TrainConfig
from training.fitting import compiled_trainer, round_callbacks
from training.resume import backup_callback

TOKEN_IDS = np.array([[5, 9, 3, 12, 7, 0], [8, 2, 0, 0, 0, 0], [4, 4, 6, 11, 13, 2]])
LABELS = np.array([1.0, 0.0, 0.7], dtype="float32")


def _model(tiny_config: ModelConfig) -> keras.Model:
    keras.utils.set_random_seed(7)
    # No dropout, so that two fits of the same batch can be compared step for step.
    return build_model(replace(tiny_config, dropout=0.0))


def _loss(trainer: AdversarialTrainer, perturbation) -> float:
    logits = trainer.perturbable([tf.constant(TOKEN_IDS), tf.constant(perturbation)], training=False)
    return float(keras.losses.BinaryCrossentropy(from_logits=True)(LABELS, logits))


def test_the_step_moves_each_text_by_epsilon_of_its_tokens_and_raises_the_loss(tiny_config):
    trainer = AdversarialTrainer(with_fused_recurrence(_model(tiny_config)), epsilon=0.5, max_tokens=64)
    zeros = tf.zeros(TOKEN_IDS.shape + (tiny_config.embedding_dim,))
    with tf.GradientTape() as tape:
        tape.watch(zeros)
        logits = trainer.perturbable([tf.constant(TOKEN_IDS), zeros], training=False)
        loss = keras.losses.BinaryCrossentropy(from_logits=True)(LABELS, logits)
    perturbation = trainer.perturbation(tf.constant(TOKEN_IDS), tape.gradient(loss, zeros)).numpy()

    padding = TOKEN_IDS == 0
    assert np.all(perturbation[padding] == 0)
    embedded = trainer.embedding(tf.constant(TOKEN_IDS)).numpy()
    for row, ids in enumerate(TOKEN_IDS):
        real = ids != 0
        mean_length = np.linalg.norm(embedded[row][real], axis=-1).mean()
        np.testing.assert_allclose(np.linalg.norm(perturbation[row]), 0.5 * mean_length, rtol=1e-4)
    assert _loss(trainer, perturbation) > _loss(trainer, zeros) > _loss(trainer, -perturbation)


def test_called_it_answers_as_the_model_does(tiny_config):
    model = _model(tiny_config)
    trainer = AdversarialTrainer(with_fused_recurrence(model), epsilon=0.5, max_tokens=64)
    np.testing.assert_allclose(trainer(TOKEN_IDS).numpy(), model(TOKEN_IDS).numpy(), atol=1e-6)
    assert {id(weight) for weight in trainer.weights} == {id(weight) for weight in model.weights}


def _sgd_compiled(trainer: keras.Model) -> keras.Model:
    # Plain gradient descent, so that a step's update is the learning rate times the gradient.
    trainer.compile(optimizer=keras.optimizers.SGD(0.1), loss=keras.losses.BinaryCrossentropy(from_logits=True))
    return trainer


def _after_one_step(trainer: keras.Model, model: keras.Model) -> list[np.ndarray]:
    trainer.fit(TOKEN_IDS, LABELS, batch_size=len(TOKEN_IDS), epochs=1, shuffle=False, verbose=0)
    return model.get_weights()


def test_batches_wider_than_the_limit_are_fitted_as_without_it(tiny_config):
    width = TOKEN_IDS.shape[1]
    model = _model(tiny_config)
    plain = _after_one_step(_sgd_compiled(with_fused_recurrence(model)), model)
    model = _model(tiny_config)
    trainer = _sgd_compiled(AdversarialTrainer(with_fused_recurrence(model), epsilon=0.5, max_tokens=width - 1))
    for before, after in zip(plain, _after_one_step(trainer, model), strict=True):
        np.testing.assert_allclose(after, before, atol=1e-6)


def test_a_short_batch_is_fitted_on_its_loss_and_its_loss_when_moved(tiny_config):
    model = _model(tiny_config)
    trainer = _sgd_compiled(AdversarialTrainer(with_fused_recurrence(model), epsilon=0.5, max_tokens=64))
    token_ids, weights = tf.constant(TOKEN_IDS), trainer.trainable_weights
    zeros = tf.zeros(TOKEN_IDS.shape + (tiny_config.embedding_dim,))
    with tf.GradientTape() as tape:
        tape.watch(zeros)
        loss = trainer.compute_loss(y=LABELS, y_pred=trainer.perturbable([token_ids, zeros], training=True))
    *clean, embedding_gradient = tape.gradient(loss, [*weights, zeros])
    moved = trainer.loss_gradients(token_ids, LABELS, None, trainer.perturbation(token_ids, embedding_gradient)).weights
    expected = {
        id(weight): weight.numpy() - 0.1 * (tf.convert_to_tensor(gradient).numpy() + tf.convert_to_tensor(more).numpy())
        for weight, gradient, more in zip(weights, clean, moved, strict=True)
    }
    _after_one_step(trainer, model)
    for weight in weights:
        np.testing.assert_allclose(weight.numpy(), expected[id(weight)], atol=1e-6)


def test_a_run_with_the_rounds_callbacks_fits_the_model(tiny_config, tmp_path: Path):
    model = build_model(tiny_config)
    config = TrainConfig(
        model=tiny_config, adversarial_epsilon=0.5, adversarial_max_tokens=4, patience=1, runs_dir=tmp_path / "runs"
    )
    rng = np.random.default_rng(0)
    short = rng.integers(1, tiny_config.vocabulary_size, size=(32, 4))
    long = rng.integers(1, tiny_config.vocabulary_size, size=(32, 9))
    labels = rng.random(32).astype("float32")
    batches = (
        tf.data.Dataset.from_tensor_slices((short, labels))
        .batch(8)
        .concatenate(tf.data.Dataset.from_tensor_slices((long, labels)).batch(8))
    )
    trainer = compiled_trainer(model, config, batches)
    assert isinstance(trainer, AdversarialTrainer)
    before = model.get_weights()
    history = trainer.fit(
        batches,
        validation_data=batches,
        epochs=2,
        callbacks=[backup_callback(config), *round_callbacks(config, 2, tmp_path / "logs")],
        shuffle=False,
        verbose=0,
    )
    assert all(np.isfinite(history.history["loss"])) and len(history.history["val_loss"]) >= 1
    assert any(not np.allclose(now, then) for now, then in zip(model.get_weights(), before, strict=True))
