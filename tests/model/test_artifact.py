"""The artifact contract: which folders are versions, their numbers and their metadata."""

import json
import logging
from pathlib import Path

import pytest

from model.artifact import (
    METADATA_FILE,
    MetadataError,
    VersionNotFoundError,
    complete_versions,
    newest_version,
    next_version,
    read_metadata,
    version_folder,
)


def make_version(model_dir: Path, name: str, metadata: object | None = None) -> Path:
    folder = model_dir / name
    folder.mkdir(parents=True)
    if metadata is not None:
        (folder / METADATA_FILE).write_text(json.dumps(metadata))
    return folder


def test_only_number_named_folders_with_metadata_are_versions_in_numeric_order(tmp_path: Path):
    for name in ("10", "2", "9"):
        make_version(tmp_path, name, {"labels": ["negative", "positive"]})
    make_version(tmp_path, "11")  # Being written by hand: no metadata yet.
    make_version(tmp_path, ".tmp-12", {})  # A staging folder.
    make_version(tmp_path, "0", {})
    make_version(tmp_path, "٣", {})  # An Arabic-Indic digit is a digit to str.isdigit, not a version.
    (tmp_path / "12").write_text("a file, not a folder")
    assert [folder.name for folder in complete_versions(tmp_path)] == ["2", "9", "10"]
    assert newest_version(tmp_path) == tmp_path / "10"


def test_the_next_number_is_above_every_version_named_folder_complete_or_not(tmp_path: Path):
    assert next_version(tmp_path / "missing") == 1
    make_version(tmp_path, "3", {})
    make_version(tmp_path, "7")
    make_version(tmp_path, ".tmp-20", {})
    assert next_version(tmp_path) == 8


def test_a_missing_or_incomplete_version_is_a_named_error(tmp_path: Path):
    with pytest.raises(VersionNotFoundError, match="make train"):
        newest_version(tmp_path)
    make_version(tmp_path, "4")
    with pytest.raises(VersionNotFoundError, match="version 4"):
        version_folder(tmp_path, 4)
    (tmp_path / "4" / METADATA_FILE).write_text("{}")
    assert version_folder(tmp_path, 4) == tmp_path / "4"
    assert version_folder(tmp_path) == tmp_path / "4"


def test_the_folder_number_is_the_version_and_a_mismatch_is_logged(tmp_path: Path, caplog):
    copied = make_version(tmp_path, "6", {"version": 5, "labels": ["negative", "positive"]})
    with caplog.at_level(logging.WARNING, logger="model.artifact"):
        metadata = read_metadata(copied)
    assert metadata == {"version": 6, "labels": ["negative", "positive"]}
    assert "written as version 5" in caplog.text


@pytest.mark.parametrize("content", ["not json", "[1, 2]"])
def test_unreadable_metadata_is_a_named_error(tmp_path: Path, content: str):
    folder = make_version(tmp_path, "1")
    (folder / METADATA_FILE).write_text(content)
    with pytest.raises(MetadataError):
        read_metadata(folder)
