"""How the classifier is compiled and fitted: loss, metric, learning-rate decay, early stopping, output."""

import math
import sys
from pathlib import Path

import keras
import tensorflow as tf

from model.architecture import with_fused_recurrence
from training.adversarial import AdversarialTrainer
from training.config import TrainConfig


def rounded_accuracy(labels: tf.Tensor, logits: tf.Tensor) -> tf.Tensor:
    """Accuracy against labels rounded to 0 or 1, since the teacher's labels are probabilities."""
    return keras.metrics.binary_accuracy(keras.ops.round(labels), logits, threshold=0.0)


# A weight average with momentum m reaches back over about 1 / (1 - m) steps: at most this share of
# an epoch, so that a short run (a small dataset, a few steps per epoch) averages its recent weights
# rather than the ones it started from. The default config's 0.999 is a sixth of its 6,076-step epochs.
MAX_AVERAGED_EPOCH_SHARE = 0.25


def average_momentum(config: TrainConfig, steps_per_epoch: int) -> float:
    """The weight average's momentum for epochs of `steps_per_epoch` steps (0 without an average)."""
    if config.weight_average_momentum <= 0:
        return 0.0
    longest = 1.0 - 1.0 / max(MAX_AVERAGED_EPOCH_SHARE * steps_per_epoch, 1.0)
    return min(config.weight_average_momentum, longest)


def compile_model(model: keras.Model, config: TrainConfig, steps_per_epoch: int) -> None:
    """Compile for epochs of `steps_per_epoch` steps."""
    model.compile(
        optimizer=keras.optimizers.Adam(
            learning_rate=config.learning_rate,
            clipnorm=1.0,
            use_ema=config.weight_average_momentum > 0,
            ema_momentum=average_momentum(config, steps_per_epoch),
        ),
        # Cross-entropy takes soft labels as they are: the teacher's probabilities are targets too.
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
        metrics=[keras.metrics.MeanMetricWrapper(rounded_accuracy, name="accuracy")],
    )


def compiled_trainer(model: keras.Model, config: TrainConfig, training_batches: tf.data.Dataset) -> keras.Model:
    """What fits `model`: a model that shares its layers and weights but runs its LSTM layers as
    TensorFlow's fused op (`with_fused_recurrence`, faster to train), and fits short texts
    adversarially as well when the config asks (`AdversarialTrainer`), compiled for epochs of the
    steps `training_batches` holds."""
    trainer = with_fused_recurrence(model)
    if config.adversarial_epsilon > 0:
        trainer = AdversarialTrainer(trainer, config.adversarial_epsilon, config.adversarial_max_tokens)
    compile_model(trainer, config, steps_per_epoch=int(training_batches.cardinality()))
    return trainer


def learning_rate_schedule(config: TrainConfig, epochs: int) -> list[keras.callbacks.Callback]:
    """A half-cosine decay of the learning rate over `epochs`, or nothing when it is turned off."""
    if not config.decay_learning_rate:
        return []

    # Computed from the epoch number alone, so a resumed run continues at the right rate.
    def rate(epoch: int, _current: float) -> float:
        return config.learning_rate * 0.5 * (1.0 + math.cos(math.pi * epoch / epochs))

    return [keras.callbacks.LearningRateScheduler(rate)]


def round_callbacks(config: TrainConfig, epochs: int, log_dir: Path) -> list[keras.callbacks.Callback]:
    """Learning-rate decay, early stopping on validation loss (best weights kept) and TensorBoard logs;
    with a weight average, the average is what is validated and kept."""
    # Before early stopping, so that at each epoch's end the weights it may keep are the average's.
    averaged = [keras.callbacks.SwapEMAWeights(swap_on_epoch=True)] if config.weight_average_momentum > 0 else []
    return (
        learning_rate_schedule(config, epochs)
        + averaged
        + [
            keras.callbacks.EarlyStopping(monitor="val_loss", patience=config.patience, restore_best_weights=True),
            keras.callbacks.TensorBoard(log_dir=str(log_dir)),
        ]
    )


def progress_verbosity() -> int:
    """Keras's live progress bar on a terminal; one line per epoch when the output is a log file."""
    return 1 if sys.stdout.isatty() else 2
