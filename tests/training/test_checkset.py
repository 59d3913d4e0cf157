"""The hand-written check set: its contents, its figures, and how evaluation reports them."""

import json
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from training.checkset import (
    CATEGORIES,
    MIRRORED_CATEGORIES,
    NEGATED_NEGATIVE,
    NEGATED_POSITIVE,
    CheckSet,
    CheckSetError,
    check_set_figures,
    check_set_misses,
    load_check_set,
)


@pytest.fixture(scope="module")
def check_set():
    return load_check_set()


def test_the_check_set_holds_at_least_300_texts_in_every_category(check_set):
    counts = Counter(check_set.categories)
    assert len(check_set) >= 300
    assert set(counts) == set(CATEGORIES)
    assert min(counts.values()) >= 45


def test_each_category_is_balanced_and_the_negations_mirror_each_other(check_set):
    categories = np.array(check_set.categories)
    for name in CATEGORIES:
        labels = check_set.labels[categories == name]
        if name in MIRRORED_CATEGORIES:
            continue
        assert labels.sum() * 2 == len(labels), name
    positive_negations = check_set.labels[categories == NEGATED_POSITIVE]
    negative_negations = check_set.labels[categories == NEGATED_NEGATIVE]
    assert positive_negations.all() and not negative_negations.any()
    assert len(positive_negations) == len(negative_negations)
    assert check_set.labels.sum() * 2 == len(check_set)


def test_no_text_appears_twice_even_with_other_case_or_punctuation(check_set):
    folded = [" ".join(re.findall(r"\w+", text.lower())) for text in check_set.texts]
    repeated = [text for text, count in Counter(folded).items() if count > 1]
    assert repeated == []


def test_figures_are_per_category_and_overall(check_set):
    categories = np.array(check_set.categories)
    # Right on everything but the contrast texts, which it gets all wrong.
    probabilities = np.where(check_set.labels == 1, 0.9, 0.1)
    contrast = categories == "contrast"
    probabilities[contrast] = 1.0 - probabilities[contrast]
    figures = check_set_figures(check_set, probabilities)
    assert figures["examples"] == len(check_set)
    assert figures["categories"]["contrast"] == {"examples": int(contrast.sum()), "accuracy": 0.0}
    assert all(figures["categories"][name]["accuracy"] == 1.0 for name in CATEGORIES if name != "contrast")
    assert figures["accuracy"] == pytest.approx(1.0 - contrast.mean())


@pytest.mark.parametrize(
    "line",
    [
        '{"text": "Fine.", "label": 2, "category": "plain"}',
        '{"text": "Fine.", "label": 1, "category": "poetry"}',
        '{"text": "  ", "label": 1, "category": "plain"}',
        '["Fine.", 1, "plain"]',
        "not json",
    ],
)
def test_a_malformed_row_is_a_named_error(tmp_path: Path, line: str):
    path = tmp_path / "checkset.jsonl"
    path.write_text('{"text": "Good.", "label": 1, "category": "plain"}\n' + line + "\n", encoding="utf-8")
    with pytest.raises(CheckSetError, match=":2"):
        load_check_set(path)


def test_training_records_the_check_set_per_category(tiny_version: Path, check_set):
    recorded = json.loads((tiny_version / "metadata.json").read_text())["evaluation"]["check_set"]
    assert recorded["examples"] == len(check_set)
    assert set(recorded["categories"]) == set(CATEGORIES)
    counted = sum(figures["examples"] * figures["accuracy"] for figures in recorded["categories"].values())
    assert counted == pytest.approx(recorded["accuracy"] * len(check_set))


def test_evaluate_prints_the_check_set_per_category_beside_the_recorded_figures(
    tiny_version: Path, aclimdb_dir: Path, capsys
):
    from training.evaluate import main

    assert main(["--artifacts-dir", str(tiny_version.parent), "--data-dir", str(aclimdb_dir)]) == 0
    output = capsys.readouterr().out
    recorded = json.loads((tiny_version / "metadata.json").read_text())["evaluation"]["check_set"]
    table = output.split("check set")[1].splitlines()
    rows = {line.split()[0]: line.split()[1:] for line in table[2:] if line.strip()}
    assert set(rows) == {*CATEGORIES, "overall"}
    for name in CATEGORIES:
        texts, measured, before = rows[name]
        assert int(texts) == recorded["categories"][name]["examples"]
        assert float(measured) == pytest.approx(recorded["categories"][name]["accuracy"], abs=1e-4)
        assert float(before) == pytest.approx(recorded["categories"][name]["accuracy"], abs=1e-4)
    assert float(rows["overall"][1]) == pytest.approx(recorded["accuracy"], abs=1e-4)


def test_misses_are_the_texts_on_the_wrong_side_surest_first_within_each_category():
    check_set = CheckSet(
        texts=["a", "b", "c", "d", "e"],
        labels=np.array([1, 1, 0, 0, 1]),
        categories=[CATEGORIES[1], CATEGORIES[0], CATEGORIES[0], CATEGORIES[0], CATEGORIES[1]],
    )
    probabilities = np.array([0.5, 0.45, 0.9, 0.2, 0.1])

    misses = check_set_misses(check_set, probabilities)

    # 0.5 reads negative, as in the figures, so "a" is wrong; "d", negative at 0.2, is right.
    assert misses == [
        (CATEGORIES[0], 0.9, "c"),
        (CATEGORIES[0], 0.45, "b"),
        (CATEGORIES[1], 0.1, "e"),
        (CATEGORIES[1], 0.5, "a"),
    ]
    figures = check_set_figures(check_set, probabilities)
    assert len(misses) == round(len(check_set) * (1 - figures["accuracy"]))


def test_evaluate_lists_the_check_set_texts_it_reads_wrongly(tiny_version: Path, aclimdb_dir: Path, check_set, capsys):
    from training.evaluate import main

    arguments = ["--artifacts-dir", str(tiny_version.parent), "--data-dir", str(aclimdb_dir), "--misses"]
    assert main(arguments) == 0
    listed = capsys.readouterr().out.split("read wrongly (positive probability)\n")[1].strip().splitlines()
    recorded = json.loads((tiny_version / "metadata.json").read_text())["evaluation"]["check_set"]
    assert len(listed) == round(recorded["examples"] * (1 - recorded["accuracy"]))
    category_of = dict(zip(check_set.texts, check_set.categories, strict=True))
    label_of = dict(zip(check_set.texts, check_set.labels, strict=True))
    for line in listed:
        category, probability, text = line.split(maxsplit=2)
        assert category_of[text] == category
        assert (float(probability) > 0.5) != bool(label_of[text])
