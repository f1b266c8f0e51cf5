"""Kubernetes objects of the A/B workloads as plain dicts: configuration in, manifests out.

Pure builders, kept apart from the Pulumi component so that tests validate exactly what is declared
against the Kubernetes OpenAPI schema (`kubernetes-validate`) and so that other tools can render the
same objects. Image references and the namespace are passed in; they may be plain strings or Pulumi
Outputs (the component passes Outputs, tests pass strings).

Names are deterministic (no Pulumi auto-naming suffix), because `timing` and people look objects up by
name: `<arm>-front` / `<arm>-back` for the azure-vote template, `<arm>` for the single template.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from components.pod_security import NAMESPACE_LABELS, POD_SECURITY_CONTEXT, UNKNOWN, container_security_context
from contract import (
    ANNOTATION_APP_READY_LOG,
    LABEL_APP_NAME,
    LABEL_ARM,
    LABEL_PAIR,
    LABEL_PART_OF,
    LABEL_POOL,
    LABEL_STREAMING,
    LABEL_WORKLOAD,
)
from contract import PART_OF_VALUE as PART_OF
from stackconfig.model import ArmConfig, PoolConfig, ResourcesConfig, WorkloadConfig

PULL_SECRET_NAME = "acr-pull"
# Tells pulumi-kubernetes not to wait for readiness: used for arms whose pool is parked (count 0),
# whose pods stay Pending by design until the pool is scaled up.
SKIP_AWAIT_ANNOTATION = "pulumi.com/skipAwait"

# azure-vote: the front end of the seeds (Flask behind nginx/uwsgi) and its redis back end.
FRONT = "azure-vote-front"
BACK = "azure-vote-back"
FRONT_SERVICE_PORT = 80
REDIS_PORT = 6379
# A readiness probe every second: pod readiness is the timestamp `timing` reports, so the probe period
# bounds how late "ready" is observed. HTTP, so Ready means the app answers: the azure-vote front's
# page reads its redis (the app is up only when both are), redis itself is probed on its port.
PROBE = {"periodSeconds": 1, "timeoutSeconds": 1, "successThreshold": 1, "failureThreshold": 3}
FRONT_READY_PATH = "/"
# The synthetic images' PID 1 (busybox httpd, or sleep) installs no SIGTERM handler, so the signal
# is ignored: without this every pod deletion (cache resets, scale to 0) would wait the default 30 s.
SLEEPER_GRACE_SECONDS = 5
SYNTHETIC_READY_PATH = "/ready"  # components/dockerfiles.py READY_PATH, served once the start-up read is done
STARTUP_READ_ENV = "STARTUP_READ_MB"

_DNS1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")


@dataclass(frozen=True)
class ArmImages:
    """The references one arm runs; both arms of a workload get the very same values."""

    main: Any  # str or Output[str]
    backend: Any = None  # azure-vote only
    # Filled synthetic images: they serve SYNTHETIC_READY_PATH on this port after reading startup_read_mb MB.
    app_port: int | None = None
    startup_read_mb: int | None = None
    main_security: str = UNKNOWN
    backend_security: str = UNKNOWN


def front_name(arm: ArmConfig) -> str:
    return f"{arm.name}-front"


def back_name(arm: ArmConfig) -> str:
    return f"{arm.name}-back"


def single_name(arm: ArmConfig) -> str:
    return arm.name


def arm_selector(arm: ArmConfig) -> str:
    """The label selector that finds every pod of an arm (what `timing report --selector` takes)."""
    return f"{LABEL_ARM}={arm.name}"


def pod_labels(workload: WorkloadConfig, arm: ArmConfig, component: str) -> dict[str, str]:
    return {
        LABEL_APP_NAME: component,
        LABEL_PART_OF: PART_OF,
        LABEL_ARM: arm.name,
        LABEL_STREAMING: "true" if arm.streaming else "false",
        LABEL_WORKLOAD: workload.name,
        LABEL_PAIR: arm.pair,
        **(workload.factor.pod_labels() if workload.factor is not None else {}),
    }


def selector_labels(arm: ArmConfig, component: str) -> dict[str, str]:
    # Immutable once created: only what identifies the pods of this Deployment.
    return {LABEL_ARM: arm.name, LABEL_APP_NAME: component}


def namespace(name: str) -> dict[str, Any]:
    # Pod Security: baseline enforced, restricted reported (warn + audit) for what still falls short of it.
    labels = {LABEL_PART_OF: PART_OF, **NAMESPACE_LABELS}
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


def front_service_type(load_balancer_source_ranges: Sequence[str], public_endpoints: bool) -> str:
    """A LoadBalancer only by explicit choice: source ranges to admit, or `publicEndpoints: true`."""
    return "LoadBalancer" if load_balancer_source_ranges or public_endpoints else "ClusterIP"


def port_forward_command(namespace_name: str, arm: ArmConfig, local_port: int = 8080) -> str:
    return (
        f"kubectl --namespace {namespace_name} port-forward service/{front_name(arm)} "
        f"{local_port}:{FRONT_SERVICE_PORT}  # then http://localhost:{local_port}"
    )


def pull_secret(namespace_name: Any, dockerconfigjson: Any) -> dict[str, Any]:
    """The registry credential for `cluster.pullMode: token` (kubelet pulls with it, not an identity)."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "kubernetes.io/dockerconfigjson",
        "metadata": {"name": PULL_SECRET_NAME, "namespace": namespace_name, "labels": {LABEL_PART_OF: PART_OF}},
        "stringData": {".dockerconfigjson": dockerconfigjson},
    }


def deployment(
    *,
    name: str,
    namespace_name: Any,
    workload: WorkloadConfig,
    arm: ArmConfig,
    pool: PoolConfig,
    component: str,
    image: Any,
    replicas: int,
    port: int | None,
    port_name: str,
    env: dict[str, str] | None = None,
    use_pull_secret: bool = False,
    grace_seconds: int | None = None,
    ready_path: str | None = None,
    security_profile: str = UNKNOWN,
    ready_command: Sequence[str] | None = None,
    command: Sequence[str] | None = None,
    args: Sequence[str] | None = None,
    pod_annotations: dict[str, str] | None = None,
) -> dict[str, Any]:
    if pool.name != arm.pool:
        raise ValueError(f"arm {arm.name!r} runs on pool {arm.pool!r}, not {pool.name!r}")
    labels = pod_labels(workload, arm, component)
    container: dict[str, Any] = {
        "name": component,
        "image": image,
        # Pull only when the node does not have the image: the cold start is produced by fresh nodes
        # (cache reset), and a warm restart must show the cached case, as in the blog.
        "imagePullPolicy": "IfNotPresent",
        "resources": _resources(workload.resources),
        "securityContext": container_security_context(security_profile),
    }
    for key, value in (("command", command), ("args", args)):
        if value is not None:
            container[key] = list(value)
    check: dict[str, Any] | None = None
    if port is not None:
        container["ports"] = [{"name": port_name, "containerPort": port, "protocol": "TCP"}]
        check = (
            {"httpGet": {"path": ready_path, "port": port_name}} if ready_path else {"tcpSocket": {"port": port_name}}
        )
    if ready_command:
        check = {"exec": {"command": list(ready_command)}}
    if check is not None:
        container["readinessProbe"] = {**check, "initialDelaySeconds": 0, **PROBE}
    if env:
        container["env"] = [{"name": key, "value": value} for key, value in env.items()]
    pod_spec: dict[str, Any] = {
        "nodeSelector": {LABEL_POOL: pool.name},
        "tolerations": [{"key": LABEL_POOL, "operator": "Equal", "value": pool.name, "effect": "NoSchedule"}],
        "containers": [container],
        # Service links would inject every other arm's Service into the environment; the arms must be
        # identical except for their pool.
        "enableServiceLinks": False,
        # Nothing in the experiment talks to the API server: no token to steal.
        "automountServiceAccountToken": False,
        "securityContext": dict(POD_SECURITY_CONTEXT),
    }
    if grace_seconds is not None:
        pod_spec["terminationGracePeriodSeconds"] = grace_seconds
    if use_pull_secret:
        pod_spec["imagePullSecrets"] = [{"name": PULL_SECRET_NAME}]
    metadata: dict[str, Any] = {"name": name, "namespace": namespace_name, "labels": labels}
    if pool.count == 0:
        metadata["annotations"] = {SKIP_AWAIT_ANNOTATION: "true"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata,
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": selector_labels(arm, component)},
            "template": {"metadata": _pod_metadata(labels, pod_annotations), "spec": pod_spec},
        },
    }


def _pod_metadata(labels: dict[str, str], annotations: dict[str, str] | None) -> dict[str, Any]:
    metadata: dict[str, Any] = {"labels": dict(labels)}
    if annotations:
        metadata["annotations"] = dict(annotations)
    return metadata


def service(
    *,
    name: str,
    namespace_name: Any,
    workload: WorkloadConfig,
    arm: ArmConfig,
    pool: PoolConfig,
    component: str,
    port: int,
    target_port: str,
    service_type: str,
    source_ranges: Sequence[str] = (),
) -> dict[str, Any]:
    if not _DNS1035.match(name) or len(name) > 63:
        # Service names are DNS-1035 labels: unlike Deployment names they may not start with a digit.
        raise ValueError(
            f"Service name {name!r} is not a DNS-1035 label (a lowercase letter first, then "
            f"lowercase letters, digits or '-', at most 63): rename arm {arm.name!r}"
        )
    metadata: dict[str, Any] = {
        "name": name,
        "namespace": namespace_name,
        "labels": pod_labels(workload, arm, component),
    }
    if pool.count == 0:
        metadata["annotations"] = {SKIP_AWAIT_ANNOTATION: "true"}
    spec: dict[str, Any] = {
        "type": service_type,
        "selector": selector_labels(arm, component),
        "ports": [{"name": target_port, "port": port, "targetPort": target_port, "protocol": "TCP"}],
    }
    if service_type == "LoadBalancer":
        # Keep the client's address: with `Cluster` a node SNATs it to its own, and the NetworkPolicy
        # that admits only the source ranges (components/network_policies.py) would drop every client.
        spec["externalTrafficPolicy"] = "Local"
        if source_ranges:
            spec["loadBalancerSourceRanges"] = list(source_ranges)
    return {"apiVersion": "v1", "kind": "Service", "metadata": metadata, "spec": spec}


def arm_objects(
    workload: WorkloadConfig,
    arm: ArmConfig,
    pool: PoolConfig,
    *,
    namespace_name: Any,
    images: ArmImages,
    load_balancer_source_ranges: Sequence[str] = (),
    use_pull_secret: bool = False,
    public_endpoints: bool = False,
) -> list[dict[str, Any]]:
    """Every object of one arm: Deployments first, then Services."""
    common = {"namespace_name": namespace_name, "workload": workload, "arm": arm, "pool": pool}
    if workload.template == "azure-vote":
        if images.backend is None:
            raise ValueError(f"workload {workload.name!r}: the azure-vote template needs a back-end image")
        front_port = workload.port if workload.port is not None else FRONT_SERVICE_PORT
        return [
            deployment(
                name=front_name(arm),
                component=FRONT,
                image=images.main,
                replicas=workload.replicas,
                port=front_port,
                port_name="http",
                # The front finds its own arm's redis by Service name: never another arm's.
                env={"REDIS": back_name(arm)},
                use_pull_secret=use_pull_secret,
                ready_path=FRONT_READY_PATH,
                security_profile=images.main_security,
                **common,
            ),
            # One redis per arm: replicas of a stateful back end would be separate, unshared databases.
            deployment(
                name=back_name(arm),
                component=BACK,
                image=images.backend,
                replicas=1,
                port=REDIS_PORT,
                port_name="redis",
                # The bitnami redis image refuses to start without a password unless told so.
                env={"ALLOW_EMPTY_PASSWORD": "yes"},
                use_pull_secret=use_pull_secret,
                security_profile=images.backend_security,
                **common,
            ),
            service(
                name=front_name(arm),
                component=FRONT,
                port=FRONT_SERVICE_PORT,
                target_port="http",
                service_type=front_service_type(load_balancer_source_ranges, public_endpoints),
                source_ranges=load_balancer_source_ranges,
                **common,
            ),
            service(
                name=back_name(arm),
                component=BACK,
                port=REDIS_PORT,
                target_port="redis",
                service_type="ClusterIP",
                **common,
            ),
        ]
    if workload.template == "single":
        synthetic = images.app_port is not None and workload.port is None
        port = images.app_port if synthetic else workload.port
        read_mb = workload.startup_read_mb if workload.startup_read_mb is not None else images.startup_read_mb
        objects = [
            deployment(
                name=single_name(arm),
                component=workload.name,
                image=images.main,
                replicas=workload.replicas,
                port=port,
                port_name="main",
                env={STARTUP_READ_ENV: str(read_mb)} if synthetic and read_mb is not None else None,
                use_pull_secret=use_pull_secret,
                grace_seconds=SLEEPER_GRACE_SECONDS if synthetic or port is None else None,
                ready_path=SYNTHETIC_READY_PATH if synthetic else None,
                security_profile=images.main_security,
                **common,
            ),
        ]
        if workload.port is not None:  # a Service only for a port the user asked for
            objects.append(
                service(
                    name=single_name(arm),
                    component=workload.name,
                    port=workload.port,
                    target_port="main",
                    service_type="ClusterIP",
                    **common,
                )
            )
        return objects
    if workload.template == "custom":
        return _custom_objects(workload, arm, pool, images, namespace_name, use_pull_secret)
    raise ValueError(f"workload {workload.name!r}: unknown template {workload.template!r}")


def _custom_objects(
    workload: WorkloadConfig, arm: ArmConfig, pool: PoolConfig, images: ArmImages, namespace_name: Any, pull: bool
) -> list[dict[str, Any]]:
    """One Deployment as `container` says (and a ClusterIP Service for its port)."""
    spec = workload.container
    if spec is None:
        raise ValueError(f"workload {workload.name!r}: the custom template needs its container")
    common = {"namespace_name": namespace_name, "workload": workload, "arm": arm, "pool": pool}
    annotations = {ANNOTATION_APP_READY_LOG: spec.app_ready_log} if spec.app_ready_log else None
    objects = [
        deployment(
            name=single_name(arm),
            component=workload.name,
            image=images.main,
            replicas=workload.replicas,
            port=spec.port,
            port_name="main",
            env=dict(spec.env) or None,
            use_pull_secret=pull,
            ready_path=spec.readiness_path,
            ready_command=spec.readiness_command,
            command=spec.command,
            args=spec.args,
            pod_annotations=annotations,
            security_profile=images.main_security,
            **common,
        )
    ]
    if spec.port is not None:
        objects.append(
            service(
                name=single_name(arm),
                component=workload.name,
                port=spec.port,
                target_port="main",
                service_type="ClusterIP",
                **common,
            )
        )
    return objects


def has_load_balancer(workload: WorkloadConfig) -> bool:
    return workload.template == "azure-vote"


def _resources(resources: ResourcesConfig) -> dict[str, dict[str, str]]:
    return {
        "requests": {"cpu": resources.cpu_request, "memory": resources.memory_request},
        "limits": {"cpu": resources.cpu_limit, "memory": resources.memory_limit},
    }
