"""Load from wrk, the C load generator, so that the client costs the service's machine little CPU.

    result = run_wrk(running.url, [Request.predict({"text": "Great film."})], connections=64, seconds=10)

Requests are written to a Lua file that `benchmarks/requests.lua` reads; wrk sends them on keep-alive
connections for a fixed time and prints its figures as one JSON line, which `run_wrk` returns.
wrk comes from the Debian package of that name, installed when missing.
"""

import json
import logging
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)
SCRIPT = Path(__file__).with_name("requests.lua")
RESULT_PREFIX = "WRK_JSON "
# wrk's threads; fewer when there are fewer connections, which wrk requires.
THREADS = 2


class LoadGeneratorError(RuntimeError):
    """wrk is missing and cannot be installed, or it did not report its figures."""


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: str | None = None
    content_type: str = "application/json"

    @classmethod
    def predict(cls, body: Any) -> "Request":
        return cls("POST", "/predict", json.dumps(body))


def ensure_wrk() -> str:
    """The path of wrk, installed with apt-get when it is missing."""
    found = shutil.which("wrk")
    if found is not None:
        return found
    logger.info("wrk is missing: installing the Debian package wrk")
    try:
        subprocess.run(["apt-get", "update", "-qq"], check=True, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError) as error:
        raise LoadGeneratorError(f"wrk is missing and apt-get could not install it: {error}") from error
    found = shutil.which("wrk")
    if found is None:
        raise LoadGeneratorError("apt-get installed wrk but it is not on PATH")
    return found


def lua_string(text: str) -> str:
    """A Lua string literal of `text`'s UTF-8 bytes: printable ASCII as is, every other byte escaped."""
    escaped = []
    for byte in text.encode("utf-8"):
        character = chr(byte)
        if character in '"\\' or not 32 <= byte < 127:
            escaped.append(f"\\{byte:03d}")
        else:
            escaped.append(character)
    return '"' + "".join(escaped) + '"'


def write_requests(requests: list[Request], path: Path) -> None:
    lines = ["return {"]
    for entry in requests:
        body = "nil" if entry.body is None else lua_string(entry.body)
        fields = [lua_string(entry.method), lua_string(entry.path), lua_string(entry.content_type), body]
        lines.append("  {" + ", ".join(fields) + "},")
    lines.append("}")
    path.write_text("\n".join(lines) + "\n", encoding="ascii")


def run_wrk(
    url: str, requests: list[Request], connections: int, seconds: float, order: str = "cycle"
) -> dict[str, Any]:
    """wrk's figures for `seconds` of `requests` from `connections` keep-alive connections:
    requests answered, answers by status code, socket errors and latency percentiles (microseconds)."""
    wrk = ensure_wrk()
    with tempfile.TemporaryDirectory(prefix="wrk-") as folder:
        requests_file = Path(folder) / "requests.lua"
        write_requests(requests, requests_file)
        command = [
            wrk,
            f"-t{min(THREADS, connections)}",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "60s",
            "-s",
            str(SCRIPT),
            url,
            "--",
            str(requests_file),
            order,
        ]
        finished = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120, check=False)
    lines = [line for line in finished.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    if finished.returncode != 0 or not lines:
        raise LoadGeneratorError(
            f"wrk failed ({finished.returncode}): {finished.stdout[-500:]} {finished.stderr[-500:]}"
        )
    result = json.loads(lines[-1][len(RESULT_PREFIX) :])
    result["statuses"] = {int(status): count for status, count in result["statuses"].items()}
    result["connections"] = connections
    return result
