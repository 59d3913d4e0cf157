"""What the Kubernetes manifests must keep true beyond their schemas, as a list of problems (empty when fine).

The schemas say a manifest is well formed; these rules say it serves without dropping requests:
an update never removes capacity first, the drain finishes before the kubelet kills the process,
the probes ask the endpoints that mean ready and alive, and the container runs unprivileged on a
read-only root file system.
"""

from typing import Any

from pydantic import ValidationError

from app.settings import Settings

Resource = dict[str, Any]
APP_USER_ID = 10001
SETTING_NAMES = {name.upper() for name in Settings.model_fields}


def by_kind(resources: list[Resource], kind: str) -> list[Resource]:
    return [resource for resource in resources if resource["kind"] == kind]


def named(resources: list[Resource], kind: str, name: str) -> Resource | None:
    return next((item for item in by_kind(resources, kind) if item["metadata"]["name"] == name), None)


def container_settings(resources: list[Resource], container: dict[str, Any]) -> dict[str, str]:
    """The environment a container gets from its ConfigMaps and plain `env` values."""
    environment: dict[str, str] = {}
    for source in container.get("envFrom", []):
        config_map = named(resources, "ConfigMap", source.get("configMapRef", {}).get("name", ""))
        if config_map is not None:
            environment.update(config_map.get("data", {}))
    environment.update({item["name"]: item["value"] for item in container.get("env", []) if "value" in item})
    return environment


def pre_stop_pause_s(container: dict[str, Any]) -> float:
    """Seconds the preStop hook sleeps: an `exec` of `sleep N`, or the built-in sleep action."""
    hook = container.get("lifecycle", {}).get("preStop", {})
    if "sleep" in hook:
        return float(hook["sleep"]["seconds"])
    command = hook.get("exec", {}).get("command", [])
    return float(command[1]) if len(command) == 2 and command[0] == "sleep" else 0.0


def parse_settings(environment: dict[str, str]) -> Settings:
    """The service's settings from this environment (raises pydantic's ValidationError)."""
    return Settings(**{name.lower(): value for name, value in environment.items() if name in SETTING_NAMES})


def settings_problems(environment: dict[str, str]) -> list[str]:
    problems = [f"{name} is not a setting of app/settings.py" for name in environment if name not in SETTING_NAMES]
    try:
        parse_settings(environment)
    except ValidationError as error:
        problems.append(f"the settings do not validate: {error}")
    return problems


def probe_problems(container: dict[str, Any], port: int) -> list[str]:
    problems = []
    named_ports = {item.get("name"): item["containerPort"] for item in container.get("ports", [])}
    for probe, path in (("startupProbe", "/healthz"), ("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
        http_get = container.get(probe, {}).get("httpGet", {})
        if http_get.get("path") != path:
            problems.append(f"{probe} must GET {path}, not {http_get.get('path')}")
        if named_ports.get(http_get.get("port"), http_get.get("port")) != port:
            problems.append(f"{probe} must ask port {port}, where the service listens")
    return problems


def security_problems(pod: dict[str, Any], container: dict[str, Any]) -> list[str]:
    problems = []
    pod_context, context = pod.get("securityContext", {}), container.get("securityContext", {})
    if not context.get("runAsNonRoot", pod_context.get("runAsNonRoot")):
        problems.append("runAsNonRoot must be true")
    if context.get("runAsUser", pod_context.get("runAsUser")) != APP_USER_ID:
        problems.append(f"the container must run as the image's user {APP_USER_ID}")
    if context.get("readOnlyRootFilesystem") is not True:
        problems.append("readOnlyRootFilesystem must be true")
    if context.get("allowPrivilegeEscalation") is not False:
        problems.append("allowPrivilegeEscalation must be false")
    if "ALL" not in context.get("capabilities", {}).get("drop", []):
        problems.append("every capability must be dropped")
    empty_dirs = {volume["name"] for volume in pod.get("volumes", []) if "emptyDir" in volume}
    if not any(
        mount["mountPath"] == "/tmp" and mount["name"] in empty_dirs for mount in container.get("volumeMounts", [])
    ):
        problems.append("an emptyDir must be mounted at /tmp")
    return problems


def shutdown_problems(pod: dict[str, Any], container: dict[str, Any], settings: Settings) -> list[str]:
    problems = []
    pause = pre_stop_pause_s(container)
    if pause <= 0:
        problems.append("a preStop pause must let endpoints drain before SIGTERM")
    grace = pod.get("terminationGracePeriodSeconds", 30)
    if grace <= pause + settings.shutdown_delay_s + settings.shutdown_timeout_s:
        problems.append(
            f"terminationGracePeriodSeconds ({grace}) must exceed the preStop pause ({pause:g} s) "
            f"plus SHUTDOWN_DELAY_S ({settings.shutdown_delay_s:g} s) "
            f"plus SHUTDOWN_TIMEOUT_S ({settings.shutdown_timeout_s:g} s)"
        )
    if settings.request_timeout_s > settings.shutdown_timeout_s:
        problems.append("REQUEST_TIMEOUT_S must not exceed SHUTDOWN_TIMEOUT_S, or a drain can outlast its timeout")
    return problems


def secret_problems(resources: list[Resource], container: dict[str, Any], secret_name: str) -> list[str]:
    references = [
        item["valueFrom"]["secretKeyRef"]
        for item in container.get("env", [])
        if item["name"] == "API_KEY" and "secretKeyRef" in item.get("valueFrom", {})
    ]
    if [(reference["name"], reference.get("optional", False)) for reference in references] != [(secret_name, False)]:
        return [f"API_KEY must come from the Secret {secret_name}, and not optionally"]
    return []


def deployment_problems(deployment: Resource, resources: list[Resource], secret_name: str) -> list[str]:
    spec, pod = deployment["spec"], deployment["spec"]["template"]["spec"]
    problems = []
    strategy = spec.get("strategy", {})
    if strategy.get("type") != "RollingUpdate" or strategy.get("rollingUpdate", {}).get("maxUnavailable") not in (
        0,
        "0%",
    ):
        problems.append("the update strategy must be RollingUpdate with maxUnavailable 0")
    if spec["selector"]["matchLabels"].items() > deployment["spec"]["template"]["metadata"]["labels"].items():
        problems.append("the Deployment's selector must match its pod labels")
    if by_kind(resources, "HorizontalPodAutoscaler") and "replicas" in spec:
        problems.append("with an autoscaler, the Deployment must not set replicas (each apply would reset them)")
    if len(pod["containers"]) != 1:
        return [*problems, "the pod must run exactly one container, the service"]
    container = pod["containers"][0]
    environment = container_settings(resources, container)
    problems += settings_problems(environment)
    if problems:
        return problems
    settings = parse_settings(environment)
    return [
        *probe_problems(container, settings.port),
        *security_problems(pod, container),
        *shutdown_problems(pod, container, settings),
        *secret_problems(resources, container, secret_name),
    ]


def wiring_problems(resources: list[Resource]) -> list[str]:
    """Service, autoscaler and disruption budget all point at the Deployment and its pods."""
    (deployment,) = by_kind(resources, "Deployment")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    port_names = {item.get("name") for item in container.get("ports", [])}
    problems = []
    for service in by_kind(resources, "Service"):
        if not service["spec"]["selector"].items() <= labels.items():
            problems.append(f"Service {service['metadata']['name']} selects no pod of the Deployment")
        if any(item["targetPort"] not in port_names for item in service["spec"]["ports"]):
            problems.append(f"Service {service['metadata']['name']} targets a port the container does not name")
    for autoscaler in by_kind(resources, "HorizontalPodAutoscaler"):
        target = autoscaler["spec"]["scaleTargetRef"]
        if (target["kind"], target["name"]) != ("Deployment", deployment["metadata"]["name"]):
            problems.append("the HorizontalPodAutoscaler must scale the Deployment")
        if autoscaler["spec"].get("minReplicas", 1) < 2:
            problems.append("the HorizontalPodAutoscaler must keep at least 2 replicas")
    for budget in by_kind(resources, "PodDisruptionBudget"):
        if not budget["spec"]["selector"]["matchLabels"].items() <= labels.items():
            problems.append("the PodDisruptionBudget selects no pod of the Deployment")
    return problems


def model_volume_problems(resources: list[Resource]) -> list[str]:
    """With the model on a volume: MODEL_DIR is a read-only mount of a claim that exists, and it is polled."""
    (deployment,) = by_kind(resources, "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    environment = container_settings(resources, container)
    problems = []
    mounts = {mount["mountPath"]: mount for mount in container.get("volumeMounts", [])}
    mount = mounts.get(environment.get("MODEL_DIR", ""))
    if mount is None or mount.get("readOnly") is not True:
        return ["MODEL_DIR must be a read-only volume mount"]
    volume = next((item for item in pod["volumes"] if item["name"] == mount["name"]), {})
    claim = volume.get("persistentVolumeClaim", {}).get("claimName")
    if claim is None or named(resources, "PersistentVolumeClaim", claim) is None:
        problems.append("the model volume must be a PersistentVolumeClaim defined beside the Deployment")
    if float(environment.get("MODEL_POLL_INTERVAL_S", "0")) <= 0:
        problems.append("MODEL_POLL_INTERVAL_S must be above 0, or new versions on the volume are never seen")
    return problems
