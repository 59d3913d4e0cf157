import numpy as np
import pytest
import tensorflow as tf

from model.config import ModelConfig
from model.text import (
    PADDING_ID,
    build_vectorizer,
    kept_tokens,
    pad,
    standardize,
    token_spans,
    tokenize,
    truncate,
    windows,
)


def standardized(text: str) -> str:
    return standardize(tf.constant([text])).numpy()[0].decode("utf-8").split()


def test_standardize_lowercases_and_strips_line_breaks_and_punctuation():
    assert standardized("Great FILM!<br /><br />Loved it, really.") == ["great", "film", "loved", "it", "really"]


def test_standardize_folds_contractions_into_one_word():
    assert standardized("I don't know, it’s fine") == ["i", "dont", "know", "its", "fine"]


def test_standardize_keeps_non_latin_words_and_drops_emoji_and_control_characters():
    assert standardized("Ótimo FILME 😀 素晴らしい\x00\x07映画") == ["ótimo", "filme", "素晴らしい", "映画"]


def test_standardize_leaves_nothing_of_punctuation_only_text():
    assert standardized("?!... 🎬 ---") == []


def test_sentence_boundaries_keep_each_run_of_sentence_ends_as_one_token():
    config = ModelConfig(sentence_boundaries=True)
    tokens = tokenize(tf.constant(["Never get back. Dull, badly acted!?! 7.5/10; ok…"]), config).to_list()[0]
    expected = "never get back . dull badly acted . 7 . 5 10 . ok ."
    assert b" ".join(tokens).decode() == expected


def test_without_sentence_boundaries_sentence_ends_go_with_the_other_punctuation():
    config = ModelConfig(sentence_boundaries=False)
    assert tokenize(tf.constant(["Back. Dull!"]), config).to_list()[0] == [b"back", b"dull"]


def ragged(rows: list[list[int]]) -> tf.RaggedTensor:
    return tf.ragged.constant(rows, dtype=tf.int64)


def test_truncate_keeps_short_texts_whole_and_head_plus_tail_of_long_ones():
    config = ModelConfig(sequence_length=6, tail_length=2)
    short, long = list(range(2, 8)), list(range(2, 14))
    result = truncate(ragged([short, long]), config).to_list()
    assert result[0] == short
    assert result[1] == [2, 3, 4, 5, 12, 13]


def test_pad_pads_to_the_longest_row_and_to_at_least_one_step():
    assert pad(ragged([[5, 6, 7], [8]])).numpy().tolist() == [[5, 6, 7], [8, PADDING_ID, PADDING_ID]]
    assert pad(ragged([[], []])).shape == (2, 1)


def test_vectorizer_maps_unseen_words_to_the_unknown_id():
    vectorizer = build_vectorizer(ModelConfig(vocabulary_size=10))
    vectorizer.adapt(tf.constant(["good film", "bad film"]))
    ids = vectorizer(tf.constant(["Good FILM, zebra"])).to_list()[0]
    vocabulary = vectorizer.get_vocabulary()
    assert [vocabulary[i] for i in ids] == ["good", "film", "[UNK]"]


@pytest.mark.parametrize("tail_length", [-1, 6])
def test_config_rejects_tail_outside_the_sequence(tail_length: int):
    with pytest.raises(ValueError, match="tail_length"):
        ModelConfig(sequence_length=6, tail_length=tail_length)


def test_config_requires_two_stacked_lstm_layers():
    with pytest.raises(ValueError, match="two LSTM"):
        ModelConfig(lstm_units=(8,))


def test_standardize_is_batch_independent():
    texts = ["One. Two!", "THREE<br/>four"]
    together = standardize(tf.constant(texts)).numpy()
    alone = np.array([standardize(tf.constant([text])).numpy()[0] for text in texts])
    assert (together == alone).all()


def test_windows_cover_a_long_text_with_overlap_and_end_on_its_last_token():
    config = ModelConfig(sequence_length=4, tail_length=1, window_stride=2)
    long, exact, short = list(range(10, 17)), list(range(20, 24)), [30, 31]
    cut, owners = windows(ragged([long, [], exact, short]), config)
    assert cut.to_list() == [[10, 11, 12, 13], [12, 13, 14, 15], [13, 14, 15, 16], [], [20, 21, 22, 23], [30, 31]]
    assert owners.numpy().tolist() == [0, 0, 0, 1, 2, 3]


def test_windows_every_sequence_length_tokens_still_reach_the_end():
    config = ModelConfig(sequence_length=3, tail_length=1, window_stride=3)
    cut, owners = windows(ragged([list(range(8))]), config)
    assert cut.to_list() == [[0, 1, 2], [3, 4, 5], [5, 6, 7]]
    assert owners.numpy().tolist() == [0, 0, 0]


@pytest.mark.parametrize("window_stride", [-1, 7])
def test_config_rejects_a_stride_outside_the_sequence(window_stride: int):
    with pytest.raises(ValueError, match="window_stride"):
        ModelConfig(sequence_length=6, tail_length=2, window_stride=window_stride)


@pytest.mark.parametrize(
    "text",
    [
        "Great FILM!<br /><br />Loved it, really.",
        "I don't know, it’s fine 😀 素晴らしい\x00\x07映画",
        "<BR\t/>br<Br>x<b'r>y '' 'n' rock-'n'-roll",
        "İstanbul ΟΔΟΣ' e\u0301f a\u00a0b c\u2028d ab\u200dcd",
        "",
        "?!... 🎬 ---",
        "  leading and trailing\n\n",
        "Two hours I will never get back. Dull, badly acted... Why?! 7.5/10; end.Next don't.",
        "films'. 'Quoted.' ¿Qué? 素晴らしい。映画！",
    ],
)
@pytest.mark.parametrize("sentence_boundaries", [False, True])
def test_token_spans_locate_each_token_in_the_original_text(text: str, sentence_boundaries: bool):
    config = ModelConfig(sentence_boundaries=sentence_boundaries)
    tokens = [token.decode() for token in tokenize(tf.constant([text]), config).to_list()[0]]
    starts, ends = (offsets.to_list()[0] for offsets in token_spans(tf.constant([text]), config))
    assert len(starts) == len(ends) == len(tokens)
    assert starts == sorted(starts) and all(start < end for start, end in zip(starts, ends, strict=True))
    for token, start, end in zip(tokens, starts, ends, strict=True):
        assert tokenize(tf.constant([text[start:end]]), config).to_list()[0] == [token.encode()]


def test_kept_tokens_marks_what_truncate_keeps():
    config = ModelConfig(sequence_length=6, tail_length=2)
    kept = kept_tokens(ragged([list(range(2, 8)), list(range(2, 14))]), config).to_list()
    assert kept[0] == [True] * 6
    assert kept[1] == [True] * 4 + [False] * 6 + [True] * 2
