import keras
import numpy as np
import tensorflow as tf

from model.architecture import build_model
from training.pretrain import pretrain, windows


def test_windows_cut_each_text_and_pad_only_its_last_window():
    token_ids = tf.ragged.constant([[2, 3, 4, 5, 6], [7, 8]], dtype=tf.int64)
    assert windows(token_ids, length=2).tolist() == [[2, 3], [4, 5], [6, 0], [7, 8]]


def test_pretraining_lowers_the_language_model_loss_and_trains_the_shared_layers(tiny_config):
    keras.utils.set_random_seed(0)
    # A corpus where each word predicts the next one: 2 3 4 5 ... repeated.
    texts = [[2 + (start + step) % 40 for step in range(60)] for start in range(200)]
    classifier = build_model(tiny_config)
    first_layer = classifier.get_layer("bidirectional_0").get_weights()[0].copy()
    embedding = classifier.get_layer("embedding").get_weights()[0].copy()
    losses = pretrain(classifier, tf.ragged.constant(texts, dtype=tf.int64), 64, epochs=3, batch_size=32, seed=0)
    assert losses[-1] < losses[0]
    assert not np.allclose(first_layer, classifier.get_layer("bidirectional_0").get_weights()[0])
    assert not np.allclose(embedding, classifier.get_layer("embedding").get_weights()[0])
