"""The Ray engine: the same job on Ray Data, on a local Ray instance or on a cluster (RAY_ADDRESS).

    python -m scoring reviews.csv scored.csv --text-column review --engine ray --ray-actors 4
    RAY_ADDRESS=ray://head:10001 python -m scoring s3://bucket/reviews.parquet s3://bucket/scored.parquet \\
        --text-column review --engine ray --ray-actors 32

The input is read with `ray.data.read_csv/read_json/read_parquet`, scored by `map_batches` with a
pool of actors that each load the SavedModel once, and written as a folder of part files, which
hold the rows in input order when read in name order. A local output folder is written under a
hidden name and renamed once complete.
"""

import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from model.artifact import version_of
from scoring.errors import OutputError
from scoring.formats import FileFormat, input_format, output_format
from scoring.local import check_columns
from scoring.rows import score_frame
from scoring.writers import temporary_path

logger = logging.getLogger(__name__)
# Digits kept for floats in JSON Lines part files, as in the local engine's.
_JSON_DIGITS = 15
_LOCAL_OBJECT_STORE_BYTES = 512 * 2**20


@dataclass(frozen=True)
class RayJob:
    # A local path or a URI every node can read (s3://, gs://, a shared mount).
    input: str
    output: str
    text_column: str
    model_folder: Path
    chunk_rows: int
    batch_size: int
    prefix: str
    actors: int
    cpus_per_actor: int


def is_uri(path: str) -> bool:
    return "://" in path


def pack_folder(folder: Path) -> dict[str, bytes]:
    """Every file of a version folder by relative path: the actors get the model through Ray's
    object store, so the nodes of a cluster need no copy of it on their own disks."""
    return {str(path.relative_to(folder)): path.read_bytes() for path in folder.rglob("*") if path.is_file()}


def unpack_folder(files: dict[str, bytes], folder: Path) -> None:
    for relative, content in files.items():
        target = folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)


class BatchScorer:
    """One per actor: loads the model once, then scores every batch it is given."""

    def __init__(
        self, model_files: dict[str, bytes], version: int, text_column: str, batch_size: int, prefix: str, threads: int
    ):
        import tensorflow as tf

        from app.model_store import load_version

        # As many TensorFlow threads as CPUs the actor reserved, so that actors on one node do not
        # each spread over every core.
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        self.model_copy = tempfile.TemporaryDirectory(prefix="sentiment-model-")
        # The version is the folder's name, so the copy keeps it.
        folder = Path(self.model_copy.name) / str(version)
        unpack_folder(model_files, folder)
        self.model = load_version(folder)
        self.text_column = text_column
        self.batch_size = batch_size
        self.prefix = prefix

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        return score_frame(batch, self.text_column, self.model, self.batch_size, self.prefix)


def _csv_column_names(path: str) -> list[str]:
    """The header of a CSV file, read through Arrow's file systems so that URIs work too."""
    import pyarrow.csv as pa_csv
    import pyarrow.fs as pa_fs

    file_system, inner = pa_fs.FileSystem.from_uri(path)
    with file_system.open_input_stream(inner) as stream:
        return pa_csv.open_csv(stream, parse_options=pa_csv.ParseOptions(newlines_in_values=True)).schema.names


def read_dataset(path: str, file_format: FileFormat) -> Any:
    """The input as a Ray Dataset, read as the local engine reads it (CSV columns as text)."""
    import pyarrow as pa
    import pyarrow.csv as pa_csv
    import ray.data

    if file_format is FileFormat.CSV:
        text_types = {name: pa.string() for name in _csv_column_names(path)}
        return ray.data.read_csv(
            path,
            parse_options=pa_csv.ParseOptions(newlines_in_values=True),
            convert_options=pa_csv.ConvertOptions(column_types=text_types, strings_can_be_null=False),
        )
    if file_format is FileFormat.JSON_LINES:
        return ray.data.read_json(path, lines=True, file_extensions=None)
    return ray.data.read_parquet(path, file_extensions=None)


def write_dataset(dataset: Any, path: str, file_format: FileFormat) -> None:
    if file_format is FileFormat.CSV:
        dataset.write_csv(path)
    elif file_format is FileFormat.JSON_LINES:
        dataset.write_json(path, force_ascii=False, double_precision=_JSON_DIGITS)
    else:
        dataset.write_parquet(path)


def _replace(temporary: Path, output: Path) -> None:
    """Put the complete folder under the output name, moving aside whatever was there."""
    old = output.with_name(f".{output.name}.{os.getpid()}.old")
    if output.is_dir():
        output.rename(old)
    elif output.exists():
        output.unlink()
    temporary.rename(output)
    shutil.rmtree(old, ignore_errors=True)


def _start_ray(job: RayJob) -> bool:
    """Connect to RAY_ADDRESS when set, else start a small local instance; True when started here."""
    import ray

    if ray.is_initialized():
        return False
    if os.environ.get("RAY_ADDRESS"):
        import app
        import model
        import scoring

        # The cluster's workers get this project's code with the job; its dependencies
        # (TensorFlow, pandas, Ray) must be installed on the nodes.
        ray.init(runtime_env={"py_modules": [scoring, app, model]})
    else:
        # CPUs for the actors plus one for reading and writing, and a small object store: the
        # stream holds only a few chunks at a time, and more would only take shared memory.
        ray.init(
            num_cpus=job.actors * job.cpus_per_actor + 1,
            object_store_memory=_LOCAL_OBJECT_STORE_BYTES,
            include_dashboard=False,
            configure_logging=False,
        )
    return True


def check_files(job: RayJob) -> None:
    """What can be checked before Ray starts: formats, a local input's columns, the output's folder."""
    input_format(Path(job.input))
    output_format(Path(job.output))
    if not is_uri(job.input):
        from scoring.readers import open_reader

        with open_reader(Path(job.input), job.chunk_rows) as reader:
            check_columns(reader.columns, job.text_column, job.prefix, job.input)
    if not is_uri(job.output) and not Path(job.output).resolve().parent.is_dir():
        raise OutputError(f"the output folder {Path(job.output).resolve().parent} does not exist")


def score_with_ray(job: RayJob) -> None:
    import ray
    import ray.data

    check_files(job)
    source_format = input_format(Path(job.input))
    target_format = output_format(Path(job.output))
    local_input = not is_uri(job.input)
    started = _start_ray(job)
    try:
        ray.data.DataContext.get_current().execution_options.preserve_order = True
        # Resolved, since Ray's workers do not share this process's working directory.
        source = str(Path(job.input).resolve()) if local_input else job.input
        dataset = read_dataset(source, source_format)
        if not local_input:
            check_columns(dataset.schema().names, job.text_column, job.prefix, job.input)
        scored = dataset.map_batches(
            BatchScorer,
            fn_constructor_kwargs={
                "model_files": pack_folder(job.model_folder),
                "version": version_of(job.model_folder),
                "text_column": job.text_column,
                "batch_size": job.batch_size,
                "prefix": job.prefix,
                "threads": job.cpus_per_actor,
            },
            batch_size=job.chunk_rows,
            batch_format="pandas",
            compute=ray.data.ActorPoolStrategy(size=job.actors),
            num_cpus=job.cpus_per_actor,
        )
        _write(scored, job.output, target_format)
    finally:
        if started:
            ray.shutdown()


def _write(scored: Any, output: str, file_format: FileFormat) -> None:
    if is_uri(output):
        # Object stores have no rename: the part files appear as they are written.
        write_dataset(scored, output, file_format)
        logger.info("wrote %s", output)
        return
    target = Path(output).resolve()
    temporary = temporary_path(target)
    try:
        write_dataset(scored, str(temporary), file_format)
        _replace(temporary, target)
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
    logger.info("wrote %s (a folder of part files)", target)
