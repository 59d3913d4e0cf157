"""Load benchmark of the service: reviews/s and latency over HTTP, against the model's own ceiling.

    python -m benchmarks.serving --data-dir aclImdb_v1.tar.gz --requests 400 --output bench.json
    make bench ARGS="--requests 200"

It starts the real service (`python -m app`) on 127.0.0.1, sends single-text requests from 1, 8, 32
and 64 concurrent clients, and compares with the SavedModel called in-process on the same texts at
its best batch size (the ceiling) and with the service run unbatched (MAX_BATCH_SIZE=1). At 64
clients it then measures the ceiling and the service turn about for a few rounds (`--rounds`), so
that drift in the machine's speed does not decide their ratio. Every run is bounded in requests and
in seconds, and all traffic stays on loopback.
"""

import argparse
import asyncio
import json
import logging
import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

logger = logging.getLogger("benchmarks.serving")
CONCURRENCIES = (1, 8, 32, 64)
CEILING_BATCH_SIZES = (1, 8, 16, 32, 64)
HOST = "127.0.0.1"
GENERATED_WORDS = "the film was a great story but the acting felt dull and slow in parts yet i loved it"


def review_texts(data_dir: Path | None, count: int, seed: int) -> tuple[list[str], str]:
    """IMDB test reviews when a local copy is given, else generated texts with IMDB's length mix."""
    rng = np.random.default_rng(seed)
    if data_dir is not None:
        from training.data import load_aclimdb

        test = load_aclimdb(data_dir).test
        return [test.texts[i] for i in rng.permutation(len(test))[:count]], f"IMDB test reviews from {data_dir}"
    words = np.array(GENERATED_WORDS.split())
    # IMDB review lengths are roughly log-normal: median about 175 words, a long tail past 1,000.
    lengths = np.clip(rng.lognormal(mean=np.log(175), sigma=0.75, size=count), 10, 2500).astype(int)
    return [" ".join(rng.choice(words, size=length)) for length in lengths], "generated texts, IMDB length mix"


def reviews_per_s(predict, texts: list[str], batch_size: int) -> float:
    started = time.perf_counter()
    for start in range(0, len(texts), batch_size):
        predict(texts[start : start + batch_size])
    return len(texts) / (time.perf_counter() - started)


class Ceiling:
    """The SavedModel in this process: reviews/s per batch size, and the latency of one text alone.

    Also the rate of the service's own way of calling it (batches cut into groups of similar
    length), so that the table shows how much of the service's lead comes from that. The model
    stays loaded so that the ceiling can be measured again after the service runs: this machine's
    speed drifts within minutes, and a ratio of two figures taken at different times would measure
    that drift as much as the service.
    """

    def __init__(self, model_dir: Path):
        from app.model_store import load_version
        from app.settings import Settings
        from model.artifact import newest_version

        path = newest_version(model_dir)
        self.model = load_version(path)
        self.grouped = load_version(path, Settings().length_group_size)

    def plain(self, texts: list[str], batch_size: int) -> float:
        import tensorflow as tf

        return reviews_per_s(lambda batch: self.model.signature(texts=tf.constant(batch)), texts, batch_size)

    def grouped_rate(self, texts: list[str]) -> float:
        """The service's way: batches of the largest size, each cut into length groups."""
        return reviews_per_s(self.grouped.predict, texts, max(CEILING_BATCH_SIZES))

    def sweep(self, texts: list[str]) -> dict:
        """Every batch size, the grouped calls, and one text alone."""
        import tensorflow as tf

        rates = {batch_size: self.plain(texts, batch_size) for batch_size in CEILING_BATCH_SIZES}
        single = []
        for text in texts[:100]:
            started = time.perf_counter()
            self.model.signature(texts=tf.constant([text]))
            single.append(time.perf_counter() - started)
        best = max(rates, key=rates.get)
        return {
            "reviews_per_s_by_batch_size": rates,
            "best_batch_size": best,
            "reviews_per_s": rates[best],
            "length_grouped_reviews_per_s": self.grouped_rate(texts),
            "single_call_p50_s": float(np.median(single)),
        }

    def again(self, texts: list[str], before: dict) -> dict:
        """The best batch size and the grouped calls measured again; the ceiling is the mean of both
        measurements, and each is kept."""
        after = {
            "reviews_per_s": self.plain(texts, before["best_batch_size"]),
            "length_grouped_reviews_per_s": self.grouped_rate(texts),
        }
        mean = {name: (before[name] + after[name]) / 2 for name in after}
        return {**before, **mean, "before": before, "after": after}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


class Connection:
    """A minimal keep-alive HTTP/1.1 client, so that the load generator costs the server little CPU."""

    def __init__(self, port: int):
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: str, path: str, body: bytes = b"", content_type: str = "application/json"
    ) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(HOST, self.port)
        head = f"{method} {path} HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: {content_type}\r\n"
        self.writer.write(f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body)
        await self.writer.drain()
        status_line = await self.reader.readline()
        headers = {}
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            headers[name.strip().lower()] = value.strip()
        payload = await self.reader.readexactly(int(headers.get("content-length", 0)))
        return int(status_line.split()[1]), payload

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def load(port: int, texts: list[str], concurrency: int, requests: int, max_seconds: float) -> dict:
    """`concurrency` clients share `requests` single-text requests; stops early after `max_seconds`."""
    bodies = [json.dumps({"text": text}).encode() for text in texts]
    latencies: list[float] = []
    errors: dict[int, int] = {}
    next_index = 0
    deadline = time.perf_counter() + max_seconds

    async def client() -> None:
        nonlocal next_index
        connection = Connection(port)
        try:
            while next_index < requests and time.perf_counter() < deadline:
                body = bodies[next_index % len(bodies)]
                next_index += 1
                started = time.perf_counter()
                status, _ = await connection.request("POST", "/predict", body)
                latencies.append(time.perf_counter() - started)
                if status != 200:
                    errors[status] = errors.get(status, 0) + 1
        finally:
            connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return {
        "concurrency": concurrency,
        "requests": len(latencies),
        "errors": errors,
        "reviews_per_s": len(latencies) / elapsed,
        "p50_s": float(np.percentile(latencies, 50)),
        "p95_s": float(np.percentile(latencies, 95)),
        "p99_s": float(np.percentile(latencies, 99)),
    }


def memory_bytes(pid: int, field: str = "VmHWM") -> int:
    """A process's peak (VmHWM) or current (VmRSS) resident memory."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024
    return 0


@contextmanager
def service(model_dir: Path, extra_env: dict[str, str]):
    """The real service in its own process; yields (port, pid) once /readyz answers 200."""
    port = free_port()
    environment = {**os.environ, "MODEL_DIR": str(model_dir), "HOST": HOST, "PORT": str(port), "LOG_LEVEL": "warning"}
    process = subprocess.Popen([sys.executable, "-m", "app"], env={**environment, **extra_env})
    try:
        deadline = time.monotonic() + 180
        while asyncio.run(_status(port, "/readyz")) != 200:
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("the service did not become ready")
            time.sleep(0.2)
        yield port, process.pid
    finally:
        process.terminate()
        process.wait(timeout=60)


async def _status(port: int, path: str) -> int:
    connection = Connection(port)
    try:
        status, _ = await connection.request("GET", path)
        return status
    except OSError:
        return 0
    finally:
        connection.close()


async def first_request_latency(port: int, text: str) -> float:
    connection = Connection(port)
    try:
        started = time.perf_counter()
        await connection.request("POST", "/predict", json.dumps({"text": text}).encode())
        return time.perf_counter() - started
    finally:
        connection.close()


async def batch_totals(port: int) -> tuple[float, float]:
    """The service's running sum and count of batch sizes, from /metrics."""
    connection = Connection(port)
    try:
        _, payload = await connection.request("GET", "/metrics")
    finally:
        connection.close()
    totals = {}
    for line in payload.decode().splitlines():
        if line.startswith(("sentiment_batch_size_sum ", "sentiment_batch_size_count ")):
            name, value = line.split()
            totals[name] = float(value)
    return totals.get("sentiment_batch_size_sum", 0.0), totals.get("sentiment_batch_size_count", 0.0)


def measure_service(port: int, texts: list[str], arguments: argparse.Namespace) -> dict:
    """The first request after ready, then every concurrency in turn, on a running service."""
    first = asyncio.run(first_request_latency(port, texts[0]))
    runs = []
    for concurrency in CONCURRENCIES:
        size_before, count_before = asyncio.run(batch_totals(port))
        run = asyncio.run(load(port, texts, concurrency, arguments.requests, arguments.max_seconds))
        size_after, count_after = asyncio.run(batch_totals(port))
        run["mean_batch_size"] = (size_after - size_before) / max(count_after - count_before, 1)
        runs.append(run)
    return {"first_request_s": first, "runs": runs}


def paired_rounds(
    ceiling: Ceiling, port: int, texts: list[str], arguments: argparse.Namespace, batch_size: int
) -> dict:
    """The ceiling and the service at the highest concurrency, measured turn about, a few seconds apart.

    This machine's speed drifts by tens of percent within minutes, so a ratio of two figures taken
    minutes apart measures the drift as much as the service. Each round pairs two measurements
    taken back to back, and the median of the rounds' ratios is the figure to quote.
    """
    rounds = []
    for _ in range(arguments.rounds):
        in_process = ceiling.plain(texts, batch_size)
        run = asyncio.run(load(port, texts, max(CONCURRENCIES), arguments.requests, arguments.max_seconds))
        rounds.append(
            {
                "ceiling_reviews_per_s": in_process,
                "service_reviews_per_s": run["reviews_per_s"],
                "ratio": run["reviews_per_s"] / in_process,
                "errors": run["errors"],
            }
        )
    median = float(np.median([item["ratio"] for item in rounds]))
    return {"concurrency": max(CONCURRENCIES), "rounds": rounds, "median_ratio": median}


def run_service(
    texts: list[str], arguments: argparse.Namespace, extra_env: dict, pair_with: tuple[Ceiling, int] | None = None
) -> dict:
    """A service with `extra_env`: every concurrency, then, given (ceiling, its batch size), the
    paired rounds."""
    with service(arguments.model_dir, extra_env) as (port, pid):
        results = measure_service(port, texts, arguments)
        if pair_with is not None and arguments.rounds > 0:
            ceiling, batch_size = pair_with
            results["paired"] = paired_rounds(ceiling, port, texts, arguments, batch_size)
        return {**results, "peak_rss_bytes": memory_bytes(pid)}


def table(results: dict) -> str:
    ceiling_rate = results["ceiling"]["reviews_per_s"]
    before, after = results["ceiling"]["before"]["reviews_per_s"], results["ceiling"]["after"]["reviews_per_s"]
    rows = [
        f"ceiling: {ceiling_rate:.1f} reviews/s in-process at batch size {results['ceiling']['best_batch_size']} "
        f"(mean of {before:.1f} before and {after:.1f} after the batched service); "
        f"one text alone p50 {results['ceiling']['single_call_p50_s'] * 1000:.1f} ms; "
        f"the service's length groups in-process: {results['ceiling']['length_grouped_reviews_per_s']:.1f} reviews/s",
        f"{'clients':>7} {'reviews/s':>10} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
        f"{'vs ceiling':>10} {'batch':>6} {'unbatched/s':>11} {'vs unbatched':>12}",
    ]
    for batched, unbatched in zip(results["batched"]["runs"], results["unbatched"]["runs"], strict=True):
        rows.append(
            f"{batched['concurrency']:>7} {batched['reviews_per_s']:>10.1f} {batched['p50_s'] * 1000:>8.1f} "
            f"{batched['p95_s'] * 1000:>8.1f} {batched['p99_s'] * 1000:>8.1f} "
            f"{batched['reviews_per_s'] / ceiling_rate:>10.0%} {batched['mean_batch_size']:>6.1f} "
            f"{unbatched['reviews_per_s']:>11.1f} "
            f"{batched['reviews_per_s'] / unbatched['reviews_per_s']:>11.1f}x"
        )
    paired = results["batched"].get("paired")
    if paired is not None:
        ratios = ", ".join(
            f"{item['ratio']:.0%} ({item['service_reviews_per_s']:.1f} / {item['ceiling_reviews_per_s']:.1f})"
            for item in paired["rounds"]
        )
        rows.append(
            f"{paired['concurrency']} clients against the ceiling, measured turn about: {ratios}; "
            f"median {paired['median_ratio']:.0%}"
        )
    steady = results["batched"]["runs"][0]["p50_s"]
    rows.append(
        f"first request after ready: {results['batched']['first_request_s'] * 1000:.1f} ms "
        f"({results['batched']['first_request_s'] / steady:.2f}x the 1-client p50); "
        f"peak RSS {results['batched']['peak_rss_bytes'] / 2**20:.0f} MiB"
    )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(prog="python -m benchmarks.serving", description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=os.environ.get("IMDB_DATA_DIR") or None)
    parser.add_argument("--model-dir", type=Path, default=Path(os.environ.get("MODEL_DIR", "artifacts/sentiment")))
    parser.add_argument("--requests", type=int, default=400, help="requests per concurrency level")
    parser.add_argument("--max-seconds", type=float, default=120.0, help="time cap per concurrency level")
    parser.add_argument("--output", type=Path, default=Path("bench-results.json"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--rounds", type=int, default=5, help="rounds of ceiling and service measured turn about at 64 clients"
    )
    arguments = parser.parse_args(argv)

    texts, source = review_texts(arguments.data_dir, max(arguments.requests, 200), arguments.seed)
    logger.info("%d texts: %s", len(texts), source)
    ceiling = Ceiling(arguments.model_dir)
    before = ceiling.sweep(texts)
    logger.info("ceiling measured; starting the batched service")
    batched = run_service(texts, arguments, {}, pair_with=(ceiling, before["best_batch_size"]))
    results = {"texts": source, "batched": batched}
    results["ceiling"] = ceiling.again(texts, before)
    logger.info("starting the unbatched service")
    results["unbatched"] = run_service(texts, arguments, {"MAX_BATCH_SIZE": "1"})
    arguments.output.write_text(json.dumps(results, indent=2) + "\n")
    sys.stdout.write(table(results) + f"\nwritten to {arguments.output}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
