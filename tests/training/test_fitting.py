"""The optimizer and callbacks every training round uses: with a weight average, the average is what
is validated, chosen and kept."""

from pathlib import Path

import keras
import numpy as np

from training.config import TrainConfig
from training.fitting import average_momentum, compile_model, round_callbacks


def _data() -> tuple[np.ndarray, np.ndarray]:
    features = np.random.default_rng(0).normal(size=(64, 3)).astype("float32")
    return features, (features @ np.array([[1.0], [-2.0], [0.5]], dtype="float32") > 0).astype("float32")


def _fitted(config: TrainConfig, tmp_path: Path, epochs: int) -> tuple[keras.Model, keras.callbacks.History]:
    keras.utils.set_random_seed(0)
    features, labels = _data()
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.set_weights([np.zeros((3, 1), dtype="float32"), np.zeros((1,), dtype="float32")])
    compile_model(model, config, steps_per_epoch=len(features) // config.batch_size)
    history = model.fit(
        features,
        labels,
        validation_data=(features, labels),
        batch_size=config.batch_size,
        epochs=epochs,
        shuffle=False,
        callbacks=round_callbacks(config, epochs, tmp_path / "logs"),
        verbose=0,
    )
    return model, history


def test_the_weights_kept_are_the_ones_validated(tmp_path: Path):
    config = TrainConfig(learning_rate=0.1, weight_average_momentum=0.9, patience=5, batch_size=8)
    model, history = _fitted(config, tmp_path, epochs=3)
    kept = model.evaluate(*_data(), verbose=0, return_dict=True)["loss"]
    assert np.isclose(kept, min(history.history["val_loss"]), atol=1e-5)


def test_a_weight_average_changes_the_weights_kept(tmp_path: Path):
    plain, _ = _fitted(TrainConfig(learning_rate=0.1, weight_average_momentum=0.0, batch_size=8), tmp_path, epochs=1)
    averaged, _ = _fitted(TrainConfig(learning_rate=0.1, weight_average_momentum=0.9, batch_size=8), tmp_path, epochs=1)
    assert not np.allclose(plain.get_weights()[0], averaged.get_weights()[0], atol=1e-4)


def test_the_average_reaches_back_at_most_a_quarter_of_an_epoch():
    config = TrainConfig(weight_average_momentum=0.999)
    # The full dataset's epochs are long enough for the momentum asked for.
    assert average_momentum(config, steps_per_epoch=4497) == 0.999
    # Ten steps an epoch: about 2.5 steps back, not the 1,000 that would reach the first weights.
    assert average_momentum(config, steps_per_epoch=10) == 1.0 - 1.0 / 2.5
    assert average_momentum(config, steps_per_epoch=2) == 0.0
    assert average_momentum(TrainConfig(weight_average_momentum=0.0), steps_per_epoch=4497) == 0.0


def test_the_optimizer_averages_with_the_momentum_its_epochs_allow():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    compile_model(model, TrainConfig(weight_average_momentum=0.999), steps_per_epoch=10)
    assert model.optimizer.use_ema and np.isclose(model.optimizer.ema_momentum, 0.6)
