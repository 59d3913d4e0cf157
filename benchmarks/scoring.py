"""Bulk scoring figures: throughput against the in-process ceiling, and peak memory on a large file.

    IMDB_DATA_DIR=aclImdb_v1.tar.gz python -m benchmarks.scoring --work-dir /tmp/scoring-bench
    python -m benchmarks.scoring --skip-throughput --rows 1000000

Throughput: the 25,000 IMDB test reviews are written to a CSV file and cut into 5 slices
(`--rounds`). In one process with one loaded model, each slice is scored by bulk scoring (a CSV
file in, a CSV file out) and by the plain SavedModel signature on the slice's texts in file order
at batch sizes 32, 64 and 128 (no file reading or writing at all), turn about, bulk first in odd
turns. The ceiling is the best batch size's rate over all 25,000; a shared machine's speed drifts
by tens of percent within minutes, and turns keep that drift from deciding the ratio.

Memory: a CSV file of short reviews repeated to the requested rows is scored by
`python -m scoring` under `/usr/bin/time -v`, which reports the peak resident memory. A smaller
file is scored the same way, so that the two peaks show whether memory grows with the input.
"""

import argparse
import logging
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.serving import CEILING_BATCH_SIZES, reviews_per_s
from model.artifact import configured_model_dir

logger = logging.getLogger("benchmarks.scoring")
SHORT_REVIEWS = [
    "A moving, beautifully acted film.",
    "Two hours I will never get back.",
    "The plot was thin but the actors were wonderful and the music stayed with me for days.",
    "Dull, slow and far too long; I nearly walked out halfway through.",
    "One of the best westerns ever made, with a superb final scene.",
    "Not funny at all.",
    "I loved every minute of it and will watch it again with my kids.",
    "The director wasted a great cast on a script that makes no sense.",
]


def write_test_reviews(data_dir: Path, path: Path) -> int:
    from training.data import load_aclimdb

    test = load_aclimdb(data_dir).test
    pd.DataFrame({"id": range(len(test)), "review": test.texts, "sentiment": test.labels}).to_csv(path, index=False)
    return len(test)


def write_short_reviews(path: Path, rows: int) -> None:
    """`rows` short reviews (8 texts, each with a row number in front so no two rows are equal)."""
    with path.open("w", encoding="utf-8") as handle:
        handle.write("id,review\n")
        step = 100_000
        for start in range(0, rows, step):
            numbers = np.arange(start, min(start + step, rows))
            texts = [SHORT_REVIEWS[number % len(SHORT_REVIEWS)] for number in numbers]
            pd.DataFrame({"id": numbers, "review": texts}).to_csv(handle, index=False, header=False)


def throughput(model_dir: Path, data_dir: Path, work_dir: Path, batch_size: int, chunk_rows: int, rounds: int) -> dict:
    """Every review scored by bulk scoring and by the plain signature at each batch size, in
    `rounds` turns of a slice each, so that drift in the machine's speed hits both alike."""
    import tensorflow as tf

    from app.model_store import load_version
    from model.artifact import INPUT_TEXTS, newest_version
    from scoring.local import score_file
    from scoring.readers import open_reader

    source = work_dir / "imdb-test.csv"
    reviews = write_test_reviews(data_dir, source)
    frame = pd.read_csv(source, dtype=str, keep_default_na=False)
    model = load_version(newest_version(model_dir))

    def plain(batch: list[str]) -> object:
        return model.signature(**{INPUT_TEXTS: tf.constant(batch)})

    ceiling_seconds = dict.fromkeys(CEILING_BATCH_SIZES, 0.0)
    bulk_seconds = 0.0
    round_ratios = []
    for turn, rows in enumerate(np.array_split(np.arange(len(frame)), rounds)):
        part = work_dir / f"imdb-test-{turn}.csv"
        frame.iloc[rows].to_csv(part, index=False)
        texts = frame["review"].iloc[rows].tolist()

        def bulk(part: Path = part) -> float:
            with open_reader(part, chunk_rows) as reader:
                output = part.with_name(part.stem + "-scored.csv")
                return score_file(reader, output, "review", model, batch_size, interactive=False).seconds

        # The bulk run goes first in odd turns and last in even ones.
        if turn % 2:
            bulk_seconds += (turn_bulk := bulk())
        turn_ceiling = {size: len(texts) / reviews_per_s(plain, texts, size) for size in CEILING_BATCH_SIZES}
        if not turn % 2:
            bulk_seconds += (turn_bulk := bulk())
        for size, seconds in turn_ceiling.items():
            ceiling_seconds[size] += seconds
        round_ratios.append(min(turn_ceiling.values()) / turn_bulk)
        logger.info("turn %d: bulk %.2fx the best batch size's rate", turn, round_ratios[-1])
    by_size = {size: reviews / seconds for size, seconds in ceiling_seconds.items()}
    best = max(by_size, key=by_size.__getitem__)
    bulk_rate = reviews / bulk_seconds
    return {
        "reviews": reviews,
        "ceiling_by_batch_size": by_size,
        "best_batch_size": best,
        "ceiling": by_size[best],
        "bulk_reviews_per_s": bulk_rate,
        "bulk_seconds": bulk_seconds,
        "ratio": bulk_rate / by_size[best],
        "round_ratios": round_ratios,
    }


def peak_rss(model_dir: Path, work_dir: Path, rows: int, batch_size: int, chunk_rows: int) -> dict:
    source = work_dir / f"short-{rows}.csv"
    write_short_reviews(source, rows)
    command = [
        "/usr/bin/time",
        "-v",
        sys.executable,
        "-m",
        "scoring",
        str(source),
        str(work_dir / f"short-{rows}-scored.csv"),
    ]
    command += ["--text-column", "review", "--model-dir", str(model_dir), "--batch-size", str(batch_size)]
    command += ["--chunk-rows", str(chunk_rows)]
    started = time.perf_counter()
    result = subprocess.run(
        command, capture_output=True, text=True, check=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    )
    seconds = time.perf_counter() - started
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", result.stderr)
    # GNU time -v always prints this line, so its absence means /usr/bin/time is some other program.
    assert peak is not None, f"/usr/bin/time -v reported no maximum resident set size:\n{result.stderr}"
    peak_kib = int(peak.group(1))
    return {
        "rows": rows,
        "peak_rss_mib": peak_kib / 1024,
        "seconds": seconds,
        "input_mib": source.stat().st_size / 2**20,
    }


def say(line: str) -> None:
    """A figure on standard output, apart from the log lines on standard error."""
    sys.stdout.write(line + "\n")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scoring", description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", type=Path, default=configured_model_dir())
    parser.add_argument("--data-dir", type=Path, default=os.environ.get("IMDB_DATA_DIR") or None)
    parser.add_argument("--work-dir", type=Path, default=Path("runs/scoring-bench"))
    parser.add_argument("--batch-size", type=int, default=128, help="bulk scoring's most texts per model call")
    parser.add_argument("--chunk-rows", type=int, default=10_000)
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000], help="rows of the memory runs")
    parser.add_argument("--rounds", type=int, default=5, help="turns of the throughput run, each on a slice")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    arguments = build_parser().parse_args(argv)
    arguments.work_dir.mkdir(parents=True, exist_ok=True)
    if not arguments.skip_throughput:
        if arguments.data_dir is None:
            logger.error("the throughput run needs the IMDB test reviews: pass --data-dir or set IMDB_DATA_DIR")
            return 2
        figures = throughput(
            arguments.model_dir,
            arguments.data_dir,
            arguments.work_dir,
            arguments.batch_size,
            arguments.chunk_rows,
            arguments.rounds,
        )
        rates = ", ".join(f"{size}: {rate:.1f}" for size, rate in figures["ceiling_by_batch_size"].items())
        turns = ", ".join(f"{ratio:.2f}x" for ratio in figures["round_ratios"])
        say(f"throughput on {figures['reviews']:,} IMDB test reviews (CSV in, CSV out)")
        say(f"  ceiling, plain signature, reviews/s by batch size: {rates}")
        say(f"  ceiling: {figures['ceiling']:.1f} reviews/s at batch size {figures['best_batch_size']}")
        say(
            f"  bulk scoring, batch size {arguments.batch_size}: {figures['bulk_reviews_per_s']:.1f} reviews/s "
            f"({figures['bulk_seconds']:.1f} s in all), {figures['ratio']:.2f}x the ceiling"
        )
        say(f"  turn by turn, bulk against that turn's best batch size: {turns}")
    if not arguments.skip_memory:
        for rows in arguments.rows:
            figures = peak_rss(
                arguments.model_dir, arguments.work_dir, rows, arguments.batch_size, arguments.chunk_rows
            )
            say(
                f"memory: {figures['rows']:,} short rows ({figures['input_mib']:.0f} MiB of CSV): peak RSS "
                f"{figures['peak_rss_mib']:.0f} MiB, {figures['seconds']:.0f} s wall"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
