"""Explanations of the served model: how faithful they are, and what one costs over HTTP.

    python -m benchmarks.explain --data-dir aclImdb_v1.tar.gz
    make bench-explain ARGS="--reviews 200"      # make bench runs it too, after the serving benchmark

Faithfulness: on `--reviews` random IMDB test reviews, the 5 tokens with the largest attribution
towards the predicted label are deleted, and so are 5 random read tokens (5 draws); the script
prints the mean move of the probability towards the other label for each, and their ratio. Cost:
the review of median length in the test split is explained in-process and through the real
service (`python -m app` on 127.0.0.1) under wrk with 1 and with 4 connections, and the script
prints the latency percentiles. Without a local IMDB copy it measures the cost alone, on a
generated text of IMDB's median length.
"""

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks.harness import RunningService, service
from benchmarks.load import Request, run_wrk
from benchmarks.serving import review_texts
from model.artifact import configured_model_dir

logger = logging.getLogger("benchmarks.explain")
CONCURRENCIES = (1, 4)


def test_reviews(data_dir: Path | None) -> list[str] | None:
    if data_dir is None:
        return None
    from training.data import load_aclimdb

    return load_aclimdb(data_dir).test.texts


def median_length_review(reviews: list[str]) -> str:
    """The review whose length in characters is the split's median (the first of them)."""
    lengths = np.array([len(review) for review in reviews])
    return reviews[int(np.argmin(np.abs(lengths - np.median(lengths))))]


def percentiles(latencies: list[float]) -> dict:
    return {f"p{q}_s": float(np.percentile(latencies, q)) for q in (50, 95, 99)}


def in_process_latency(explain, text: str, repeats: int) -> dict:
    import tensorflow as tf

    from model.artifact import INPUT_TEXTS

    explain(**{INPUT_TEXTS: tf.constant([text])})
    latencies = []
    for _ in range(repeats):
        started = time.perf_counter()
        explain(**{INPUT_TEXTS: tf.constant([text])})
        latencies.append(time.perf_counter() - started)
    return percentiles(latencies)


def http_latency(running: RunningService, text: str, connections: int, seconds: float) -> dict:
    """/explain of `text` from `connections` wrk connections for `seconds`: rate, latencies, statuses."""
    result = run_wrk(running.url, [Request("POST", "/explain", json.dumps({"text": text}))], connections, seconds)
    answered = sum(result["statuses"].values())
    latency = result["latency_us"]
    return {
        "concurrency": connections,
        "requests": answered,
        "statuses": result["statuses"],
        "explanations_per_s": answered / (result["duration_us"] / 1e6),
        **{f"p{q}_s": latency[f"p{q}"] / 1e6 for q in (50, 90, 99)},
    }


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(prog="python -m benchmarks.explain", description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=os.environ.get("IMDB_DATA_DIR") or None)
    parser.add_argument("--model-dir", type=Path, default=configured_model_dir())
    parser.add_argument("--reviews", type=int, default=200, help="test reviews for the deletion figure")
    parser.add_argument("--seconds", type=float, default=10, help="seconds of wrk load per number of clients")
    parser.add_argument("--output", type=Path, default=Path("bench-explain-results.json"))
    parser.add_argument("--seed", type=int, default=0)
    arguments = parser.parse_args(argv)

    import tensorflow as tf

    from model.artifact import (
        EXPLAIN_SIGNATURE_NAME,
        INPUT_TEXTS,
        OUTPUT_TOKEN_COUNT,
        SIGNATURE_NAME,
        newest_version,
    )
    from training.faithfulness import deletion_effects

    version = newest_version(arguments.model_dir)
    signatures = tf.saved_model.load(str(version)).signatures
    if EXPLAIN_SIGNATURE_NAME not in signatures:
        logger.error("version %s has no %s signature: export it again first", version, EXPLAIN_SIGNATURE_NAME)
        return 2
    explain, serve = signatures[EXPLAIN_SIGNATURE_NAME], signatures[SIGNATURE_NAME]
    reviews = test_reviews(arguments.data_dir)
    results: dict = {"version": str(version)}
    if reviews is not None:
        rng = np.random.default_rng(arguments.seed)
        sample = [reviews[i] for i in rng.permutation(len(reviews))[: arguments.reviews]]
        started = time.perf_counter()
        deletion = deletion_effects(explain, serve, sample, seed=arguments.seed)
        results["deletion"] = {**vars(deletion), "ratio": deletion.ratio, "seconds": time.perf_counter() - started}
        text, source = median_length_review(reviews), "the median-length IMDB test review"
    else:
        generated, _ = review_texts(None, 201, arguments.seed)
        text, source = median_length_review(generated), "a generated text of IMDB's median length"
    tokens = int(explain(**{INPUT_TEXTS: tf.constant([text])})[OUTPUT_TOKEN_COUNT].numpy()[0])
    results["text"] = {"source": source, "characters": len(text), "tokens": tokens}
    results["in_process"] = in_process_latency(explain, text, repeats=20)
    with service(arguments.model_dir) as running:
        results["http"] = [http_latency(running, text, clients, arguments.seconds) for clients in CONCURRENCIES]
    arguments.output.write_text(json.dumps(results, indent=2) + "\n")
    sys.stdout.write(report(results) + f"\nwritten to {arguments.output}\n")
    return 0


def report(results: dict) -> str:
    rows = [f"model: {results['version']}"]
    if "deletion" in results:
        deletion = results["deletion"]
        rows.append(
            f"deleting 5 tokens from {deletion['texts']} test reviews moves the probability towards the other "
            f"label by {deletion['top_mean']:.4f} (top attributions) against {deletion['random_mean']:.4f} "
            f"(random, mean of 5 draws): {deletion['ratio']:.1f}x"
        )
    text = results["text"]
    rows.append(f"explained text: {text['source']}, {text['characters']} characters, {text['tokens']} tokens")
    in_process = results["in_process"]
    rows.append(
        f"in-process explain call: p50 {in_process['p50_s'] * 1000:.1f} ms, p95 {in_process['p95_s'] * 1000:.1f} ms"
    )
    rows.append(f"{'clients':>7} {'explained/s':>11} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8}  statuses (wrk)")
    for run in results["http"]:
        rows.append(
            f"{run['concurrency']:>7} {run['explanations_per_s']:>11.1f} {run['p50_s'] * 1000:>8.1f} "
            f"{run['p90_s'] * 1000:>8.1f} {run['p99_s'] * 1000:>8.1f}  {run['statuses']}"
        )
    return "\n".join(rows)


if __name__ == "__main__":
    sys.exit(main())
