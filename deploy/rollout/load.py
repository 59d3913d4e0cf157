"""Steady load through the balancer: clients that each send one review after another and record every answer.

Each answer is kept with the moments it was sent and received, its status, and the model version
that produced it, so that the rollout checks can place every answer against the moments replicas
stopped and became ready. A connection error, a time-out or a malformed answer is recorded as
status 0: a failure like any non-200 status.
"""

import asyncio
import json
import logging
import time
from dataclasses import dataclass

logger = logging.getLogger(__name__)
HOST = "127.0.0.1"
# Longest a request may take before it counts as failed; far above any answer under this load.
REQUEST_TIMEOUT_S = 30.0
# Pause after a failed connection, so that a client does not spin while nothing listens.
RECONNECT_PAUSE_S = 0.05
REVIEWS = [
    "A moving film with a wonderful cast, though the plot drags in the middle. Still, I loved it.",
    "Two hours I will never get back. Wooden acting and a script that makes no sense at all.",
    "Not the best of the series, but the effects are stunning and the score is great.",
    "I wanted to like it, yet the pacing is dreadful and the ending falls completely flat.",
]


@dataclass(frozen=True)
class Answer:
    sent_s: float
    received_s: float
    # 0 when no HTTP answer came back at all.
    status: int
    # The model_version of a 200 answer, None otherwise.
    version: int | None

    @property
    def failed(self) -> bool:
        return self.status != 200 or self.version is None


class Connection:
    """A keep-alive HTTP/1.1 connection that reads answers by Content-Length and honours Connection: close."""

    def __init__(self, port: int):
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        # The two are opened and cleared together; testing both tells mypy that each is open below.
        if self.reader is None or self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(HOST, self.port)
        head = f"POST {path} HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n"
        self.writer.write(f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body)
        await self.writer.drain()
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("the connection closed before an answer")
        headers = {}
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip().lower()
        payload = await self.reader.readexactly(int(headers.get("content-length", 0)))
        if headers.get("connection") == "close":
            self.close()
        return int(status_line.split()[1]), payload

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def version_of_answer(status: int, payload: bytes) -> int | None:
    if status != 200:
        return None
    try:
        version = json.loads(payload).get("model_version")
    except (ValueError, AttributeError):
        return None
    return version if isinstance(version, int) else None


async def client(port: int, index: int, stop: asyncio.Event, answers: list[Answer]) -> None:
    """Send reviews one after another until `stop` is set, recording every answer."""
    connection = Connection(port)
    request = 0
    try:
        while not stop.is_set():
            body = json.dumps({"text": REVIEWS[(index + request) % len(REVIEWS)]}).encode()
            request += 1
            sent = time.monotonic()
            try:
                status, payload = await asyncio.wait_for(connection.post("/predict", body), REQUEST_TIMEOUT_S)
            except (OSError, EOFError, ValueError, IndexError, TimeoutError) as error:
                # asyncio.IncompleteReadError is an EOFError; ConnectionError an OSError.
                logger.warning("client %d: no answer (%s: %s)", index, type(error).__name__, error)
                connection.close()
                answers.append(Answer(sent, time.monotonic(), 0, None))
                await asyncio.sleep(RECONNECT_PAUSE_S)
                continue
            answers.append(Answer(sent, time.monotonic(), status, version_of_answer(status, payload)))
    finally:
        connection.close()


async def run_load(port: int, clients: int, stop: asyncio.Event) -> list[Answer]:
    """`clients` clients on `port` until `stop` is set; every answer, in the order received."""
    answers: list[Answer] = []
    await asyncio.gather(*(client(port, index, stop, answers) for index in range(clients)))
    return answers
