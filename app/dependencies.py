"""What route handlers get injected, and the checks that run before them.

Every dependency is `async def` although none awaits: FastAPI runs a plain `def` dependency on its
thread pool, and four thread hops per request cost more than the checks themselves.
"""

import secrets
from typing import Annotated

from fastapi import Depends, Request

from app.errors import ModelNotReadyError, UnauthorizedError, UnsupportedMediaTypeError
from app.model_store import LoadedModel
from app.serving import ModelSlot
from app.settings import Settings


async def get_slot(request: Request) -> ModelSlot:
    return request.app.state.slot


async def get_model(slot: Annotated[ModelSlot, Depends(get_slot)]) -> LoadedModel:
    unit = slot.current
    if unit is None:
        raise ModelNotReadyError("no model version is loaded; see /readyz")
    return unit.model


async def require_json(request: Request) -> None:
    """Refuse bodies that do not declare JSON, before they are validated as JSON."""
    content_type = request.headers.get("content-type", "")
    media_type = content_type.split(";")[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise UnsupportedMediaTypeError(
            f"send the body as JSON with Content-Type: application/json, not {content_type!r}"
        )


async def require_api_key(request: Request) -> None:
    """With API_KEY set, the request must carry "Authorization: Bearer <API_KEY>"."""
    # Read from the app rather than injected: every dependency costs each request tens of
    # microseconds of FastAPI's dependency solving, on the event loop that all requests share.
    settings: Settings = request.app.state.settings
    if settings.api_key is None:
        return
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    expected = settings.api_key.get_secret_value()
    # compare_digest takes as long whatever the first differing byte, so timing reveals nothing.
    if scheme.lower() != "bearer" or not secrets.compare_digest(given.strip().encode(), expected.encode()):
        raise UnauthorizedError("a valid API key is required: send Authorization: Bearer <key>")


SlotDep = Annotated[ModelSlot, Depends(get_slot)]
ModelDep = Annotated[LoadedModel, Depends(get_model)]
