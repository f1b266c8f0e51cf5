"""The Kubernetes objects of the A/B workloads (components/manifests.py), validated offline.

Every object is checked against the OpenAPI schema of the cluster's Kubernetes version with
kubernetes-validate (strict: unknown fields are errors). `offline.kube_schema.schema_version` maps the configured
`cluster.kubernetesVersion` to the newest schema the installed package ships that is not newer than
it: kubernetes-validate 1.37.0 ships 1.25.0 ... 1.37.0, so the default 1.33 validates against 1.33.0
exactly, and a version older than the oldest shipped schema is refused rather than validated against
a newer API.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from typing import Any

import kubernetes_validate
import pytest
from kubernetes_validate import utils as kv_utils

from components import manifests
from offline.kube_schema import schema_version
from stackconfig.model import StackConfig
from stacks import scenarios
from stacks.config import parse_stack_config

BASE = {"location": "westus3"}
FRONT_REF = "streamabx7k2q9.azurecr.io/azure-vote-front:v1"
BACK_REF = "streamabx7k2q9.azurecr.io/redis:6.0.8"
DIGEST_REF = "streamabx7k2q9.azurecr.io/largeimage/test@sha256:" + "c" * 64


def validate(obj: dict[str, Any], kubernetes_version: str) -> None:
    kubernetes_validate.validate(obj, schema_version(kubernetes_version), strict=True)


def config_for(scenario: str, **overrides: Any) -> StackConfig:
    return parse_stack_config({**BASE, "scenario": scenario, **overrides})


def render(config: StackConfig, *, use_pull_secret: bool = False, main_ref: str = FRONT_REF) -> list[dict]:
    pools = {p.name: p for p in config.pools}
    objects = [manifests.namespace(config.workload_namespace)]
    if use_pull_secret:
        objects.append(manifests.pull_secret(config.workload_namespace, '{"auths": {}}'))
    for workload in config.workloads:
        images = manifests.ArmImages(main=main_ref, backend=BACK_REF if workload.backend_image else None)
        for arm in workload.arms:
            objects += manifests.arm_objects(
                workload,
                arm,
                pools[arm.pool],
                namespace_name=config.workload_namespace,
                images=images,
                load_balancer_source_ranges=config.load_balancer_source_ranges,
                use_pull_secret=use_pull_secret,
            )
    return objects


def of_kind(objects: Iterable[dict], kind: str) -> dict[str, dict]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


VARIANTS = {
    "teleport-ab": ("teleport-ab", {}),
    "teleport-ab-squashed": (
        "teleport-ab",
        {"activeWorkloads": ["vote-squashed"], "loadBalancerSourceRanges": ["203.0.113.0/24"]},
    ),
    "storage-matrix": ("storage-matrix", {}),
    "storage-matrix-big10": ("storage-matrix", {"activeWorkloads": ["big10"]}),
    "layers": ("layers", {}),
    "storage-matrix-parked": ("storage-matrix", {"parked": True}),
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("use_pull_secret", [False, True], ids=["attach", "token"])
def test_every_object_validates_against_the_cluster_schema(variant, use_pull_secret):
    scenario, overrides = VARIANTS[variant]
    config = config_for(scenario, **overrides)
    objects = render(config, use_pull_secret=use_pull_secret)
    assert len(objects) > 2
    for obj in objects:
        validate(obj, config.cluster.kubernetes_version)


def test_the_validation_can_fail():
    # Guards the test above: a wrong type and an unknown field must both be rejected.
    config = config_for("teleport-ab")
    deployment = copy.deepcopy(of_kind(render(config), "Deployment")["vote-teleporter-front"])
    deployment["spec"]["replicas"] = "one"
    with pytest.raises(kubernetes_validate.ValidationError):
        validate(deployment, "1.33")
    deployment = copy.deepcopy(of_kind(render(config), "Deployment")["vote-teleporter-front"])
    deployment["spec"]["template"]["spec"]["containers"][0]["imagePulPolicy"] = "Always"
    with pytest.raises(kubernetes_validate.ValidationError):
        validate(deployment, "1.33")


def test_schema_version_mapping():
    shipped = kv_utils.all_versions()
    assert "1.33.0" in shipped
    assert schema_version("1.33") == "1.33.0"
    assert schema_version("1.33.4") == "1.33.0"
    assert schema_version("1.26") == "1.26.0"
    # Newer than anything shipped: the newest shipped schema (fields added later would be flagged).
    assert schema_version("1.99") == shipped[-1]
    with pytest.raises(LookupError):
        schema_version("1.20")


def test_without_a_version_objects_are_validated_against_the_newest_schema():
    newest = max(kv_utils.all_versions(), key=lambda v: tuple(int(p) for p in v.split(".")[:2]))
    assert schema_version(config_for("storage-matrix").cluster.kubernetes_version) == newest
    assert schema_version("1.33") == "1.33.0"


def test_azure_vote_arm_objects():
    config = config_for("teleport-ab", loadBalancerSourceRanges=["203.0.113.0/24", "198.51.100.7/32"])
    objects = render(config)
    deployments, services = of_kind(objects, "Deployment"), of_kind(objects, "Service")
    assert set(deployments) == {
        "vote-teleporter-front",
        "vote-teleporter-back",
        "vote-shuttle-front",
        "vote-shuttle-back",
    }
    assert set(services) == set(deployments)

    front = deployments["vote-teleporter-front"]["spec"]["template"]["spec"]["containers"][0]
    assert front["image"] == FRONT_REF and front["imagePullPolicy"] == "IfNotPresent"
    assert front["env"] == [{"name": "REDIS", "value": "vote-teleporter-back"}]
    assert front["ports"] == [{"name": "http", "containerPort": 80, "protocol": "TCP"}]
    # Ready means the page is served (which reads this arm's redis), not just that a port is open.
    assert front["readinessProbe"]["httpGet"] == {"path": "/", "port": "http"}
    assert front["readinessProbe"]["periodSeconds"] == 1
    assert front["resources"] == {
        "requests": {"cpu": "100m", "memory": "128Mi"},
        "limits": {"cpu": "250m", "memory": "256Mi"},
    }
    back = deployments["vote-shuttle-back"]["spec"]["template"]["spec"]["containers"][0]
    assert back["image"] == BACK_REF
    assert {"name": "ALLOW_EMPTY_PASSWORD", "value": "yes"} in back["env"]
    assert back["readinessProbe"]["tcpSocket"] == {"port": "redis"}
    assert deployments["vote-shuttle-back"]["spec"]["replicas"] == 1

    lb = services["vote-teleporter-front"]["spec"]
    assert lb["type"] == "LoadBalancer"
    assert lb["loadBalancerSourceRanges"] == ["203.0.113.0/24", "198.51.100.7/32"]
    # The client's own address reaches the pod, so the front's ipBlock policy can admit it.
    assert lb["externalTrafficPolicy"] == "Local"
    assert lb["ports"] == [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]
    assert lb["selector"] == {"streaming-ab/arm": "vote-teleporter", "app.kubernetes.io/name": "azure-vote-front"}
    redis = services["vote-teleporter-back"]["spec"]
    assert redis["type"] == "ClusterIP" and redis["ports"][0]["port"] == 6379
    assert "loadBalancerSourceRanges" not in redis and "externalTrafficPolicy" not in redis


@pytest.mark.parametrize("public_endpoints, expected", [(True, "Local"), (False, None)])
def test_only_a_load_balancer_front_keeps_the_client_source_address(public_endpoints, expected):
    """`Cluster` would SNAT the client to a node address, which the front's NetworkPolicy does not admit."""
    config = config_for("teleport-ab")
    workload = config.workloads[0]
    arm = workload.arms[0]
    pool = {p.name: p for p in config.pools}[arm.pool]
    images = manifests.ArmImages(main=FRONT_REF, backend=BACK_REF)
    objects = manifests.arm_objects(
        workload, arm, pool, namespace_name="ns", images=images, public_endpoints=public_endpoints
    )
    front = of_kind(objects, "Service")[manifests.front_name(arm)]
    assert front["spec"]["type"] == ("LoadBalancer" if public_endpoints else "ClusterIP")
    assert front["spec"].get("externalTrafficPolicy") == expected
    kubernetes_validate.validate(front, "1.33.0", strict=True)


def test_pods_carry_the_contract_labels_and_run_on_their_pool():
    config = config_for("storage-matrix")
    pools = {p.name: p for p in config.pools}
    arms = {a.name: a for w in config.workloads for a in w.arms}
    for name, deployment in of_kind(render(config), "Deployment").items():
        arm = arms[name]
        template = deployment["spec"]["template"]
        assert template["metadata"]["labels"] == {
            "app.kubernetes.io/name": "big",
            "app.kubernetes.io/part-of": "acr-streaming-ab",
            "streaming-ab/arm": arm.name,
            "streaming-ab/streaming": "true" if pools[arm.pool].artifact_streaming else "false",
            "streaming-ab/workload": "big",
            "streaming-ab/pair": arm.pair,
        }
        selector = deployment["spec"]["selector"]["matchLabels"]
        assert selector.items() <= template["metadata"]["labels"].items()
        spec = template["spec"]
        assert spec["nodeSelector"] == {"streaming-ab/pool": arm.pool}
        # The toleration is exactly the pool's taint (stackconfig/model.py PoolConfig.taint).
        (toleration,) = spec["tolerations"]
        assert f"{toleration['key']}={toleration['value']}:{toleration['effect']}" == pools[arm.pool].taint
        assert toleration["operator"] == "Equal"


def test_single_template_without_port_has_no_service_no_probe():
    config = config_for("storage-matrix", activeWorkloads=["big10"])
    objects = render(config, main_ref=DIGEST_REF)
    assert of_kind(objects, "Service") == {}
    deployments = of_kind(objects, "Deployment")
    assert set(deployments) == {"big10-fastart", "big10-fastnoart"}
    for deployment in deployments.values():
        assert deployment["spec"]["replicas"] == 10
        pod = deployment["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        assert container["image"] == DIGEST_REF
        assert "readinessProbe" not in container and "ports" not in container and "env" not in container
        assert "command" not in container and "args" not in container  # the image's own CMD
        assert pod["terminationGracePeriodSeconds"] == manifests.SLEEPER_GRACE_SECONDS


def test_single_template_with_port_gets_probe_and_cluster_ip_service():
    workloads = copy.deepcopy(scenarios.SCENARIOS["storage-matrix"]["workloads"])
    workloads[0]["port"] = 8080
    config = config_for("storage-matrix", workloads=workloads)
    objects = render(config)
    services = of_kind(objects, "Service")
    assert set(services) == {"big-slowart", "big-slownoart", "big-fastart", "big-fastnoart"}
    assert {s["spec"]["type"] for s in services.values()} == {"ClusterIP"}
    assert services["big-fastart"]["spec"]["ports"] == [
        {"name": "main", "port": 8080, "targetPort": "main", "protocol": "TCP"}
    ]
    container = of_kind(objects, "Deployment")["big-fastart"]["spec"]["template"]["spec"]["containers"][0]
    assert container["ports"][0]["containerPort"] == 8080
    assert container["readinessProbe"]["tcpSocket"] == {"port": "main"}


def test_token_mode_adds_the_pull_secret_everywhere():
    objects = render(config_for("teleport-ab"), use_pull_secret=True)
    (secret,) = [o for o in objects if o["kind"] == "Secret"]
    assert secret["type"] == "kubernetes.io/dockerconfigjson"
    assert secret["metadata"]["name"] == manifests.PULL_SECRET_NAME
    assert set(secret["stringData"]) == {".dockerconfigjson"}
    for deployment in of_kind(objects, "Deployment").values():
        assert deployment["spec"]["template"]["spec"]["imagePullSecrets"] == [{"name": manifests.PULL_SECRET_NAME}]
    for deployment in of_kind(render(config_for("teleport-ab")), "Deployment").values():
        assert "imagePullSecrets" not in deployment["spec"]["template"]["spec"]


def test_parked_pools_are_not_awaited():
    parked = render(config_for("teleport-ab", parked=True))
    for obj in parked:
        if obj["kind"] in ("Deployment", "Service"):
            assert obj["metadata"]["annotations"] == {manifests.SKIP_AWAIT_ANNOTATION: "true"}
    for obj in render(config_for("teleport-ab")):
        assert "annotations" not in obj["metadata"]


def test_service_names_must_be_dns_1035_labels():
    workloads = copy.deepcopy(scenarios.SCENARIOS["teleport-ab"]["workloads"])
    workloads[0]["arms"][0]["name"] = "1st-teleporter"
    # Refused at config time (the arm name rule), before the manifest builder could refuse it.
    from stackconfig.errors import ConfigError

    with pytest.raises(ConfigError, match=re.escape("'1st-teleporter' is not an arm name")):
        config_for("teleport-ab", workloads=workloads)


def test_an_arm_is_only_rendered_on_its_own_pool():
    config = config_for("teleport-ab")
    workload = config.workloads[0]
    wrong_pool = next(p for p in config.pools if p.name != workload.arms[0].pool)
    with pytest.raises(ValueError, match="runs on pool"):
        manifests.arm_objects(
            workload, workload.arms[0], wrong_pool, namespace_name="ns", images=manifests.ArmImages(FRONT_REF, BACK_REF)
        )


def test_synthetic_image_is_ready_when_its_start_up_read_is_done():
    config = config_for("storage-matrix", activeWorkloads=["big", "big-bare"])
    objects = []
    pools = {p.name: p for p in config.pools}
    for workload in config.workloads:
        images = manifests.ArmImages(main="acr.azurecr.io/largeimage/test:v1", app_port=8080, startup_read_mb=5000)
        for arm in workload.arms:
            objects += manifests.arm_objects(
                workload, arm, pools[arm.pool], namespace_name=config.workload_namespace, images=images
            )
    deployments = of_kind(objects, "Deployment")
    full = deployments["big-fastart"]["spec"]["template"]["spec"]
    bare = deployments["big-bare-fastart"]["spec"]["template"]["spec"]
    container = full["containers"][0]
    assert container["readinessProbe"]["httpGet"] == {"path": "/ready", "port": "main"}
    assert container["readinessProbe"]["periodSeconds"] == 1
    assert container["ports"] == [{"name": "main", "containerPort": 8080, "protocol": "TCP"}]
    assert container["env"] == [{"name": "STARTUP_READ_MB", "value": "5000"}]
    assert bare["containers"][0]["env"] == [{"name": "STARTUP_READ_MB", "value": "0"}]  # the blog's bare start
    assert full["terminationGracePeriodSeconds"] == manifests.SLEEPER_GRACE_SECONDS
    assert of_kind(objects, "Service") == {}  # readiness needs no Service
    for obj in objects:
        validate(obj, config.cluster.kubernetes_version)


CUSTOM = {
    "images": [{"name": "myapp", "target": "myapp:1", "existing": True}],
    "syntheticImages": [],
    "activeWorkloads": ["mine"],
}


def custom_config(container: dict[str, Any]) -> StackConfig:
    workload = {
        "name": "mine",
        "template": "custom",
        "image": "myapp",
        "container": container,
        "arms": [{"pool": "teleporter"}, {"pool": "shuttle"}],
    }
    return config_for("teleport-ab", **CUSTOM, workloads=[workload])


@pytest.mark.parametrize(
    "container",
    [
        {"port": 8080, "readinessPath": "/healthz", "env": {"A": "1"}, "args": ["--fast"]},
        {"readinessCommand": ["cat", "/tmp/ready"], "command": ["/app"], "appReadyLog": "ready"},
        {"appReadyLog": "Started .* in [0-9.]+ seconds", "resources": {"cpuLimit": "1", "memoryLimit": "1Gi"}},
    ],
    ids=["http-probe", "exec-probe", "log-only"],
)
def test_custom_workload_objects_validate_and_say_what_the_container_says(container):
    config = custom_config(container)
    objects = render(config)
    for obj in objects:
        validate(obj, config.cluster.kubernetes_version or "1.33")
    deployments = of_kind(objects, "Deployment")
    assert set(deployments) == {"mine-teleporter", "mine-shuttle"}
    assert set(of_kind(objects, "Service")) == ({"mine-teleporter", "mine-shuttle"} if "port" in container else set())
    (spec,) = deployments["mine-teleporter"]["spec"]["template"]["spec"]["containers"]
    probe = spec.get("readinessProbe", {})
    if "readinessPath" in container:
        assert probe["httpGet"] == {"path": "/healthz", "port": "main"}
    elif "readinessCommand" in container:
        assert probe["exec"] == {"command": ["cat", "/tmp/ready"]} and "ports" not in spec
    else:
        assert probe == {} and spec["resources"]["limits"] == {"cpu": "1", "memory": "1Gi"}
    annotations = deployments["mine-shuttle"]["spec"]["template"]["metadata"].get("annotations", {})
    assert annotations == (
        {manifests.ANNOTATION_APP_READY_LOG: container["appReadyLog"]} if "appReadyLog" in container else {}
    )
