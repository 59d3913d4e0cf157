"""The application factory; the model is loaded in the lifespan, not at import.

uvicorn --factory app.main:create_app      # or: python -m app, make serve
"""

import asyncio
import contextlib
import json
import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles
from starlette.types import Message

from app.errors import register_error_handlers
from app.metrics import RequestMetricsMiddleware, ServiceMetrics
from app.middleware import BodySizeLimitMiddleware
from app.model_store import WARM_UP_TEXTS
from app.page import STATIC_DIR, STATIC_ROUTE
from app.routes import build_router
from app.serving import ModelSlot
from app.settings import Settings
from model.threads import configure_threads

logger = logging.getLogger(__name__)


async def warm_up_predict(app: FastAPI, settings: Settings) -> None:
    """Send one /predict through the application, in-process, before /readyz answers 200.

    The first request of a route sets up its body parsing, dependencies and response, and the first
    client would pay those few milliseconds. The request metrics count this request too.
    """
    body = json.dumps({"text": WARM_UP_TEXTS[1]}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if settings.api_key is not None:
        headers.append((b"authorization", b"Bearer " + settings.api_key.get_secret_value().encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/predict",
        "raw_path": b"/predict",
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 0),
        "server": ("127.0.0.1", settings.port),
        "app": app,
        "state": {},
    }
    statuses: list[int] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    await app(scope, receive, send)
    if statuses != [200]:
        logger.warning("the warm-up request to /predict was answered %s", statuses)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    slot: ModelSlot = app.state.slot
    configure_threads(settings.tf_intra_op_threads, settings.tf_inter_op_threads)
    sys.setswitchinterval(settings.gil_switch_interval_ms / 1000)
    await slot.refresh()
    if slot.current is not None:
        await warm_up_predict(app, settings)
    else:
        logger.error(
            "no loadable model version under %s yet; /readyz answers 503 until one appears", settings.model_dir
        )
    watcher = None
    if settings.model_poll_interval_s > 0:
        watcher = asyncio.create_task(slot.watch(settings.model_poll_interval_s), name="model-watcher")
    try:
        yield
    finally:
        if watcher is not None:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        await slot.close()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    app = FastAPI(
        title="IMDB sentiment",
        summary="Sentiment of English movie reviews from a stacked-LSTM model.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    # Set on SIGTERM with SHUTDOWN_DELAY_S (app/__main__.py): /readyz answers 503 from then on.
    app.state.draining = False
    app.state.metrics = ServiceMetrics()
    app.state.slot = ModelSlot(settings, app.state.metrics)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST"], allow_headers=["*"]
        )
    # Added last, so outermost: it also counts the requests the size limit refuses.
    app.add_middleware(RequestMetricsMiddleware, metrics=app.state.metrics)
    register_error_handlers(app)
    app.include_router(build_router(settings))
    app.mount(STATIC_ROUTE, StaticFiles(directory=STATIC_DIR), name="static")
    return app
