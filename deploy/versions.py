"""Publish a model version into a model folder the way training does, so that no reader sees half a copy."""

import shutil
from pathlib import Path

from model.artifact import STAGING_PREFIX, next_version


def publish_copy(source: Path, model_dir: Path) -> Path:
    """Copy a version into `model_dir` under the next number; the folder number is the version.

    The copy is written into a staging folder, whose name is no version, and renamed once complete:
    a service polling `model_dir` sees either nothing or the whole version.
    """
    staging = model_dir / f"{STAGING_PREFIX}{source.name}"
    shutil.copytree(source, staging)
    return staging.rename(model_dir / str(next_version(model_dir)))
