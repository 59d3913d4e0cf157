"""Serve the API with uvicorn on HOST:PORT.

python -m app            # or: make serve
"""

import logging
import signal
import time
from types import FrameType
from typing import Any

import uvicorn
from fastapi import FastAPI

from app.settings import Settings

APP = "app.main:create_app"
logger = logging.getLogger("app")


class DrainingServer(uvicorn.Server):
    """uvicorn's server, except that SIGTERM first lets load balancers stop sending (SHUTDOWN_DELAY_S).

    uvicorn's shutdown closes the listening socket and every connection without a request in
    progress at once, which drops requests a load balancer has just sent: connections still in the
    kernel's backlog, and connections accepted whose request has not been read yet. So for
    SHUTDOWN_DELAY_S after SIGTERM everything keeps serving but /readyz answers 503, and balancers
    that check it take the replica out; only then does uvicorn's shutdown start. A second SIGTERM,
    or SIGINT, starts it at once.
    """

    def __init__(self, config: uvicorn.Config, application: FastAPI, delay_s: float):
        super().__init__(config)
        self.application = application
        self.delay_s = delay_s
        self.drain_until: float | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if sig == signal.SIGTERM and self.delay_s > 0 and self.drain_until is None:
            self.application.state.draining = True
            self.drain_until = time.monotonic() + self.delay_s
            logger.info("SIGTERM: /readyz answers 503 for %.1f s, then shutdown", self.delay_s)
            return
        super().handle_exit(sig, frame)

    async def on_tick(self, counter: int) -> bool:
        if self.drain_until is not None and not self.should_exit and time.monotonic() >= self.drain_until:
            super().handle_exit(signal.SIGTERM, None)
        return await super().on_tick(counter)


def main() -> None:
    settings = Settings()
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log_level,
        "timeout_graceful_shutdown": round(settings.shutdown_timeout_s),
    }
    if settings.workers > 1:
        uvicorn.run(APP, factory=True, workers=settings.workers, **options)
        return
    # Imported here, not above: with several workers this process only supervises them, and the
    # application would load TensorFlow into it for nothing.
    from app.main import create_app

    # On SIGTERM uvicorn stops accepting connections, lets queued and running requests finish
    # (up to SHUTDOWN_TIMEOUT_S), shuts the application down, and then re-raises the signal to the
    # handler that was there before it started. That handler does nothing, so the process exits 0,
    # which is what orchestrators expect of a clean stop.
    signal.signal(signal.SIGTERM, lambda _signal, _frame: None)
    application = create_app(settings)
    DrainingServer(uvicorn.Config(application, **options), application, settings.shutdown_delay_s).run()


if __name__ == "__main__":
    main()
