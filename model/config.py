"""The hyper-parameters that define the model's shape and its tokenizer."""

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelConfig:
    # Words kept in the vocabulary, counting the padding (0) and out-of-vocabulary (1) ids.
    vocabulary_size: int = 20_000
    # Most tokens the model reads from one text; longer texts are cut as described by tail_length.
    sequence_length: int = 400
    # Tokens kept from the end of an over-long text, because reviews tend to close on a verdict.
    tail_length: int = 100
    # 0: a text longer than sequence_length is cut to its head and tail (above). Above 0: the exported
    # model reads it whole, as windows of sequence_length tokens that start every window_stride tokens
    # (the last one ends on the text's last token), and averages the windows' logits.
    window_stride: int = 0
    # Whether a run of sentence-ending punctuation (. ! ? ;) is read as a token of its own, so that
    # the model sees where a sentence ends, and with it a negation's reach (training/README.md,
    # "Sentence boundaries"). Versions before 8 were trained without it.
    sentence_boundaries: bool = True
    # Width of the word embedding.
    embedding_dim: int = 128
    # Units of each stacked LSTM layer, first to last.
    lstm_units: tuple[int, ...] = (64, 64)
    # Whether each LSTM layer also reads the text backwards.
    bidirectional: bool = True
    # Width of the hidden dense layer of the classification head.
    dense_units: int = 64
    # Dropout rate on the embeddings and in the head.
    dropout: float = 0.3

    def __post_init__(self) -> None:
        if len(self.lstm_units) < 2:
            raise ValueError("the model stacks at least two LSTM layers")
        if not 0 <= self.tail_length < self.sequence_length:
            raise ValueError("tail_length must be at least 0 and below sequence_length")
        if not 0 <= self.window_stride <= self.sequence_length:
            raise ValueError("window_stride must be 0 (head and tail) or at most sequence_length")
        if self.vocabulary_size < 3:
            raise ValueError("vocabulary_size must leave room for padding, unknown and one word")
