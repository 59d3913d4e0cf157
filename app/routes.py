"""The HTTP endpoints."""

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from app.dependencies import ModelDep, SlotDep, require_api_key, require_json
from app.errors import ExplanationUnavailableError, ModelNotReadyError
from app.page import PAGE_HEADERS, STATIC_DIR
from app.prediction import to_explanation, to_predictions
from app.schemas import (
    ErrorBody,
    ExplainResponse,
    PredictResponse,
    ReloadResult,
    Status,
    build_explain_request,
    build_predict_request,
    texts_of,
)
from app.serving import ModelSlot
from app.settings import Settings

_ERRORS = {
    400: "The body cannot be read as JSON at all (bytes that are not UTF-8, nesting too deep).",
    401: "API_KEY is set and the request does not carry it.",
    413: "Request body too large.",
    415: "The body is not declared as JSON.",
    422: "Invalid request (JSON, types, limits, an empty or whitespace-only text); for /explain also no known word.",
    501: "The served model version was exported without the explain signature.",
    503: "No model is loaded yet, or the queue is full (see Retry-After).",
    504: "The prediction took longer than REQUEST_TIMEOUT_S.",
}


def _responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": ErrorBody, "description": _ERRORS[code]} for code in codes}


def build_router(settings: Settings) -> APIRouter:
    router = APIRouter()
    predict_request = build_predict_request(settings.max_batch_items, settings.max_text_chars)
    explain_request = build_explain_request(settings.max_explain_chars)
    protected = [Depends(require_api_key)]

    @router.post(
        "/predict",
        response_model=PredictResponse,
        responses=_responses(400, 401, 413, 415, 422, 503, 504),
        tags=["predict"],
        dependencies=[*protected, Depends(require_json)],
    )
    # The body types are built from the settings' limits when the router is, so mypy cannot see them.
    # The slot is read from the request, not injected, and the answer is returned serialised: each
    # dependency and the re-validation of a returned model cost every request event-loop time, and
    # with single texts under load that time is what limits throughput (README, "Measured serving speed").
    async def predict(body: predict_request, request: Request) -> Response:  # type: ignore[valid-type]
        """Score each text: the more likely label, its probability, and the positive-class probability.

        A text with no word the model knows (only punctuation, emoji, or words outside its
        vocabulary) gets `{"index": i, "error": {"type": "no_known_words", ...}}` in its place; the
        other texts are answered as usual, with 200.
        """
        # Read once and used to the end, so a request is answered by the version it started with.
        slot: ModelSlot = request.app.state.slot
        unit = slot.current
        if unit is None:
            raise ModelNotReadyError("no model version is loaded; see /readyz")
        scores = await unit.batcher.submit(texts_of(body))
        predictions = to_predictions(scores, unit.model.labels)
        answer = PredictResponse(model_version=unit.model.version, predictions=predictions)
        return Response(answer.model_dump_json(), media_type="application/json")

    @router.post(
        "/explain",
        response_model=ExplainResponse,
        responses=_responses(400, 401, 413, 415, 422, 501, 503, 504),
        tags=["predict"],
        dependencies=[*protected, Depends(require_json)],
    )
    async def explain(body: explain_request, slot: SlotDep) -> ExplainResponse:  # type: ignore[valid-type]
        """Score one text and attribute the score to its words: every token with its character offsets
        in the text and a signed attribution (above zero pushes towards positive)."""
        unit = slot.current
        if unit is None:
            raise ModelNotReadyError("no model version is loaded; see /readyz")
        if unit.explainer is None:
            raise ExplanationUnavailableError(
                f"model version {unit.model.version} was exported without the explain signature; "
                "export it again with the current code to serve explanations"
            )
        [explanation] = await unit.explainer.submit(texts_of(body))
        return to_explanation(explanation, unit.model.labels, unit.model.version)

    @router.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        """The web page: a text box, the label and each word shaded by its attribution."""
        return FileResponse(STATIC_DIR / "index.html", headers=PAGE_HEADERS)

    @router.get("/healthz", response_model=Status, response_model_exclude_none=True, tags=["health"])
    async def healthz() -> Status:
        """The process is alive."""
        return Status(status="ok")

    @router.get("/readyz", response_model=Status, responses={503: {"model": Status}}, tags=["health"])
    async def readyz(request: Request, slot: SlotDep) -> Any:
        """200 once a model is loaded and can answer, 503 before, and 503 once shutdown has begun."""
        if request.app.state.draining:
            return JSONResponse(status_code=503, content=Status(status="shutting down").model_dump())
        if slot.current is None:
            return JSONResponse(status_code=503, content=Status(status="no model loaded").model_dump())
        return Status(status="ready", model_version=slot.current.model.version)

    @router.get("/model", responses=_responses(401, 503), tags=["model"], dependencies=protected)
    async def model_metadata(model: ModelDep) -> dict[str, Any]:
        """The metadata.json of the served version: config, vocabulary, evaluation figures."""
        return model.metadata

    metrics_dependencies = protected if settings.metrics_require_api_key else []

    @router.get("/metrics", response_class=Response, tags=["health"], dependencies=metrics_dependencies)
    async def metrics(request: Request) -> Response:
        """Prometheus metrics: requests, latency, batch sizes, queue depth and wait, inference time."""
        return Response(generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    if settings.admin_enabled:

        @router.post("/admin/reload", response_model=ReloadResult, tags=["admin"], dependencies=protected)
        async def reload(slot: SlotDep) -> ReloadResult:
            """Load the newest version under MODEL_DIR now, if it is newer than the served one."""
            swapped = await slot.refresh()
            if slot.current is None:
                raise ModelNotReadyError(f"no loadable version under {settings.model_dir}")
            return ReloadResult(reloaded=swapped, model_version=slot.current.model.version)

    return router
