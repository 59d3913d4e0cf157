"""Request and response bodies; the request limits come from the settings, so the schema is built from them."""

import re
from typing import Annotated, Any, Literal

from fastapi import Body
from fastapi.openapi.models import Example
from pydantic import AfterValidator, BaseModel, ConfigDict, Discriminator, Field, StringConstraints, Tag, create_model

# At least one character that is not whitespace; stated in the schema, checked by _not_blank. The
# whitespace is spelled out rather than written \s, on which Python and JSON Schema (ECMAScript)
# disagree: Python counts U+0085 and U+001C to U+001F as whitespace, ECMAScript does not.
_NOT_BLANK = r"[^\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]"


def _not_blank(text: str) -> str:
    # Lone surrogates never get here: the JSON parser refuses them (string_unicode).
    if not re.search(_NOT_BLANK, text):
        raise ValueError("text is empty or only whitespace")
    return text


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


_SHAPES = ("many", "one")

_EXAMPLES: dict[str, Example] = {
    "texts": {"value": {"texts": ["A moving, beautifully acted film.", "Two hours I will never get back."]}},
    "text": {"value": {"text": "Surprisingly good."}},
}


def _request_shape(value: object) -> str:
    return "one" if isinstance(value, dict) and "text" in value and "texts" not in value else "many"


def client_location(location: tuple | list) -> list:
    """An error's location as the client wrote the body: without the name of the union branch."""
    parts = list(location)
    if len(parts) > 1 and parts[0] == "body" and parts[1] in _SHAPES:
        del parts[1]
    return parts


def build_predict_request(max_items: int, max_chars: int) -> Any:
    """The /predict body: {"texts": [...]} with 1 to max_items texts, or {"text": "..."}.

    The shape is chosen by its key, so errors name the fields of the shape the client meant.
    """
    text = Annotated[
        str,
        StringConstraints(min_length=1, max_length=max_chars),
        AfterValidator(_not_blank),
        Field(json_schema_extra={"pattern": _NOT_BLANK}),
    ]
    many = create_model(
        "PredictTexts",
        __base__=_Strict,
        texts=(list[text], Field(min_length=1, max_length=max_items, description="Texts to score, in order.")),
    )
    one = create_model(
        "PredictText",
        __base__=_Strict,
        text=(text, Field(description="One text to score; answered as a one-element list.")),
    )
    return Annotated[
        Annotated[many, Tag(_SHAPES[0])] | Annotated[one, Tag(_SHAPES[1])],
        Discriminator(_request_shape),
        Body(openapi_examples=_EXAMPLES),
    ]


_EXPLAIN_EXAMPLES: dict[str, Example] = {
    "contrast": {"value": {"text": "The plot was predictable, but the acting saved it."}}
}


def build_explain_request(max_chars: int) -> Any:
    """The /explain body: {"text": "..."}, one text of at most max_chars characters."""
    text = Annotated[
        str,
        StringConstraints(min_length=1, max_length=max_chars),
        AfterValidator(_not_blank),
        Field(json_schema_extra={"pattern": _NOT_BLANK}, description="The text to explain."),
    ]
    request = create_model("ExplainText", __base__=_Strict, text=(text, ...))
    return Annotated[request, Body(openapi_examples=_EXPLAIN_EXAMPLES)]


def texts_of(body: BaseModel) -> list[str]:
    """The texts of a /predict or /explain body, whichever shape it has."""
    fields = vars(body)
    return fields["texts"] if "texts" in fields else [fields["text"]]


class Prediction(BaseModel):
    label: str = Field(description='The more likely label: "negative" or "positive".')
    score: float = Field(description="Probability of that label.")
    positive_probability: float = Field(description="Probability that the text is positive.")


class ItemError(BaseModel):
    type: Literal["no_known_words"] = Field(
        description="no_known_words: the text holds no word the model knows, so it has nothing to judge it on."
    )
    message: str


class PredictionError(BaseModel):
    """In place of a prediction: a text of a valid request that the model cannot judge."""

    index: int = Field(description="The text's position in the request (0 for a single `text`).")
    error: ItemError


class PredictResponse(BaseModel):
    model_version: int = Field(description="The model version that answered.")
    predictions: list[Prediction | PredictionError] = Field(
        description="One entry per text, in input order: a prediction, or an error for a text that cannot be judged."
    )


class TokenExplanation(BaseModel):
    token: str = Field(description="The token as the model read it: lower-cased, without punctuation.")
    start: int = Field(description="Offset of its first character in the submitted text, in code points.")
    end: int = Field(description="Offset just past its last character, in code points.")
    attribution: float | None = Field(
        description="Its share of the log-odds: above zero pushes towards positive; null when not read."
    )
    truncated: bool = Field(description="Whether the text was too long for the model to read this token.")


class ExplainResponse(Prediction):
    model_version: int = Field(description="The model version that answered.")
    tokens: list[TokenExplanation] = Field(description="Every token of the text, in order.")


class Status(BaseModel):
    status: str
    model_version: int | None = None


class ErrorDetail(BaseModel):
    loc: list[str | int] = Field(default_factory=list, description="Where in the request the problem is.")
    msg: str
    type: str


class ErrorBody(BaseModel):
    detail: str | list[ErrorDetail]


class ReloadResult(BaseModel):
    reloaded: bool = Field(description="Whether a newer version was loaded and swapped in.")
    model_version: int = Field(description="The version served now.")
