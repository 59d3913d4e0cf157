"""What route handlers get injected: the loaded model and the batcher kept on app.state."""

from typing import Annotated

from fastapi import Depends, Request

from app.batching import MicroBatcher
from app.errors import ModelNotReadyError, UnsupportedMediaTypeError
from app.model_store import LoadedModel, TextScore


def get_model(request: Request) -> LoadedModel:
    model: LoadedModel | None = request.app.state.model
    if model is None:
        raise ModelNotReadyError("no model version is loaded; see /readyz")
    return model


def get_batcher(request: Request) -> MicroBatcher[str, TextScore]:
    batcher: MicroBatcher[str, TextScore] | None = request.app.state.batcher
    if batcher is None:
        raise ModelNotReadyError("no model version is loaded; see /readyz")
    return batcher


ModelDep = Annotated[LoadedModel, Depends(get_model)]
BatcherDep = Annotated[MicroBatcher[str, TextScore], Depends(get_batcher)]


def require_json(request: Request) -> None:
    """Refuse bodies that do not declare JSON, before they are validated as JSON."""
    content_type = request.headers.get("content-type", "")
    media_type = content_type.split(";")[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise UnsupportedMediaTypeError(
            f"send the body as JSON with Content-Type: application/json, not {content_type!r}"
        )
