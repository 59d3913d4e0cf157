"""The artifact contract: what a version folder holds, how it is named and how it is read.

Training writes versions, and the service, evaluation, bulk scoring and the benchmarks read them;
every one of them imports its names and rules from here. No TensorFlow: reading the contract must
not cost a TensorFlow import.

A version is a folder named by a positive integer under the model folder (for example
`artifacts/sentiment/5`), holding a SavedModel and `metadata.json`. The folder name *is* the
version: a folder copied or renamed to `6` is version 6, whatever number its metadata was written
with. A folder without `metadata.json` is not (yet) a version: training writes it into a staging
folder whose name is no number, and renames that folder only once it is complete.
"""

import json
import logging
import os
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

# Where versions are written and looked for unless a setting or flag says otherwise.
DEFAULT_MODEL_DIR = Path("artifacts/sentiment")
METADATA_FILE = "metadata.json"
# The training report (curves, calibration, confusion matrix) written beside the model.
REPORT_FILE = "report.png"
# Prefix of the folder a version is written into before it is renamed to its number.
STAGING_PREFIX = ".tmp-"

# The SavedModel's default signature: a batch of raw strings in, one probability and one count per text out.
SIGNATURE_NAME = "serving_default"
INPUT_TEXTS = "texts"
OUTPUT_PROBABILITY = "positive_probability"
# How many of a text's tokens the vocabulary knows; 0 means the model has nothing to judge it on.
OUTPUT_KNOWN_TOKENS = "known_token_count"
SIGNATURE_DESCRIPTION = {
    "inputs": {INPUT_TEXTS: "string[batch]"},
    "outputs": {OUTPUT_PROBABILITY: "float32[batch]", OUTPUT_KNOWN_TOKENS: "int32[batch]"},
}

# The explanation signature: the same texts in; besides the same two outputs, every token of each
# text with its place in the text and its attribution, padded to the text with the most tokens.
# Versions exported before it existed lack it.
EXPLAIN_SIGNATURE_NAME = "explain"
# The tokens as the model's tokenizer wrote them (standardized), "" after a text's last token.
OUTPUT_TOKENS = "tokens"
# How many of the padded token places each text fills.
OUTPUT_TOKEN_COUNT = "token_count"
# Code point offsets of each token into the submitted text (Python string indexes), -1 as padding.
OUTPUT_TOKEN_START = "token_start"
OUTPUT_TOKEN_END = "token_end"
# Signed share of the calibrated log-odds: above zero pushes towards positive; 0 where not read.
OUTPUT_ATTRIBUTION = "attribution"
# True for the tokens a long text's truncation dropped, which the model never read.
OUTPUT_TRUNCATED = "truncated"
EXPLAIN_SIGNATURE_DESCRIPTION = {
    "inputs": {INPUT_TEXTS: "string[batch]"},
    "outputs": {
        OUTPUT_PROBABILITY: "float32[batch]",
        OUTPUT_KNOWN_TOKENS: "int32[batch]",
        OUTPUT_TOKEN_COUNT: "int32[batch]",
        OUTPUT_TOKENS: "string[batch, tokens]",
        OUTPUT_TOKEN_START: "int32[batch, tokens]",
        OUTPUT_TOKEN_END: "int32[batch, tokens]",
        OUTPUT_ATTRIBUTION: "float32[batch, tokens]",
        OUTPUT_TRUNCATED: "bool[batch, tokens]",
    },
}
# serving_default in two halves, for a server that compiles the numeric half (with XLA) on shapes of
# its choosing: the string ops (standardisation, vocabulary, truncation, padding to the longest text)
# in one, token ids to probabilities in the other. Chained, they compute what serving_default does.
# The numeric half's recurrent layers stop after the batch's longest text, so padding a call wider
# (to a width a compiler has a program for) costs little.
# Versions exported before these existed lack them; serving_default alone is the contract.
TOKENIZE_SIGNATURE = "tokenize"
OUTPUT_TOKEN_IDS = "token_ids"
SCORE_TOKENS_SIGNATURE = "score_token_ids"
INPUT_TOKEN_IDS = "token_ids"
# The token id that pads each text's ids on the right to the batch's longest; the model masks it.
PADDING_ID = 0


class VersionNotFoundError(LookupError):
    """No complete version (or not the one asked for) exists under the model folder."""


class MetadataError(ValueError):
    """A version's metadata.json cannot be read as a JSON object."""


def configured_model_dir() -> Path:
    """The model folder the benchmarks and tools default to: MODEL_DIR, as the service reads it, else
    the default."""
    return Path(os.environ.get("MODEL_DIR") or DEFAULT_MODEL_DIR)


def is_version_name(name: str) -> bool:
    """Whether a folder name is a version number: digits only, and not 0."""
    return name.isascii() and name.isdigit() and int(name) > 0


def complete_versions(model_dir: Path) -> list[Path]:
    """Version folders that hold metadata.json, oldest first; staging folders are never versions."""
    if not model_dir.is_dir():
        return []
    folders = [entry for entry in model_dir.iterdir() if is_version_name(entry.name) and entry.is_dir()]
    complete = [folder for folder in folders if (folder / METADATA_FILE).is_file()]
    return sorted(complete, key=version_of)


def version_of(folder: Path) -> int:
    """The version a folder holds: its name."""
    return int(folder.name)


def newest_version(model_dir: Path) -> Path:
    versions = complete_versions(model_dir)
    if not versions:
        raise VersionNotFoundError(f"no model version under {model_dir}: run `make train` or set MODEL_DIR")
    return versions[-1]


def version_folder(model_dir: Path, version: int | None = None) -> Path:
    """The folder of `version`, or of the newest complete version when it is None."""
    if version is None:
        return newest_version(model_dir)
    folder = model_dir / str(version)
    if folder not in complete_versions(model_dir):
        raise VersionNotFoundError(f"no complete version {version} under {model_dir}")
    return folder


def next_version(model_dir: Path) -> int:
    """The number a new version takes: one above every version-named folder, complete or not, so
    that a new version never lands on a folder that is being written by hand."""
    if not model_dir.is_dir():
        return 1
    numbers = [int(entry.name) for entry in model_dir.iterdir() if is_version_name(entry.name)]
    return max(numbers, default=0) + 1


def read_metadata(folder: Path) -> dict[str, Any]:
    """metadata.json of a version folder, with "version" set to the folder's own number.

    A number in the file that differs from the folder's (a copied or renamed version) is logged
    and overridden, so that a version answers with one identity everywhere.
    """
    try:
        metadata = json.loads((folder / METADATA_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise MetadataError(f"cannot read {folder / METADATA_FILE}: {error}") from error
    if not isinstance(metadata, dict):
        raise MetadataError(f"{folder / METADATA_FILE} is not a JSON object")
    version = version_of(folder)
    recorded = metadata.get("version")
    if recorded is not None and recorded != version:
        logger.warning(
            "%s was written as version %s; it is served as version %d, its folder's number", folder, recorded, version
        )
    return {**metadata, "version": version}


def write_metadata(folder: Path, metadata: dict[str, Any]) -> None:
    (folder / METADATA_FILE).write_text(json.dumps(metadata, indent=2) + "\n", encoding="utf-8")
