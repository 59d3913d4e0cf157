"""Serve the API with uvicorn on HOST:PORT.

python -m app            # or: make serve
"""

import logging
import signal

import uvicorn

from app.settings import Settings

APP = "app.main:create_app"


def main() -> None:
    settings = Settings()
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    options = {
        "factory": True,
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log_level,
        "timeout_graceful_shutdown": round(settings.shutdown_timeout_s),
    }
    if settings.workers > 1:
        uvicorn.run(APP, workers=settings.workers, **options)
        return
    # On SIGTERM uvicorn stops accepting connections, lets queued and running requests finish
    # (up to SHUTDOWN_TIMEOUT_S), shuts the application down, and then re-raises the signal to the
    # handler that was there before it started. That handler does nothing, so the process exits 0,
    # which is what orchestrators expect of a clean stop.
    signal.signal(signal.SIGTERM, lambda _signal, _frame: None)
    uvicorn.Server(uvicorn.Config(APP, **options)).run()


if __name__ == "__main__":
    main()
