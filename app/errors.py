"""Map domain exceptions to HTTP answers with a JSON body; clients never see a traceback."""

import logging
from collections.abc import Callable
from typing import TypeVar, cast

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response

from app.batching import BatcherClosedError, BatchTimeoutError, QueueFullError
from app.prediction import NoKnownWordsError, UnlocatedTokensError
from app.schemas import client_location

logger = logging.getLogger(__name__)
ErrorT = TypeVar("ErrorT", bound=Exception)

# Seconds a client told the queue is full should wait; a batch takes well under a second.
RETRY_AFTER_S = "1"


class ModelNotReadyError(RuntimeError):
    """No model version is loaded yet."""


class UnauthorizedError(PermissionError):
    """The request lacks the API key the service was configured with."""


class UnsupportedMediaTypeError(ValueError):
    """The request body is not declared as JSON."""


class ExplanationUnavailableError(LookupError):
    """The served version was exported without the explain signature."""


def _validation_error(_request: Request, error: RequestValidationError) -> JSONResponse:
    # The offending input is not echoed back: it can be a 20,000-character text.
    details = [
        {
            "loc": client_location(item.get("loc", ())),
            "msg": item.get("msg", "invalid"),
            "type": item.get("type", "invalid"),
        }
        for item in error.errors()
    ]
    return JSONResponse(status_code=422, content={"detail": details})


def _no_known_words(_request: Request, error: NoKnownWordsError) -> JSONResponse:
    detail = {"loc": ["body", "text"], "msg": str(error), "type": "no_known_words"}
    return JSONResponse(status_code=422, content={"detail": [detail]})


def _unsupported_media_type(_request: Request, error: UnsupportedMediaTypeError) -> JSONResponse:
    return JSONResponse(status_code=415, content={"detail": str(error)})


def _unauthorized(_request: Request, error: UnauthorizedError) -> JSONResponse:
    return JSONResponse(status_code=401, content={"detail": str(error)}, headers={"WWW-Authenticate": "Bearer"})


def _not_ready(_request: Request, error: Exception) -> JSONResponse:
    return JSONResponse(status_code=503, content={"detail": f"the service is not ready: {error}"})


def _queue_full(_request: Request, error: QueueFullError) -> JSONResponse:
    content = {"detail": f"the service is busy: {error}; retry shortly"}
    return JSONResponse(status_code=503, content=content, headers={"Retry-After": RETRY_AFTER_S})


def _timed_out(_request: Request, error: BatchTimeoutError) -> JSONResponse:
    return JSONResponse(status_code=504, content={"detail": f"the prediction took too long: {error}"})


def _explanation_unavailable(_request: Request, error: ExplanationUnavailableError) -> JSONResponse:
    return JSONResponse(status_code=501, content={"detail": str(error)})


def _unlocated_tokens(request: Request, error: UnlocatedTokensError) -> JSONResponse:
    logger.error("on %s %s: %s", request.method, request.url.path, error)
    return JSONResponse(status_code=500, content={"detail": f"the explanation failed: {error}"})


def _unexpected(request: Request, error: Exception) -> JSONResponse:
    logger.error("unhandled error on %s %s", request.method, request.url.path, exc_info=error)
    return JSONResponse(status_code=500, content={"detail": "internal server error"})


def _on(app: FastAPI, error_type: type[ErrorT], handler: Callable[[Request, ErrorT], Response]) -> None:
    # Starlette types every handler as taking any Exception; this keeps each handler's own type checked.
    app.add_exception_handler(error_type, cast(Callable[[Request, Exception], Response], handler))


def register_error_handlers(app: FastAPI) -> None:
    _on(app, RequestValidationError, _validation_error)
    _on(app, NoKnownWordsError, _no_known_words)
    _on(app, ModelNotReadyError, _not_ready)
    _on(app, UnsupportedMediaTypeError, _unsupported_media_type)
    _on(app, UnauthorizedError, _unauthorized)
    _on(app, BatcherClosedError, _not_ready)
    _on(app, QueueFullError, _queue_full)
    _on(app, BatchTimeoutError, _timed_out)
    _on(app, ExplanationUnavailableError, _explanation_unavailable)
    _on(app, UnlocatedTokensError, _unlocated_tokens)
    _on(app, Exception, _unexpected)
