"""Serving benchmark: the real service under load from wrk, against the plain SavedModel in-process.

    make bench ARGS="--seconds 10"
    python -m benchmarks.serving --data-dir aclImdb_v1.tar.gz --seconds 20 --output bench.json

The ceiling is the version's plain `serving_default` signature called in this process on the same
texts, in the order they are sent, at its best batch size of 32, 64 and 128, measured before and
after the service runs (this machine's speed drifts); beside it, the same model called the service's
way (batches cut into length groups). The service (`python -m app`, on a free loopback port) is then
driven by wrk with one IMDB test review per request from 1, 8, 32 and 64 connections, and with
requests of 16 reviews from 64 connections; the unbatched service (MAX_BATCH_SIZE=1) from 64. It also
measures a lone request against a bare model call, the first request after /readyz against the steady
latency, peak resident memory, the largest difference between the service's probabilities and the
plain SavedModel's, and what a Python client (httpx.AsyncClient) costs at 64 connections. Every step
is bounded in time; all traffic stays on loopback.
"""

import argparse
import asyncio
import json
import logging
import os
import resource
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.harness import RunningService, request, service
from benchmarks.load import Request, ensure_wrk, run_wrk
from model.artifact import configured_model_dir

logger = logging.getLogger("benchmarks.serving")
CONNECTIONS = (1, 8, 32, 64)
CEILING_BATCH_SIZES = (32, 64, 128)
TEXTS_PER_MULTI_REQUEST = 16
# Long enough for every thread of the service to have gone to sleep: on a 2-core VM, every request
# after a pause of 50 ms or more was as slow as the first one.
PAUSE_S = 0.2
# Texts compared between the service and the plain SavedModel.
CHECKED_TEXTS = 2000
GENERATED_WORDS = "the film was a great story but the acting felt dull and slow in parts yet i loved it"


def review_texts(data_dir: Path | None, count: int, seed: int) -> tuple[list[str], str]:
    """IMDB test reviews in a random order when a local copy is given, else generated texts with
    IMDB's length mix."""
    rng = np.random.default_rng(seed)
    if data_dir is not None:
        from training.data import load_aclimdb

        test = load_aclimdb(data_dir).test
        return [test.texts[i] for i in rng.permutation(len(test))[:count]], f"IMDB test reviews from {data_dir}"
    words = np.array(GENERATED_WORDS.split())
    # IMDB review lengths are roughly log-normal: median about 175 words, a long tail past 1,000.
    lengths = np.clip(rng.lognormal(mean=np.log(175), sigma=0.75, size=count), 10, 2500).astype(int)
    return [" ".join(rng.choice(words, size=length)) for length in lengths], "generated texts, IMDB length mix"


def reviews_per_s(predict, texts: list[str], batch_size: int, threads: int = 1) -> float:
    """`predict` on consecutive batches of `texts`, in their order, from `threads` threads at once."""
    batches = [texts[start : start + batch_size] for start in range(0, len(texts), batch_size)]
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(predict, batches))
    return len(texts) / (time.perf_counter() - started)


class Ceiling:
    """The version loaded once in this process: its plain signature, and the service's ways of calling
    it (without XLA, and compiled as the service compiles it, on as many threads as its workers)."""

    def __init__(self, model_dir: Path):
        import tensorflow as tf

        from app.model_store import load_version
        from app.serving import model_workers, xla_buckets
        from app.settings import Settings
        from model.artifact import INPUT_TEXTS, OUTPUT_KNOWN_TOKENS, OUTPUT_PROBABILITY, newest_version
        from model.grouping import in_length_groups
        from model.threads import configure_threads

        settings = Settings()
        # The service's thread pools, so that the compiled rate is what its model calls can reach.
        configure_threads(settings.tf_intra_op_threads, settings.tf_inter_op_threads)
        self.model = load_version(newest_version(model_dir))
        self.service_batch_size = settings.max_batch_size
        self.workers = model_workers(settings)
        buckets = xla_buckets(settings)
        self.compiled = load_version(newest_version(model_dir), buckets) if buckets is not None else None

        def plain(texts: list[str]) -> dict[str, Any]:
            return self.model.signature(**{INPUT_TEXTS: tf.constant(texts)})

        self.plain = plain
        self.grouped = in_length_groups(self.model.predict, settings.length_group_size)
        self.output_names = (OUTPUT_PROBABILITY, OUTPUT_KNOWN_TOKENS)

    def rates(self, texts: list[str], batch_sizes: tuple[int, ...]) -> dict[str, Any]:
        plain = {size: reviews_per_s(self.plain, texts, size) for size in batch_sizes}
        best = max(plain, key=plain.__getitem__)
        rates = {
            "reviews_per_s_by_batch_size": plain,
            "best_batch_size": best,
            "reviews_per_s": plain[best],
            "grouped_reviews_per_s": reviews_per_s(self.grouped, texts, self.service_batch_size),
        }
        if self.compiled is not None:
            # The service's model calls with nothing else in the way: no HTTP, no queue, no waiting.
            rates["compiled_reviews_per_s"] = reviews_per_s(
                self.compiled.predict, texts, self.service_batch_size, self.workers
            )
        return rates

    def single_call_p50_s(self, texts: list[str]) -> float:
        durations = []
        for text in texts:
            started = time.perf_counter()
            self.plain([text])
            durations.append(time.perf_counter() - started)
        return float(np.median(durations))

    def probabilities(self, texts: list[str]) -> tuple[list[float], list[int]]:
        probability_name, count_name = self.output_names
        probabilities: list[float] = []
        counts: list[int] = []
        for start in range(0, len(texts), 64):
            outputs = self.plain(texts[start : start + 64])
            probabilities += outputs[probability_name].numpy().tolist()
            counts += outputs[count_name].numpy().tolist()
        return probabilities, counts


def batch_totals(port: int) -> tuple[float, float]:
    """The service's running sum and count of batch sizes, from /metrics."""
    _, payload = request(port, "GET", "/metrics")
    totals = {}
    for line in payload.decode().splitlines():
        if line.startswith(("sentiment_batch_size_sum ", "sentiment_batch_size_count ")):
            name, value = line.split()
            totals[name] = float(value)
    return totals.get("sentiment_batch_size_sum", 0.0), totals.get("sentiment_batch_size_count", 0.0)


def load_level(running: RunningService, requests: list[Request], connections: int, seconds: float, texts: int) -> dict:
    """wrk at one number of connections, with the service's mean batch size over that time."""
    size_before, count_before = batch_totals(running.port)
    cpu_before = running.cpu_seconds()
    result = run_wrk(running.url, requests, connections, seconds)
    cpu_after = running.cpu_seconds()
    size_after, count_after = batch_totals(running.port)
    answered = result["statuses"].get(200, 0)
    duration_s = result["duration_us"] / 1e6
    return {
        **result,
        "texts_per_request": texts,
        "requests_per_s": answered / duration_s,
        "reviews_per_s": answered * texts / duration_s,
        "mean_batch_size": (size_after - size_before) / max(count_after - count_before, 1),
        # The service's CPU time (all its threads: HTTP, batching, the model) per request answered.
        "service_cpu_ms_per_request": 1000 * (cpu_after - cpu_before) / max(answered, 1),
    }


def service_differences(running: RunningService, ceiling: Ceiling, texts: list[str]) -> dict[str, Any]:
    """The largest |Δp| between the service's answers and the plain SavedModel on the same texts."""
    expected, counts = ceiling.probabilities(texts)
    answered: list[dict] = []
    for start in range(0, len(texts), 64):
        status, payload = request(running.port, "POST", "/predict", {"texts": texts[start : start + 64]})
        if status != 200:
            raise RuntimeError(f"the service answered {status}: {payload[:300]!r}")
        answered += json.loads(payload)["predictions"]
    differences = [
        abs(answer["positive_probability"] - probability)
        for answer, probability, count in zip(answered, expected, counts, strict=True)
        if count > 0
    ]
    unjudged_agree = all(("error" in answer) == (count == 0) for answer, count in zip(answered, counts, strict=True))
    return {"texts": len(texts), "max_abs_difference": max(differences), "unjudged_agree": unjudged_agree}


def timed_request_s(running: RunningService, text: str) -> float:
    started = time.perf_counter()
    status, _ = request(running.port, "POST", "/predict", {"text": text})
    elapsed = time.perf_counter() - started
    if status != 200:
        raise RuntimeError(f"the request was answered {status}")
    return elapsed


def first_request(running: RunningService, text: str, repeats: int = 20) -> dict[str, float]:
    """The first request after /readyz, and the median of the same request sent again: anything
    compiled or set up on the request path shows as the difference.

    The first request also follows an idle spell, and a thread that has slept is slow to wake on
    some virtual machines, so the same request is timed again after pauses of PAUSE_S: where the
    first request costs what a paused one costs, the difference is the pause, not set-up.
    """
    first = timed_request_s(running, text)
    again = float(np.median([timed_request_s(running, text) for _ in range(repeats)]))
    after_pause = []
    for _ in range(repeats):
        time.sleep(PAUSE_S)
        after_pause.append(timed_request_s(running, text))
    return {
        "first_request_s": first,
        "same_request_again_p50_s": again,
        "same_request_after_pause_p50_s": float(np.median(after_pause)),
    }


async def python_client(url: str, bodies: list[dict], connections: int, seconds: float) -> dict[str, float]:
    """httpx.AsyncClient with `connections` concurrent requests: requests/s and this process's CPU
    time per request."""
    import httpx

    answered = 0
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:

        async def worker(offset: int) -> None:
            nonlocal answered
            index = offset
            while time.perf_counter() < deadline:
                answer = await client.post("/predict", json=bodies[index % len(bodies)])
                answered += answer.status_code == 200
                index += connections

        cpu_before = resource.getrusage(resource.RUSAGE_SELF)
        started = time.perf_counter()
        await asyncio.gather(*(worker(offset) for offset in range(connections)))
        elapsed = time.perf_counter() - started
        cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    cpu_s = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    return {
        "connections": connections,
        "requests": answered,
        "requests_per_s": answered / elapsed,
        "client_cpu_ms_per_request": 1000 * cpu_s / max(answered, 1),
    }


def measure_batched(running: RunningService, ceiling: Ceiling, texts: list[str], arguments) -> dict[str, Any]:
    single = [Request.predict({"text": text}) for text in texts]
    results: dict[str, Any] = first_request(running, texts[0])
    results["levels"] = [load_level(running, single, count, arguments.seconds, 1) for count in CONNECTIONS]
    size = TEXTS_PER_MULTI_REQUEST
    multi = [Request.predict({"texts": texts[start : start + size]}) for start in range(0, len(texts) - size + 1, size)]
    results["multi"] = load_level(running, multi, max(CONNECTIONS), arguments.seconds, size)
    results["differences"] = service_differences(running, ceiling, texts[:CHECKED_TEXTS])
    if arguments.python_client_seconds > 0:
        bodies = [{"text": text} for text in texts]
        results["python_client"] = asyncio.run(
            python_client(running.url, bodies, max(CONNECTIONS), arguments.python_client_seconds)
        )
    results["peak_rss_bytes"] = running.peak_rss_bytes()
    return results


def summary(results: dict[str, Any]) -> dict[str, float]:
    """The ratios the table quotes."""
    ceiling = results["ceiling"]
    ceiling_rate = (ceiling["before"]["reviews_per_s"] + ceiling["after"]["reviews_per_s"]) / 2
    levels = {level["connections"]: level for level in results["batched"]["levels"]}
    busiest = levels[max(CONNECTIONS)]
    return {
        "ceiling_reviews_per_s": ceiling_rate,
        "vs_ceiling": busiest["reviews_per_s"] / ceiling_rate,
        "multi_vs_ceiling": results["batched"]["multi"]["reviews_per_s"] / ceiling_rate,
        "lone_vs_bare_call": levels[1]["latency_us"]["p50"] / 1e6 / ceiling["single_call_p50_s"],
        "first_vs_steady": results["batched"]["first_request_s"] / results["batched"]["same_request_again_p50_s"],
        "first_vs_after_pause": results["batched"]["first_request_s"]
        / results["batched"]["same_request_after_pause_p50_s"],
        "vs_unbatched": busiest["reviews_per_s"] / results["unbatched"]["reviews_per_s"],
    }


def table(results: dict[str, Any]) -> str:
    ceiling, batched, ratios = results["ceiling"], results["batched"], results["summary"]
    before, after = ceiling["before"], ceiling["after"]
    by_size = ", ".join(f"{size}: {rate:.1f}" for size, rate in before["reviews_per_s_by_batch_size"].items())
    rows = [
        f"ceiling (plain serving_default in-process, arrival order): {ratios['ceiling_reviews_per_s']:.1f} reviews/s "
        f"at batch {before['best_batch_size']} ({before['reviews_per_s']:.1f} before, {after['reviews_per_s']:.1f} "
        f"after the service; before by batch size {by_size}); the service's way in-process without XLA (length "
        f"groups of batches of {results['service_batch_size']}): {before['grouped_reviews_per_s']:.1f} before, "
        f"{after['grouped_reviews_per_s']:.1f} after"
        + (
            f"; compiled as the service compiles it, batches of {results['service_batch_size']} on "
            f"{results['workers']} threads: {before['compiled_reviews_per_s']:.1f} before, "
            f"{after['compiled_reviews_per_s']:.1f} after"
            if "compiled_reviews_per_s" in before
            else ""
        ),
        "| connections | texts/request | reviews/s | p50 ms | p90 ms | p99 ms | vs ceiling | mean batch "
        "| service CPU ms/request | non-200 |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for level in [*batched["levels"], batched["multi"], results["unbatched"]]:
        latency = level["latency_us"]
        failed = sum(count for status, count in level["statuses"].items() if status != 200)
        failed += sum(level["socket_errors"].values())
        name = f"{level['connections']}" + (" (unbatched)" if level is results["unbatched"] else "")
        rows.append(
            f"| {name} | {level['texts_per_request']} | {level['reviews_per_s']:.1f} | {latency['p50'] / 1000:.1f} | "
            f"{latency['p90'] / 1000:.1f} | {latency['p99'] / 1000:.1f} | "
            f"{level['reviews_per_s'] / ratios['ceiling_reviews_per_s']:.2f}x | {level['mean_batch_size']:.1f} | "
            f"{level['service_cpu_ms_per_request']:.2f} | {failed} |"
        )
    differences = batched["differences"]
    rows += [
        f"64 connections: {ratios['vs_ceiling']:.2f}x the ceiling, {ratios['vs_unbatched']:.1f}x the unbatched "
        f"service; requests of {TEXTS_PER_MULTI_REQUEST} texts: {ratios['multi_vs_ceiling']:.2f}x the ceiling",
        f"lone request p50 {batched['levels'][0]['latency_us']['p50'] / 1000:.1f} ms against a bare model call "
        f"{ceiling['single_call_p50_s'] * 1000:.1f} ms: {ratios['lone_vs_bare_call']:.2f}x",
        f"first request after /readyz: {batched['first_request_s'] * 1000:.1f} ms, {ratios['first_vs_steady']:.2f}x "
        f"the same request sent again ({batched['same_request_again_p50_s'] * 1000:.1f} ms, p50 of 20); "
        f"the same request after a {PAUSE_S * 1000:.0f} ms pause: "
        f"{batched['same_request_after_pause_p50_s'] * 1000:.1f} ms "
        f"(the first is {ratios['first_vs_after_pause']:.2f}x that)",
        f"peak RSS {batched['peak_rss_bytes'] / 2**20:.0f} MiB",
        f"max |Δp| between the service and the plain SavedModel on {differences['texts']} texts: "
        f"{differences['max_abs_difference']:.2e}"
        + ("" if differences["unjudged_agree"] else " (the texts without known words differ!)"),
    ]
    client = batched.get("python_client")
    if client is not None:
        rows.append(
            f"httpx.AsyncClient at {client['connections']} connections: {client['requests_per_s']:.1f} requests/s, "
            f"{client['client_cpu_ms_per_request']:.2f} ms of client CPU per request"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # httpx logs every request at INFO, which would count as the Python client's own cost.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(prog="python -m benchmarks.serving", description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=os.environ.get("IMDB_DATA_DIR") or None)
    parser.add_argument("--model-dir", type=Path, default=configured_model_dir())
    parser.add_argument("--seconds", type=float, default=10.0, help="wrk's duration at each level")
    parser.add_argument("--texts", type=int, default=CHECKED_TEXTS, help="reviews sent, and scored for the ceiling")
    parser.add_argument(
        "--python-client-seconds", type=float, default=5.0, help="httpx.AsyncClient's run; 0 leaves it out"
    )
    parser.add_argument("--output", type=Path, default=Path("bench-results.json"))
    parser.add_argument("--seed", type=int, default=0)
    arguments = parser.parse_args(argv)

    ensure_wrk()
    texts, source = review_texts(arguments.data_dir, arguments.texts, arguments.seed)
    logger.info("%d texts: %s", len(texts), source)
    ceiling = Ceiling(arguments.model_dir)
    before = ceiling.rates(texts, CEILING_BATCH_SIZES)
    before_single = ceiling.single_call_p50_s(texts[:100])
    logger.info("ceiling measured before; starting the batched service")
    with service(arguments.model_dir) as running:
        batched = measure_batched(running, ceiling, texts, arguments)
    logger.info("starting the unbatched service")
    with service(arguments.model_dir, {"MAX_BATCH_SIZE": "1"}) as running:
        single = [Request.predict({"text": text}) for text in texts]
        unbatched = load_level(running, single, max(CONNECTIONS), arguments.seconds, 1)
    after = ceiling.rates(texts, (before["best_batch_size"],))
    results: dict[str, Any] = {
        "texts": source,
        "service_batch_size": ceiling.service_batch_size,
        "workers": ceiling.workers,
        "ceiling": {"before": before, "after": after, "single_call_p50_s": before_single},
        "batched": batched,
        "unbatched": unbatched,
    }
    results["summary"] = summary(results)
    arguments.output.write_text(json.dumps(results, indent=2) + "\n")
    sys.stdout.write(table(results) + f"\nwritten to {arguments.output}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
