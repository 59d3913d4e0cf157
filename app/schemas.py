"""Request and response bodies; the request limits come from the settings, so the schema is built from them."""

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, create_model, model_validator


def _check_text(text: str) -> str:
    if not text.strip():
        raise ValueError("text is empty or only whitespace")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise ValueError("text is not valid Unicode (it holds a lone surrogate)") from error
    return text


class _PredictRequestBase(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"texts": ["A moving, beautifully acted film.", "Two hours I will never get back."]},
                {"text": "Surprisingly good."},
            ]
        },
    )

    @model_validator(mode="after")
    def _one_of_text_or_texts(self) -> "_PredictRequestBase":
        if (self.text is None) == (self.texts is None):
            raise ValueError('give either "texts" (a list of strings) or "text" (one string)')
        return self

    @property
    def all_texts(self) -> list[str]:
        return self.texts if self.texts is not None else [self.text]


def build_predict_request(max_items: int, max_chars: int) -> type[_PredictRequestBase]:
    """The /predict body: {"texts": [...]} with 1 to max_items texts, or {"text": "..."}."""
    text = Annotated[str, StringConstraints(min_length=1, max_length=max_chars), AfterValidator(_check_text)]
    return create_model(
        "PredictRequest",
        __base__=_PredictRequestBase,
        texts=(list[text] | None, Field(None, min_length=1, max_length=max_items, description="Texts to score.")),
        text=(text | None, Field(None, description="One text to score; answered as a one-element list.")),
    )


class Prediction(BaseModel):
    label: str = Field(description='The more likely label: "negative" or "positive".')
    score: float = Field(description="Probability of that label.")
    positive_probability: float = Field(description="Probability that the text is positive.")


class PredictResponse(BaseModel):
    model_version: int = Field(description="The model version that answered.")
    predictions: list[Prediction] = Field(description="One prediction per text, in input order.")


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
