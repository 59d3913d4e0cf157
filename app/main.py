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
from app.middleware import BodySizeLimitMiddleware
from app.model_store import ModelLoadError, ModelNotFoundError, load_version, newest_version
from app.routes import build_router
from app.settings import Settings

logger = logging.getLogger(__name__)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    try:
        model = await asyncio.to_thread(lambda: load_version(newest_version(settings.model_dir)))
    except (ModelNotFoundError, ModelLoadError) as error:
        logger.error("serving without a model: %s", error)
        yield
        return
    batcher = MicroBatcher(model.predict, settings.max_batch_size, settings.max_batch_wait_ms / 1000)
    await batcher.start()
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
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    register_error_handlers(app)
    app.include_router(build_router(settings))
    return app
