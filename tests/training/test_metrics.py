import itertools

import numpy as np
import pytest

from training.calibration import fit_platt, fit_temperature
from training.metrics import classification_figures, expected_calibration_error, roc_auc, roc_curve


def test_figures_of_a_hand_checked_example():
    labels = np.array([1, 1, 1, 0, 0, 0, 0, 1])
    probabilities = np.array([0.9, 0.8, 0.3, 0.2, 0.6, 0.1, 0.4, 0.7])
    figures = classification_figures(labels, probabilities)
    # TP = 3 (0.9, 0.8, 0.7), FN = 1 (0.3), FP = 1 (0.6), TN = 3.
    assert figures["confusion_matrix"] == [[3, 1], [1, 3]]
    assert figures["accuracy"] == pytest.approx(6 / 8)
    assert figures["precision"] == pytest.approx(3 / 4)
    assert figures["recall"] == pytest.approx(3 / 4)
    assert figures["f1"] == pytest.approx(3 / 4)
    assert figures["examples"] == 8


def brute_force_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    pairs = list(itertools.product(scores[labels == 1], scores[labels == 0]))
    return sum(1.0 if p > n else 0.5 if p == n else 0.0 for p, n in pairs) / len(pairs)


def test_roc_auc_matches_the_pairwise_definition_with_ties():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, size=200)
    scores = np.round(rng.random(200) + 0.3 * labels, 1)
    assert roc_auc(labels, scores) == pytest.approx(brute_force_auc(labels, scores))


def test_roc_curve_runs_from_origin_to_the_corner():
    false_rate, true_rate = roc_curve(np.array([0, 1, 1, 0]), np.array([0.1, 0.9, 0.4, 0.5]))
    assert (false_rate[0], true_rate[0]) == (0, 0)
    assert (false_rate[-1], true_rate[-1]) == (1, 1)


def test_calibration_error_is_small_for_calibrated_and_large_for_overconfident_probabilities():
    rng = np.random.default_rng(1)
    probabilities = rng.random(50_000)
    calibrated_labels = (rng.random(50_000) < probabilities).astype(int)
    assert expected_calibration_error(calibrated_labels, probabilities) < 0.01
    overconfident = np.where(probabilities >= 0.5, 0.99, 0.01)
    assert expected_calibration_error(calibrated_labels, overconfident) > 0.2


def test_fit_temperature_leaves_logits_that_make_no_error_as_they_are():
    # Every label on the logit's side: the log-loss falls as the temperature shrinks, without a minimum.
    logits = np.array([-4.0, -1.0, 0.5, 3.0])
    assert fit_temperature(logits, np.array([0, 0, 1, 1])) == 1.0
    # One error is enough for a minimum, which sharpens or softens the logits.
    assert fit_temperature(logits, np.array([0, 1, 1, 1])) != 1.0


def test_fit_temperature_recovers_the_temperature_that_made_the_labels():
    rng = np.random.default_rng(2)
    true_logits = rng.normal(0, 2, size=40_000)
    labels = (rng.random(40_000) < 1 / (1 + np.exp(-true_logits))).astype(int)
    # A model three times too confident: its logits are three times the true ones.
    assert fit_temperature(3 * true_logits, labels) == pytest.approx(3.0, rel=0.05)


def test_fit_platt_recovers_the_scale_and_the_lean_that_made_the_labels():
    rng = np.random.default_rng(3)
    true_logits = rng.normal(0, 2, size=40_000)
    labels = (rng.random(40_000) < 1 / (1 + np.exp(-true_logits))).astype(int)
    # A model twice too confident and tilted towards positive by 1.5: true = 0.5 * (logit - 1.5).
    platt = fit_platt(2 * true_logits + 1.5, labels)
    assert platt.scale == pytest.approx(0.5, rel=0.05)
    assert platt.bias == pytest.approx(-0.75, abs=0.05)
    assert platt(np.array([1.5])) == pytest.approx([0.0], abs=0.05)
