"""What the benchmarks and the end-to-end tests share: the real service in its own process on a free
loopback port, waited for until ready, and its resident memory.

    with service(Path("artifacts/sentiment"), {"MAX_BATCH_SIZE": "1"}) as running:
        get(f"{running.url}/readyz")
"""

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

HOST = "127.0.0.1"


class ServiceStartError(RuntimeError):
    """The service process exited or did not become ready in time."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def memory_bytes(pid: int, field: str = "VmHWM") -> int:
    """A process's peak (VmHWM) or current (VmRSS) resident memory."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024
    return 0


def request(port: int, method: str, path: str, body: Any = None, timeout_s: float = 60) -> tuple[int, bytes]:
    """One request on a fresh connection (the standard library's client); `body` is sent as JSON."""
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout_s)
    try:
        payload = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if payload is not None else {}
        connection.request(method, path, body=payload, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # After the command name: utime and stime are the 12th and 13th fields, in clock ticks.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class RunningService:
    process: subprocess.Popen
    port: int

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def peak_rss_bytes(self) -> int:
        return memory_bytes(self.pid, "VmHWM")

    def rss_bytes(self) -> int:
        return memory_bytes(self.pid, "VmRSS")

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.pid)


def wait_ready(running: RunningService, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if running.process.poll() is not None:
            raise ServiceStartError(f"the service exited with status {running.process.returncode} before it was ready")
        try:
            if request(running.port, "GET", "/readyz", timeout_s=5)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise ServiceStartError(f"the service was not ready within {timeout_s:.0f} s")


@contextmanager
def service(
    model_dir: Path,
    environment: dict[str, str] | None = None,
    output: IO[str] | None = None,
    ready_timeout_s: float = 180,
) -> Iterator[RunningService]:
    """`python -m app` serving `model_dir` on a free port, yielded once /readyz answers 200; terminated
    (SIGTERM, then SIGKILL after 60 s) on exit unless it already stopped. Its log goes to `output`,
    or to this process's own output."""
    port = free_port()
    variables = {**os.environ, "MODEL_DIR": str(model_dir), "HOST": HOST, "PORT": str(port), "LOG_LEVEL": "warning"}
    variables.update(environment or {})
    process = subprocess.Popen(
        [sys.executable, "-m", "app"], env=variables, stdout=output, stderr=subprocess.STDOUT if output else None
    )
    running = RunningService(process, port)
    try:
        wait_ready(running, ready_timeout_s)
        yield running
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
