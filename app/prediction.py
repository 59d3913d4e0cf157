"""Turn the model's scores into labelled predictions, and texts it cannot judge into per-item errors."""

from app.model_store import TextExplanation, TextScore
from app.schemas import ExplainResponse, ItemError, Prediction, PredictionError, TokenExplanation

NO_KNOWN_WORDS = ItemError(
    type="no_known_words",
    message="the text holds no word the model knows (after lower-casing and removing punctuation and symbols)",
)


class NoKnownWordsError(ValueError):
    """The text to explain holds no word the model knows (only punctuation, emoji, or unknown words)."""


class UnlocatedTokensError(RuntimeError):
    """The explanation's tokens could not be located in the text, so no offsets can be given."""


def to_predictions(scores: list[TextScore], labels: list[str]) -> list[Prediction | PredictionError]:
    """A label and its probability per text, in order. A text with no word the model knows gets an
    error in its place rather than a guess, and the other texts of the request are still answered."""
    return [
        labelled(score, labels) if score.known_token_count > 0 else PredictionError(index=index, error=NO_KNOWN_WORDS)
        for index, score in enumerate(scores)
    ]


def labelled(score: TextScore, labels: list[str]) -> Prediction:
    negative, positive = labels
    probability = score.positive_probability
    is_positive = probability >= 0.5
    return Prediction(
        label=positive if is_positive else negative,
        score=probability if is_positive else 1.0 - probability,
        positive_probability=probability,
    )


def to_explanation(explanation: TextExplanation, labels: list[str], model_version: int) -> ExplainResponse:
    """The label, probabilities and every token with its offsets and attribution."""
    if explanation.score.known_token_count == 0:
        raise NoKnownWordsError(NO_KNOWN_WORDS.message)
    if any(token.start < 0 for token in explanation.tokens):
        raise UnlocatedTokensError("the tokenizer's words could not be located in the text")
    tokens = [TokenExplanation(**vars(token)) for token in explanation.tokens]
    return ExplainResponse(
        model_version=model_version, **labelled(explanation.score, labels).model_dump(), tokens=tokens
    )
