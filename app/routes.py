"""The HTTP endpoints."""

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from app.dependencies import BatcherDep, ModelDep, require_json
from app.prediction import to_predictions
from app.schemas import ErrorBody, PredictResponse, Status, build_predict_request
from app.settings import Settings


def build_router(settings: Settings) -> APIRouter:
    router = APIRouter()
    predict_request = build_predict_request(settings.max_batch_items, settings.max_text_chars)
    errors: dict[int | str, dict[str, Any]] = {
        code: {"model": ErrorBody, "description": description}
        for code, description in {
            413: "Request body too large.",
            415: "The body is not declared as JSON.",
            422: "Invalid request, or a text with no word the model knows.",
            503: "No model is loaded yet, or the queue is full (see Retry-After).",
            504: "The prediction took longer than REQUEST_TIMEOUT_S.",
        }.items()
    }

    @router.post(
        "/predict",
        response_model=PredictResponse,
        responses=errors,
        tags=["predict"],
        dependencies=[Depends(require_json)],
    )
    async def predict(body: predict_request, model: ModelDep, batcher: BatcherDep) -> PredictResponse:
        """Score each text: the more likely label, its probability, and the positive-class probability."""
        scores = await batcher.submit(body.all_texts)
        return PredictResponse(model_version=model.version, predictions=to_predictions(scores, model.labels))

    @router.get("/healthz", response_model=Status, tags=["health"])
    async def healthz() -> Status:
        """The process is alive."""
        return Status(status="ok")

    @router.get("/readyz", response_model=Status, responses={503: {"model": Status}}, tags=["health"])
    async def readyz(request: Request) -> Any:
        """200 once a model is loaded and can answer, 503 before."""
        model = request.app.state.model
        if model is None:
            return JSONResponse(status_code=503, content=Status(status="no model loaded").model_dump())
        return Status(status="ready", model_version=model.version)

    @router.get("/model", responses={503: {"model": ErrorBody}}, tags=["model"])
    async def model_metadata(model: ModelDep) -> dict[str, Any]:
        """The metadata.json of the served version: config, vocabulary, evaluation figures."""
        return model.metadata

    @router.get("/metrics", response_class=Response, tags=["health"])
    async def metrics(request: Request) -> Response:
        """Prometheus metrics: requests, latency, batch sizes, queue depth and wait, inference time."""
        return Response(generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return router
