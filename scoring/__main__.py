"""Score a CSV, JSON Lines or Parquet file: every row kept, with a label, its probability and the model version.

python -m scoring reviews.csv scored.csv --text-column review
python -m scoring reviews.parquet scored.jsonl --text-column review --engine ray
make score INPUT=reviews.csv OUTPUT=scored.csv TEXT_COLUMN=review [ENGINE=ray] [VERSION=5]
"""

import argparse
import logging
import os
import signal
import sys
from pathlib import Path
from types import FrameType

# Before TensorFlow is imported: its C++ start-up chatter would bury the one line a user needs.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from model.artifact import VersionNotFoundError, version_folder  # noqa: E402
from scoring.errors import ScoringError  # noqa: E402
from scoring.rows import Model  # noqa: E402

logger = logging.getLogger("scoring")
EXIT_BAD_INPUT = 2
# The conventional status of a process stopped by SIGTERM.
EXIT_TERMINATED = 128 + signal.SIGTERM


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _default_model_dir() -> Path:
    # MODEL_DIR means the same folder here as for the service.
    from app.settings import Settings

    return Settings().model_dir


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m scoring",
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("input", type=Path, help="file to score: .csv, .jsonl/.ndjson or .parquet/.pq")
    parser.add_argument("output", help="file to write, format by extension (with --engine ray: a folder)")
    parser.add_argument("--text-column", default="text", help="column holding the text to score")
    parser.add_argument("--engine", choices=("local", "ray"), default="local", help="this process, or Ray Data")
    parser.add_argument("--model-dir", type=Path, default=_default_model_dir(), help="folder of versions (MODEL_DIR)")
    parser.add_argument(
        "--version",
        type=_positive,
        default=os.environ.get("VERSION") or None,
        help="version number (VERSION); None: the newest complete one",
    )
    parser.add_argument("--chunk-rows", type=_positive, default=10_000, help="rows read, scored and written at once")
    parser.add_argument("--batch-size", type=_positive, default=128, help="most texts per model call")
    parser.add_argument("--column-prefix", default="", help="prefix for the added columns' names")
    parser.add_argument("--ray-actors", type=_positive, default=1, help="model copies (Ray actors) scoring at once")
    parser.add_argument("--ray-cpus-per-actor", type=_positive, default=1, help="CPUs each Ray actor reserves")
    return parser


def _raise_on_sigterm(signum: int, frame: FrameType | None) -> None:
    # An exception unwinds the run, so the temporary output is removed like on Ctrl-C.
    raise SystemExit(EXIT_TERMINATED)


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())


def load_model(folder: Path) -> Model:
    """The version in `folder`, loaded once; a folder that is not a loadable model is a ScoringError."""
    from app.model_store import ModelLoadError, load_version

    try:
        return load_version(folder)
    except ModelLoadError as error:
        raise ScoringError(str(error)) from error


def run(arguments: argparse.Namespace) -> None:
    model_dir = arguments.model_dir
    if arguments.engine == "ray":
        from scoring.ray_engine import RayJob, check_files, score_with_ray

        folder = version_folder(model_dir, arguments.version)
        job = RayJob(
            input=str(arguments.input),
            output=arguments.output,
            text_column=arguments.text_column,
            model_folder=folder,
            chunk_rows=arguments.chunk_rows,
            batch_size=arguments.batch_size,
            prefix=arguments.column_prefix,
            actors=arguments.ray_actors,
            cpus_per_actor=arguments.ray_cpus_per_actor,
        )
        check_files(job)
        # Loaded once here as well, so that a folder that is no model fails in one line, not in the actors.
        load_model(folder)
        score_with_ray(job)
        return
    from scoring.local import check_columns, score_file
    from scoring.readers import open_reader
    from scoring.writers import check_output

    # Everything about the files is checked before the model loads, so a typo fails in a second.
    with open_reader(arguments.input, arguments.chunk_rows) as reader:
        check_columns(reader.columns, arguments.text_column, arguments.column_prefix, arguments.input)
        output = Path(arguments.output)
        check_output(output)
        folder = version_folder(model_dir, arguments.version)
        model = load_model(folder)
        score_file(reader, output, arguments.text_column, model, arguments.batch_size, arguments.column_prefix)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    arguments = build_parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _raise_on_sigterm)
    try:
        run(arguments)
    except (ScoringError, VersionNotFoundError) as error:
        logger.error("%s", _one_line(error))
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        logger.error("interrupted; no output written")
        return 128 + signal.SIGINT
    return 0


if __name__ == "__main__":
    sys.exit(main())
