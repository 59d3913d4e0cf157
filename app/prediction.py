"""Turn the model's scores into labelled predictions."""

from app.model_store import TextExplanation, TextScore
from app.schemas import ExplainResponse, Prediction, TokenExplanation


class NoKnownWordsError(ValueError):
    """Some texts hold no word the model knows (only punctuation, emoji, or words outside its vocabulary)."""

    def __init__(self, indexes: list[int], single_text: bool = False):
        super().__init__(f"texts at {indexes} hold no word the model knows")
        self.indexes = indexes
        # Whether the request held one "text" rather than a "texts" list.
        self.single_text = single_text


class UnlocatedTokensError(RuntimeError):
    """The explanation's tokens could not be located in the text, so no offsets can be given."""


def to_predictions(scores: list[TextScore], labels: list[str]) -> list[Prediction]:
    """A label and its probability per text; texts the model cannot judge are refused, not guessed."""
    unjudged = [index for index, score in enumerate(scores) if score.known_token_count == 0]
    if unjudged:
        raise NoKnownWordsError(unjudged)
    return [labelled(score, labels) for score in scores]


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
        raise NoKnownWordsError([0], single_text=True)
    if any(token.start < 0 for token in explanation.tokens):
        raise UnlocatedTokensError("the tokenizer's words could not be located in the text")
    tokens = [TokenExplanation(**vars(token)) for token in explanation.tokens]
    return ExplainResponse(
        model_version=model_version, **labelled(explanation.score, labels).model_dump(), tokens=tokens
    )
