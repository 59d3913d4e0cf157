"""Render a kustomization the way `kubectl apply -k` would, for the subset of kustomize the manifests use.

kustomize is a Go program, not a Python package, so the tests render the manifests themselves:
`resources` (files, or folders holding a kustomization) and `patches` that are JSON patches
(RFC 6902) with a target. Any other kustomize feature raises, so that a manifest using one cannot
pass the tests while being validated as something other than what is applied.
"""

from pathlib import Path
from typing import Any

import jsonpatch
import yaml

KUSTOMIZATION_FILE = "kustomization.yaml"
SUPPORTED_FIELDS = {"apiVersion", "kind", "resources", "patches"}
TARGET_FIELDS = {"group", "version", "kind", "name"}

Resource = dict[str, Any]


class UnsupportedKustomizationError(ValueError):
    """The kustomization uses a feature this renderer does not apply."""


def load_documents(path: Path) -> list[Resource]:
    """Every non-empty YAML document of a file."""
    return [document for document in yaml.safe_load_all(path.read_text(encoding="utf-8")) if document]


def render(folder: Path) -> list[Resource]:
    """The resources a kustomization folder produces, in the order it lists them."""
    kustomization = yaml.safe_load((folder / KUSTOMIZATION_FILE).read_text(encoding="utf-8"))
    unsupported = set(kustomization) - SUPPORTED_FIELDS
    if unsupported:
        raise UnsupportedKustomizationError(f"{folder / KUSTOMIZATION_FILE} uses {sorted(unsupported)}")
    resources: list[Resource] = []
    for entry in kustomization.get("resources", []):
        path = folder / entry
        resources.extend(render(path) if path.is_dir() else load_documents(path))
    for patch in kustomization.get("patches", []):
        resources = apply_patch(resources, folder, patch)
    return resources


def matches(resource: Resource, target: dict[str, str]) -> bool:
    group, _, version = resource["apiVersion"].rpartition("/")
    return (
        target.get("group", group) == group
        and target.get("version", version) == version
        and target.get("kind", resource["kind"]) == resource["kind"]
        and target.get("name", resource["metadata"]["name"]) == resource["metadata"]["name"]
    )


def apply_patch(resources: list[Resource], folder: Path, patch: dict[str, Any]) -> list[Resource]:
    """The resources with a JSON patch applied to each one its target selects; at least one must be."""
    target = patch.get("target")
    if set(patch) != {"path", "target"} or not target or set(target) - TARGET_FIELDS:
        raise UnsupportedKustomizationError(f"only JSON patches from a file with a plain target are applied: {patch}")
    operations = yaml.safe_load((folder / patch["path"]).read_text(encoding="utf-8"))
    if not isinstance(operations, list):
        raise UnsupportedKustomizationError(f"{patch['path']} is not a JSON patch (a list of operations)")
    selected = [matches(resource, target) for resource in resources]
    if not any(selected):
        raise UnsupportedKustomizationError(f"the patch {patch['path']} selects no resource")
    return [
        jsonpatch.apply_patch(resource, operations) if chosen else resource
        for resource, chosen in zip(resources, selected, strict=True)
    ]
