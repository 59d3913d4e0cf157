"""Turn the model's scores into labelled predictions, and texts it cannot judge into per-item errors."""

from app.model_store import TextScore
from app.schemas import ItemError, Prediction, PredictionError

NO_KNOWN_WORDS = ItemError(
    type="no_known_words",
    message="the text holds no word the model knows (after lower-casing and removing punctuation and symbols)",
)


def to_predictions(scores: list[TextScore], labels: list[str]) -> list[Prediction | PredictionError]:
    """A label and its probability per text, in order. A text with no word the model knows gets an
    error in its place rather than a guess, and the other texts of the request are still answered."""
    negative, positive = labels
    predictions: list[Prediction | PredictionError] = []
    for index, score in enumerate(scores):
        if score.known_token_count == 0:
            predictions.append(PredictionError(index=index, error=NO_KNOWN_WORDS))
            continue
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
