"""Turn the model's scores into labelled predictions."""

from app.model_store import TextScore
from app.schemas import Prediction


class NoKnownWordsError(ValueError):
    """Some texts hold no word the model knows (only punctuation, emoji, or words outside its vocabulary)."""

    def __init__(self, indexes: list[int]):
        super().__init__(f"texts at {indexes} hold no word the model knows")
        self.indexes = indexes


def to_predictions(scores: list[TextScore], labels: list[str]) -> list[Prediction]:
    """A label and its probability per text; texts the model cannot judge are refused, not guessed."""
    unjudged = [index for index, score in enumerate(scores) if score.known_token_count == 0]
    if unjudged:
        raise NoKnownWordsError(unjudged)
    negative, positive = labels
    predictions = []
    for score in scores:
        probability = score.positive_probability
        is_positive = probability >= 0.5
        predictions.append(
            Prediction(
                label=positive if is_positive else negative,
                score=probability if is_positive else 1.0 - probability,
                positive_probability=probability,
            )
        )
    return predictions
