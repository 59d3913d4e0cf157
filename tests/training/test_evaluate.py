"""Figures on the texts the rules wrote from validation sentences, one set of figures per rule."""

from pathlib import Path

import numpy as np
import tensorflow as tf

from model.artifact import SIGNATURE_NAME
from training.augment import RuleSentences
from training.evaluate import predict_probabilities, rule_figures

PRAISE = ["Wonderful, brilliant and superb.", "A delightful masterpiece, loved it."]
COMPLAINTS = ["Awful, boring and dull.", "The worst, a terrible waste."]


def test_each_rule_gets_its_own_figures_against_the_sign_of_its_logits(tiny_version: Path):
    signature = tf.saved_model.load(str(tiny_version)).signatures[SIGNATURE_NAME]
    # Two "negated" texts, one of either sign, then three "contrast" texts; no agreeing or fragment ones.
    texts = [PRAISE[0], COMPLAINTS[0], PRAISE[1], COMPLAINTS[1], PRAISE[0]]
    logits = np.array([2.0, -2.0, 3.0, -3.0, 1.5])
    probabilities = predict_probabilities(signature, texts)
    figures = rule_figures(RuleSentences(texts, logits, 2, 3, 0, 0), probabilities)
    assert set(figures) == {"negated", "contrast"}
    assert figures["negated"]["examples"] == 2 and figures["contrast"]["examples"] == 3
    assert figures["negated"]["accuracy"] == figures["contrast"]["accuracy"] == 1.0
    # Labels follow the logits' signs: flipped, the same model is wrong on every text.
    flipped = rule_figures(RuleSentences(texts, -logits, 2, 3, 0, 0), probabilities)
    assert flipped["negated"]["accuracy"] == flipped["contrast"]["accuracy"] == 0.0
