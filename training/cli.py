"""What the training commands share on the command line: logging, naming a version, and exit codes."""

import argparse
import logging
import os
from collections.abc import Callable
from pathlib import Path

from model.artifact import DEFAULT_MODEL_DIR

logger = logging.getLogger("training")


def configure_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def version_parser(prog: str, docstring: str | None, with_data: bool) -> argparse.ArgumentParser:
    """A parser for a command that reads one published version (and the IMDB data, if `with_data`)."""
    parser = argparse.ArgumentParser(prog=prog, description=(docstring or "").splitlines()[0])
    add_version_arguments(parser)
    if with_data:
        add_data_argument(parser)
    return parser


def add_version_arguments(parser: argparse.ArgumentParser) -> None:
    """--version and --artifacts-dir: which published version a command reads."""
    parser.add_argument("--version", type=int, help="version number (default: the newest complete version)")
    parser.add_argument("--artifacts-dir", type=Path, default=DEFAULT_MODEL_DIR, help=f"default: {DEFAULT_MODEL_DIR}")


def add_data_argument(parser: argparse.ArgumentParser) -> None:
    """--data-dir: a local aclImdb copy (folder or tarball), by default IMDB_DATA_DIR, else TFDS."""
    default = os.environ.get("IMDB_DATA_DIR") or None
    parser.add_argument("--data-dir", type=Path, default=default, help="aclImdb folder or aclImdb_v1.tar.gz")


def run(
    parser: argparse.ArgumentParser,
    body: Callable[[argparse.Namespace], object],
    expected: tuple[type[Exception], ...],
    argv: list[str] | None,
) -> int:
    """A command's main: parse `argv` and run `body` on the arguments; 0 when it ends, 2 with the
    error as one log line (no traceback) when it raises one of the `expected` errors, which say what
    is wrong with the user's input or files."""
    configure_logging()
    arguments = parser.parse_args(argv)
    try:
        body(arguments)
    except expected as error:
        logger.error("%s", error)
        return 2
    return 0
