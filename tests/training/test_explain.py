"""The explain signature of a tiny model exported by the real training code."""

from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from model.artifact import (
    EXPLAIN_SIGNATURE_NAME,
    OUTPUT_ATTRIBUTION,
    OUTPUT_KNOWN_TOKENS,
    OUTPUT_PROBABILITY,
    OUTPUT_TOKEN_COUNT,
    OUTPUT_TOKEN_END,
    OUTPUT_TOKEN_START,
    OUTPUT_TOKENS,
    OUTPUT_TRUNCATED,
    SIGNATURE_NAME,
)
from model.text import standardize
from tests.conftest import TINY_MODEL
from training.data import load_aclimdb
from training.faithfulness import deletion_effects, without_spans

TEXTS = [
    "Wonderful, BRILLIANT film!<br /><br />The plot wasn't dull.",
    "awful\u00a0boring <BR/>terrible 'waste' of time\x00\x07 — worst 😀 movie",
    "the film was wonderful but the plot’s awful " * 7,
    "?!",
]


@pytest.fixture(scope="module")
def signatures(tiny_version: Path):
    loaded = tf.saved_model.load(str(tiny_version))
    return loaded.signatures[EXPLAIN_SIGNATURE_NAME], loaded.signatures[SIGNATURE_NAME]


def standardized(span: str) -> str:
    return standardize(tf.constant([span]), TINY_MODEL.sentence_boundaries).numpy()[0].decode().strip()


def explained(explain, texts: list[str]) -> list[dict]:
    """Each text's explanation as plain Python, trimmed to its own tokens."""
    outputs = {name: value.numpy() for name, value in explain(texts=tf.constant(texts)).items()}
    rows = []
    for index in range(len(texts)):
        count = int(outputs[OUTPUT_TOKEN_COUNT][index])
        rows.append(
            {
                "probability": float(outputs[OUTPUT_PROBABILITY][index]),
                "known": int(outputs[OUTPUT_KNOWN_TOKENS][index]),
                "tokens": [token.decode() for token in outputs[OUTPUT_TOKENS][index][:count]],
                "starts": outputs[OUTPUT_TOKEN_START][index][:count].tolist(),
                "ends": outputs[OUTPUT_TOKEN_END][index][:count].tolist(),
                "attributions": outputs[OUTPUT_ATTRIBUTION][index][:count],
                "truncated": outputs[OUTPUT_TRUNCATED][index][:count].tolist(),
            }
        )
    return rows


def serve_outputs(serve, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    outputs = serve(texts=tf.constant(texts))
    return outputs[OUTPUT_PROBABILITY].numpy(), outputs[OUTPUT_KNOWN_TOKENS].numpy()


def test_explain_gives_the_serving_probability_and_known_word_count(signatures):
    explain, serve = signatures
    probabilities, known = serve_outputs(serve, TEXTS)
    rows = explained(explain, TEXTS)
    np.testing.assert_allclose([row["probability"] for row in rows], probabilities, atol=1e-6)
    assert [row["known"] for row in rows] == known.tolist()


def test_the_reported_tokens_are_exactly_what_serving_default_reads(signatures):
    explain, serve = signatures
    for text, row in zip(TEXTS, explained(explain, TEXTS), strict=True):
        # Each span of the original text standardizes to its token, punctuation and case aside.
        spans = [text[start:end] for start, end in zip(row["starts"], row["ends"], strict=True)]
        assert [standardized(span) for span in spans] == row["tokens"]
        # Only the spans, and only the tokens, read by serving_default: the same probability.
        from_spans, from_tokens = " ".join(spans), " ".join(row["tokens"])
        np.testing.assert_allclose(serve_outputs(serve, [from_spans, from_tokens])[0], row["probability"], atol=1e-6)


# Texts past the tiny model's sequence length. The tiny model is so sure of some repeated phrases
# (within 1e-6 of a probability of 1) that every attribution comes out exactly zero in float32, so
# attributions of the kept tokens are required of some of these texts, not of each.
LONG_TEXTS = [
    TEXTS[2],
    "the plot’s actor and the scene in this movie " * 7,
    "a boring story, but the director loved it. " * 7,
    "the film was great and the plot dull " * 7,
]


def test_long_texts_list_the_tokens_truncation_dropped_without_attribution(signatures):
    explain, _ = signatures
    attributed = []
    for row in explained(explain, LONG_TEXTS):
        count = len(row["tokens"])
        assert count > TINY_MODEL.sequence_length
        head = TINY_MODEL.sequence_length - TINY_MODEL.tail_length
        dropped = np.array([head <= position < count - TINY_MODEL.tail_length for position in range(count)])
        assert row["truncated"] == dropped.tolist()
        assert np.all(row["attributions"][dropped] == 0)
        attributed.append(np.count_nonzero(row["attributions"][~dropped]))
    assert max(attributed) > 0


def test_attributions_point_the_way_the_sentiment_words_do(signatures):
    explain, _ = signatures
    row = explained(explain, ["wonderful the film awful the plot brilliant"])[0]
    by_token = dict(zip(row["tokens"], row["attributions"], strict=True))
    assert by_token["wonderful"] > 0 and by_token["brilliant"] > 0
    assert by_token["awful"] < 0


def test_a_texts_explanation_is_the_same_alone_and_in_a_batch(signatures):
    explain, _ = signatures
    together = explained(explain, TEXTS)
    for text, batched in zip(TEXTS, together, strict=True):
        alone = explained(explain, [text])[0]
        assert alone["tokens"] == batched["tokens"] and alone["starts"] == batched["starts"]
        np.testing.assert_allclose(alone["attributions"], batched["attributions"], atol=1e-5)


def test_without_spans_keeps_neighbouring_words_apart():
    assert without_spans("good,bad movie", [(0, 4), (9, 14)]) == " ,bad  "


def test_deleting_the_top_words_moves_the_probability_twice_as_far_as_random_words(signatures, aclimdb_dir: Path):
    explain, serve = signatures
    reviews = load_aclimdb(aclimdb_dir).test.texts
    result = deletion_effects(explain, serve, reviews, deleted=5, random_draws=5, seed=0)
    assert result.texts >= 150
    assert result.random_mean > 0
    assert result.ratio >= 2.0, result
