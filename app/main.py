"""The application factory; the model is loaded in the lifespan, not at import.

uvicorn --factory app.main:create_app      # or: python -m app, make serve
"""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.batching import MicroBatcher
from app.errors import register_error_handlers
from app.metrics import RequestMetricsMiddleware, ServiceMetrics
from app.middleware import BodySizeLimitMiddleware
from app.model_store import ModelLoadError, ModelNotFoundError, configure_threads, load_version, newest_version
from app.routes import build_router
from app.settings import Settings

logger = logging.getLogger(__name__)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    configure_threads(settings.tf_intra_op_threads, settings.tf_inter_op_threads)
    try:
        model = await asyncio.to_thread(lambda: load_version(newest_version(settings.model_dir)))
    except (ModelNotFoundError, ModelLoadError) as error:
        logger.error("serving without a model: %s", error)
        yield
        return
    metrics: ServiceMetrics = app.state.metrics
    batcher = MicroBatcher(
        model.predict,
        max_batch_size=settings.max_batch_size,
        max_wait_s=settings.max_batch_wait_ms / 1000,
        idle_gap_s=settings.batch_idle_gap_ms / 1000,
        max_queue_items=settings.max_queue_items,
        timeout_s=settings.request_timeout_s,
        on_batch=metrics.observe_batch,
    )
    await batcher.start()
    metrics.queue_depth.set_function(lambda: batcher.queue_depth)
    metrics.model.info({"version": str(model.version)})
    app.state.model, app.state.batcher = model, batcher
    try:
        yield
    finally:
        app.state.model, app.state.batcher = None, None
        await batcher.stop()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    app = FastAPI(
        title="IMDB sentiment",
        summary="Sentiment of English movie reviews from a stacked-LSTM model.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.model = None
    app.state.batcher = None
    app.state.metrics = ServiceMetrics()
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    # Added last, so outermost: it also counts the requests the size limit refuses.
    app.add_middleware(RequestMetricsMiddleware, metrics=app.state.metrics)
    register_error_handlers(app)
    app.include_router(build_router(settings))
    return app
