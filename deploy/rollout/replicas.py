"""One replica of the service: a `python -m app` process on its own loopback port, started, watched and stopped."""

import asyncio
import json
import logging
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.harness import memory_bytes
from deploy.rollout.load import HOST

logger = logging.getLogger(__name__)
READY_POLL_S = 0.1


class ReplicaError(RuntimeError):
    """A replica exited or did not become ready in time."""


@dataclass
class Readiness:
    """When a started replica answered /readyz 200, bounded from below by the last poll that did not."""

    # The moment the last unanswered or not-ready poll was sent: the replica was not ready then.
    last_not_ready_s: float
    ready_s: float
    version: int


async def ready_version(port: int) -> int | None:
    """The model version /readyz reports, or None when the replica does not answer 200."""
    try:
        reader, writer = await asyncio.open_connection(HOST, port)
    except OSError:
        return None
    try:
        writer.write(f"GET /readyz HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        response = await asyncio.wait_for(reader.read(), timeout=5)
    except (OSError, TimeoutError):
        return None
    finally:
        writer.close()
    head, _, payload = response.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        return None
    return json.loads(payload).get("model_version")


@dataclass
class Replica:
    name: str
    port: int
    model_dir: Path
    log_dir: Path
    environment: dict[str, str] = field(default_factory=dict)
    process: asyncio.subprocess.Process | None = None
    started_s: float = 0.0
    generation: int = 0

    async def start(self) -> None:
        self.generation += 1
        environment = {
            **os.environ,
            **self.environment,
            "MODEL_DIR": str(self.model_dir),
            "HOST": HOST,
            "PORT": str(self.port),
        }
        log = (self.log_dir / f"{self.name}-{self.generation}.log").open("wb")
        self.started_s = time.monotonic()
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "app", env=environment, stdout=log, stderr=asyncio.subprocess.STDOUT
        )
        log.close()

    async def wait_ready(self, timeout_s: float) -> Readiness:
        # Before its process started, a replica was certainly not ready.
        last_not_ready = self.started_s
        deadline = time.monotonic() + timeout_s
        while True:
            sent = time.monotonic()
            version = await ready_version(self.port)
            if version is not None:
                return Readiness(last_not_ready, time.monotonic(), version)
            last_not_ready = sent
            if self.process is None or self.process.returncode is not None:
                raise ReplicaError(f"{self.name} exited before it was ready; see {self.log_dir}")
            if time.monotonic() > deadline:
                raise ReplicaError(f"{self.name} was not ready within {timeout_s:.0f} s")
            await asyncio.sleep(READY_POLL_S)

    def peak_rss_bytes(self) -> int:
        """The process's peak resident memory so far (VmHWM)."""
        return 0 if self.process is None else memory_bytes(self.process.pid, "VmHWM")

    async def stop(self, signal_number: signal.Signals, timeout_s: float) -> int:
        """Send the signal and wait for the process to exit; its exit code (negative: killed by a signal)."""
        if self.process is None or self.process.returncode is not None:
            raise ReplicaError(f"{self.name} is not running")
        self.process.send_signal(signal_number)
        try:
            return await asyncio.wait_for(self.process.wait(), timeout_s)
        except TimeoutError as error:
            self.process.kill()
            await self.process.wait()
            raise ReplicaError(f"{self.name} did not exit within {timeout_s:.0f} s of {signal_number.name}") from error

    async def close(self) -> None:
        """Stop the process whatever its state, for clean-up."""
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()
