"""The Kubernetes manifests: strict validation against the API schemas, offline, and the rules that keep serving.

Both the base (model in the image) and the model-volume overlay are rendered as `kubectl apply -k`
renders them (tests/deploy/kustomize.py) and validated against the schemas of the oldest Kubernetes
the README names and the newest that kubernetes-validate bundles.
"""

import copy
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from tests.deploy.kustomize import KUSTOMIZATION_FILE, Resource, UnsupportedKustomizationError, load_documents, render
from tests.deploy.manifest_rules import by_kind, deployment_problems, model_volume_problems, wiring_problems

KUBERNETES_DIR = Path(__file__).resolve().parents[2] / "deploy" / "kubernetes"
BASE = KUBERNETES_DIR / "base"
MODEL_VOLUME = KUBERNETES_DIR / "model-volume"
# Examples to copy from, not applied by the kustomization; they must validate all the same.
EXAMPLES = (BASE / "secret.example.yaml", BASE / "hpa-queue-depth.example.yaml")
OLDEST_KUBERNETES = "1.30"
KUBERNETES_VERSIONS = (OLDEST_KUBERNETES, kubernetes_validate.latest_version())


def secret_name() -> str:
    (secret,) = load_documents(BASE / "secret.example.yaml")
    return secret["metadata"]["name"]


def schema_errors(resource: Resource, version: str) -> list[str]:
    """Why a resource does not validate strictly (no unknown fields) against a Kubernetes version's schemas."""
    name = f"{resource.get('kind')}/{resource.get('metadata', {}).get('name')}"
    try:
        kubernetes_validate.validate(resource, version, strict=True)
    except kubernetes_validate.ValidationError as error:
        location = ".".join(str(part) for part in error.path)
        return [f"{name} against Kubernetes {version}: {location}: {error.message}"]
    except kubernetes_validate.SchemaNotFoundError as error:
        return [f"{name}: {error.message}"]
    return []


def rendered(folder: Path) -> list[Resource]:
    return render(folder) + ([] if folder != BASE else [doc for path in EXAMPLES for doc in load_documents(path)])


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("folder", [BASE, MODEL_VOLUME], ids=["base", "model-volume"])
def test_every_resource_validates_strictly_against_the_kubernetes_schemas(folder: Path, version: str):
    resources = rendered(folder)
    assert {resource["kind"] for resource in render(folder)} >= {
        "ConfigMap",
        "Deployment",
        "Service",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
    }
    assert [error for resource in resources for error in schema_errors(resource, version)] == []


def test_the_base_keeps_every_serving_rule():
    resources = render(BASE)
    (deployment,) = by_kind(resources, "Deployment")
    assert deployment_problems(deployment, resources, secret_name()) == []
    assert wiring_problems(resources) == []
    # The base serves the model baked into the image, so it mounts none.
    assert model_volume_problems(resources) == ["MODEL_DIR must be a read-only volume mount"]


def test_the_model_volume_overlay_mounts_the_model_read_only_and_polls_it():
    resources = render(MODEL_VOLUME)
    (deployment,) = by_kind(resources, "Deployment")
    assert deployment_problems(deployment, resources, secret_name()) == []
    assert wiring_problems(resources) == []
    assert model_volume_problems(resources) == []


def first_container(resources: list[Resource]) -> dict:
    return by_kind(resources, "Deployment")[0]["spec"]["template"]["spec"]["containers"][0]


def pod_spec(resources: list[Resource]) -> dict:
    return by_kind(resources, "Deployment")[0]["spec"]["template"]["spec"]


def config_data(resources: list[Resource]) -> dict:
    return by_kind(resources, "ConfigMap")[0]["data"]


SCHEMA_BREAKS: dict[str, Callable[[list[Resource]], None]] = {
    "misspelt field": lambda r: first_container(r).update(livenesProbe=first_container(r).pop("livenessProbe")),
    "string for an integer": lambda r: pod_spec(r).update(terminationGracePeriodSeconds="40"),
    "container without a name": lambda r: first_container(r).pop("name"),
    "unknown kind": lambda r: by_kind(r, "Service")[0].update(kind="Servise"),
}


@pytest.mark.parametrize("break_it", SCHEMA_BREAKS.values(), ids=SCHEMA_BREAKS.keys())
def test_a_broken_manifest_fails_schema_validation(break_it: Callable[[list[Resource]], None]):
    resources = copy.deepcopy(render(BASE))
    break_it(resources)
    errors = [error for resource in resources for error in schema_errors(resource, KUBERNETES_VERSIONS[-1])]
    assert len(errors) == 1, errors


RULE_BREAKS: dict[str, tuple[Callable[[list[Resource]], None], str]] = {
    "surge without headroom": (
        lambda r: by_kind(r, "Deployment")[0]["spec"]["strategy"]["rollingUpdate"].update(maxUnavailable=1),
        "maxUnavailable 0",
    ),
    "grace shorter than the drain": (
        lambda r: pod_spec(r).update(terminationGracePeriodSeconds=20),
        "terminationGracePeriodSeconds (20) must exceed",
    ),
    "drain longer than the grace": (lambda r: config_data(r).update(SHUTDOWN_TIMEOUT_S="60"), "must exceed"),
    "drain delayed past the grace": (lambda r: config_data(r).update(SHUTDOWN_DELAY_S="20"), "must exceed"),
    "request timeout past the drain": (
        lambda r: config_data(r).update(REQUEST_TIMEOUT_S="25"),
        "REQUEST_TIMEOUT_S must not exceed",
    ),
    "no preStop pause": (lambda r: first_container(r).pop("lifecycle"), "preStop"),
    "readiness on the liveness endpoint": (
        lambda r: first_container(r)["readinessProbe"]["httpGet"].update(path="/healthz"),
        "readinessProbe must GET /readyz",
    ),
    "liveness on the wrong port": (
        lambda r: first_container(r)["livenessProbe"]["httpGet"].update(port=8080),
        "livenessProbe must ask port 8000",
    ),
    "writable root": (
        lambda r: first_container(r)["securityContext"].update(readOnlyRootFilesystem=False),
        "readOnlyRootFilesystem",
    ),
    "root allowed": (lambda r: pod_spec(r)["securityContext"].pop("runAsNonRoot"), "runAsNonRoot"),
    "no /tmp": (lambda r: first_container(r).pop("volumeMounts"), "emptyDir must be mounted at /tmp"),
    "capabilities kept": (lambda r: first_container(r)["securityContext"].pop("capabilities"), "capability"),
    "misspelt setting": (
        lambda r: config_data(r).update(SHUTDOWN_TIMEOUT=config_data(r).pop("SHUTDOWN_TIMEOUT_S")),
        "SHUTDOWN_TIMEOUT is not a setting",
    ),
    "invalid setting": (lambda r: config_data(r).update(MODEL_POLL_INTERVAL_S="-1"), "do not validate"),
    "optional API key": (
        lambda r: next(e for e in first_container(r)["env"] if e["name"] == "API_KEY")["valueFrom"][
            "secretKeyRef"
        ].update(optional=True),
        "API_KEY must come from the Secret",
    ),
    "replicas beside the autoscaler": (
        lambda r: by_kind(r, "Deployment")[0]["spec"].update(replicas=3),
        "must not set replicas",
    ),
}


@pytest.mark.parametrize(("break_it", "expected"), RULE_BREAKS.values(), ids=RULE_BREAKS.keys())
def test_a_manifest_that_would_drop_requests_or_run_privileged_is_reported(
    break_it: Callable[[list[Resource]], None], expected: str
):
    resources = copy.deepcopy(render(BASE))
    break_it(resources)
    (deployment,) = by_kind(resources, "Deployment")
    problems = deployment_problems(deployment, resources, secret_name())
    assert any(expected in problem for problem in problems), problems


WIRING_BREAKS: dict[str, tuple[Callable[[list[Resource]], None], str]] = {
    "service selects nothing": (
        lambda r: by_kind(r, "Service")[0]["spec"]["selector"].update({"app.kubernetes.io/name": "other"}),
        "selects no pod",
    ),
    "service port unnamed": (
        lambda r: by_kind(r, "Service")[0]["spec"]["ports"][0].update(targetPort="web"),
        "targets a port",
    ),
    "autoscaler on another target": (
        lambda r: by_kind(r, "HorizontalPodAutoscaler")[0]["spec"]["scaleTargetRef"].update(name="other"),
        "must scale the Deployment",
    ),
    "budget selects nothing": (
        lambda r: by_kind(r, "PodDisruptionBudget")[0]["spec"]["selector"]["matchLabels"].update(
            {"app.kubernetes.io/name": "other"}
        ),
        "PodDisruptionBudget selects no pod",
    ),
}


@pytest.mark.parametrize(("break_it", "expected"), WIRING_BREAKS.values(), ids=WIRING_BREAKS.keys())
def test_resources_that_miss_the_deployment_are_reported(break_it: Callable[[list[Resource]], None], expected: str):
    resources = copy.deepcopy(render(BASE))
    break_it(resources)
    assert any(expected in problem for problem in wiring_problems(resources))


def test_the_overlay_without_polling_or_with_a_writable_mount_is_reported():
    resources = copy.deepcopy(render(MODEL_VOLUME))
    config_data(resources).update(MODEL_POLL_INTERVAL_S="0")
    assert any("MODEL_POLL_INTERVAL_S" in problem for problem in model_volume_problems(resources))
    next(m for m in first_container(resources)["volumeMounts"] if m["mountPath"] == "/models")["readOnly"] = False
    assert model_volume_problems(resources) == ["MODEL_DIR must be a read-only volume mount"]


def test_a_kustomize_feature_the_renderer_does_not_apply_is_refused(tmp_path: Path):
    shutil.copytree(BASE, tmp_path / "base")
    kustomization_path = tmp_path / "base" / KUSTOMIZATION_FILE
    kustomization = yaml.safe_load(kustomization_path.read_text())
    kustomization_path.write_text(yaml.safe_dump({**kustomization, "namePrefix": "staging-"}))
    with pytest.raises(UnsupportedKustomizationError, match="namePrefix"):
        render(tmp_path / "base")


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
@pytest.mark.parametrize("folder", [BASE, MODEL_VOLUME], ids=["base", "model-volume"])
def test_kubectl_renders_the_same_resources(folder: Path):
    output = subprocess.run(["kubectl", "kustomize", str(folder)], capture_output=True, text=True, check=True).stdout

    def keyed(resources: list[Resource]) -> dict[tuple[str, str], Resource]:
        return {(resource["kind"], resource["metadata"]["name"]): resource for resource in resources}

    assert keyed([doc for doc in yaml.safe_load_all(output) if doc]) == keyed(render(folder))
