"""`ABWorkloads` under Pulumi mocks: what is declared per scenario, and what waits for what.

The component is composed directly with fake `PublishedImage`s (an import and a streaming artifact per
image) and dummy pool resources, so these tests do not depend on the registry and cluster components;
`test_program_*` at the end run the same checks through `stacks.program.build`. Every Kubernetes object
as registered with the engine is validated against the cluster version's OpenAPI schema.
"""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass, field
from typing import Any

import kubernetes_validate
import pulumi
import pytest

from components.images import PublishedImage
from components.workloads import TYPE, ABWorkloads, ABWorkloadsArgs
from offline.fakes.workloads import fake_digest, fake_ip
from offline.harness import Declared, Evaluation, evaluate
from offline.kube_schema import schema_version
from stackconfig.errors import ConfigError
from stackconfig.model import StackConfig
from stacks import scenarios
from stacks.config import parse_stack_config

LOGIN = "streamabx7k2q9.azurecr.io"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
SERVICE = "kubernetes:core/v1:Service"
JOB = "kubernetes:batch/v1:Job"
ROLE = "test:index:RoleAssignment"
SECRET = "kubernetes:core/v1:Secret"
NAMESPACE = "kubernetes:core/v1:Namespace"
POOL = "test:index:Pool"
IMPORT = "test:index:Import"
ARTIFACT = "test:index:Artifact"
SECRET_SIG = "4dabf18193072939515e22adb298388d"
DOCKERCONFIG = '{"auths": {"streamabx7k2q9.azurecr.io": {"auth": "dG9rZW46cGFzcw=="}}}'


class _Dummy(pulumi.CustomResource):
    def __init__(self, type_token: str, name: str):
        super().__init__(type_token, name, {})


@dataclass
class Composed:
    config: StackConfig
    evaluation: Evaluation
    workloads_urn: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def deployments(self) -> dict[str, Declared]:
        return {d.inputs["metadata"]["name"]: d for d in self.evaluation.of_type(DEPLOYMENT)}

    def services(self) -> dict[str, Declared]:
        return {s.inputs["metadata"]["name"]: s for s in self.evaluation.of_type(SERVICE)}

    def jobs(self) -> dict[str, Declared]:
        return {j.inputs["metadata"]["name"]: j for j in self.evaluation.of_type(JOB)}

    def arm_of(self, deployment: Declared) -> str:
        return deployment.inputs["spec"]["template"]["metadata"]["labels"]["streaming-ab/arm"]


def published(name: str, repository: str, tag: str, streaming: bool) -> PublishedImage:
    imported = _Dummy(IMPORT, f"import-{name}")
    ready: list[pulumi.Resource] = [imported]
    if streaming:
        ready.append(_Dummy(ARTIFACT, f"artifact-{name}"))
    return PublishedImage(
        name=name,
        repository=repository,
        tag=tag,
        streaming=streaming,
        ref=pulumi.Output.from_input(f"{LOGIN}/{repository}:{tag}"),
        digest=pulumi.Output.from_input(fake_digest(name)),
        streaming_artifact_digest=pulumi.Output.from_input(fake_digest(f"{name}-artifact") if streaming else None),
        ready=ready,
    )


def compose(
    values: dict[str, Any], *, pull_secret: str | None = None, stack: str = "dev", acr_pull: bool = False
) -> Composed:
    config = parse_stack_config({"location": "westus3", **values})

    def program():
        pools = {p.name: _Dummy(POOL, f"pool-{p.name}") for p in config.pools}
        role = _Dummy(ROLE, "acrpull") if acr_pull else None
        images = {
            i.name: published(i.name, i.repository, i.tag, i.streaming)
            for i in (*config.images, *config.synthetic_images)
        }
        component = ABWorkloads(
            "workloads",
            ABWorkloadsArgs(
                workloads=config.workloads,
                pools=config.pools,
                namespace=config.workload_namespace,
                images=images,
                load_balancer_source_ranges=config.load_balancer_source_ranges,
                kubeconfig=pulumi.Output.secret("apiVersion: v1\nkind: Config\n"),
                pool_resources=pools,
                stack_name=stack,
                image_pull_secret_dockerconfigjson=pulumi.Output.secret(pull_secret) if pull_secret else None,
                public_endpoints=config.public_endpoints,
                pull_check_image=images[config.cluster.pull_check_image],
                pull_check_minutes=config.timeouts.pull_check_minutes,
                acr_pull=role,
            ),
        )
        return {"endpoints": component.endpoints, "timingReaders": component.timing_readers}

    evaluation = evaluate(program, stack=stack)
    composed = Composed(config, evaluation)
    composed.workloads_urn = next(r.urn for r in evaluation.resources if r.type == TYPE)
    return composed


def plain(value: Any) -> Any:
    """Registered inputs as a manifest: numbers come back from the engine as floats."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def validate_declared(composed: Composed) -> int:
    version = schema_version(composed.config.cluster.kubernetes_version)
    count = 0
    for resource in composed.evaluation.resources:
        if not resource.type.startswith("kubernetes:") or resource.type.startswith("kubernetes:index"):
            continue
        obj = plain(resource.inputs)
        if SECRET_SIG in (obj.get("stringData") or {}):
            obj["stringData"] = obj["stringData"]["value"]
        kubernetes_validate.validate(obj, version, strict=True)
        count += 1
    return count


def policy_count(deployments) -> int:
    """The namespace's default deny, and a front and a back allowance per azure-vote arm."""
    return 1 + 2 * sum(name.endswith("-back") for name in deployments)


SCENARIO_OBJECTS = {
    "teleport-ab": (
        {"scenario": "teleport-ab"},
        {"vote-teleporter-front", "vote-teleporter-back", "vote-shuttle-front", "vote-shuttle-back"},
        {
            "vote-teleporter-front": "ClusterIP",
            "vote-teleporter-back": "ClusterIP",
            "vote-shuttle-front": "ClusterIP",
            "vote-shuttle-back": "ClusterIP",
        },
    ),
    "teleport-ab-squashed": (
        {"scenario": "teleport-ab", "activeWorkloads": ["vote-squashed"]},
        {"squashed-teleporter-front", "squashed-teleporter-back", "squashed-shuttle-front", "squashed-shuttle-back"},
        {
            "squashed-teleporter-front": "ClusterIP",
            "squashed-teleporter-back": "ClusterIP",
            "squashed-shuttle-front": "ClusterIP",
            "squashed-shuttle-back": "ClusterIP",
        },
    ),
    "storage-matrix": (
        {"scenario": "storage-matrix"},
        {"big-slowart", "big-slownoart", "big-fastart", "big-fastnoart"},
        {},
    ),
    "storage-matrix-big10": (
        {"scenario": "storage-matrix", "activeWorkloads": ["big10"]},
        {"big10-fastart", "big10-fastnoart"},
        {},
    ),
    "layers": (
        {"scenario": "layers"},
        {
            f"s{size}-l{layers}-{pool}"
            for size in scenarios.LAYER_GRID_SIZES_MB
            for layers in scenarios.LAYER_GRID_LAYERS
            for pool in ("streamon", "streamoff")
        },
        {},
    ),
}


@pytest.fixture(scope="module", params=sorted(SCENARIO_OBJECTS))
def scenario(request):
    values, deployments, services = SCENARIO_OBJECTS[request.param]
    return compose(values), deployments, services


def test_deployments_and_services_per_scenario(scenario):
    composed, deployments, services = scenario
    assert set(composed.deployments()) == deployments
    assert {name: s.inputs["spec"]["type"] for name, s in composed.services().items()} == services
    assert [n.inputs["metadata"]["name"] for n in composed.evaluation.of_type(NAMESPACE)] == ["streaming-ab"]


def test_every_declared_object_validates(scenario):
    composed, deployments, services = scenario
    assert validate_declared(composed) == (
        1 + len(deployments) + len(services) + policy_count(deployments) + len(composed.jobs())
    )


def test_deployments_are_pinned_to_their_pool(scenario):
    composed, _, _ = scenario
    pools = {p.name: p for p in composed.config.pools}
    arms = {a.name: a for w in composed.config.workloads for a in w.arms}
    for deployment in composed.deployments().values():
        arm = arms[composed.arm_of(deployment)]
        pod = deployment.inputs["spec"]["template"]["spec"]
        assert pod["nodeSelector"] == {"streaming-ab/pool": arm.pool}
        assert pod["tolerations"] == [
            {"key": "streaming-ab/pool", "operator": "Equal", "value": arm.pool, "effect": "NoSchedule"}
        ]
        labels = deployment.inputs["spec"]["template"]["metadata"]["labels"]
        assert labels["streaming-ab/streaming"] == str(pools[arm.pool].artifact_streaming).lower()
        assert labels["app.kubernetes.io/part-of"] == "acr-streaming-ab"
        assert labels["streaming-ab/workload"] == arm.workload and labels["streaming-ab/pair"] == arm.pair


def test_arms_run_the_same_image_reference(scenario):
    composed, _, _ = scenario
    for workload in composed.config.workloads:
        by_component: dict[str, set[str]] = {}
        for deployment in composed.deployments().values():
            if deployment.inputs["metadata"]["labels"]["streaming-ab/workload"] != workload.name:
                continue
            (container,) = deployment.inputs["spec"]["template"]["spec"]["containers"]
            by_component.setdefault(container["name"], set()).add(container["image"])
        assert by_component and all(len(images) == 1 for images in by_component.values()), by_component
        main = next(iter(by_component.get("azure-vote-front", by_component.get(workload.name))))
        image = next(
            i for i in (*composed.config.images, *composed.config.synthetic_images) if i.name == workload.image
        )
        assert main == f"{LOGIN}/{image.target}"


def test_no_arm_waits_for_another(scenario):
    composed, _, _ = scenario
    evaluation = composed.evaluation
    objects = list(composed.deployments().values()) + list(composed.services().values())
    for first, second in itertools.permutations(objects, 2):
        assert not evaluation.depends_on(first, second), f"{first.name} waits for {second.name}"


def test_each_deployment_waits_for_all_pools_and_images_of_its_workload(scenario):
    composed, _, _ = scenario
    evaluation = composed.evaluation
    pools = {r.name: r for r in evaluation.of_type(POOL)}
    ready = {r.name: r for r in evaluation.of_type(IMPORT) + evaluation.of_type(ARTIFACT)}
    for workload in composed.config.workloads:
        wanted_pools = {f"pool-{a.pool}" for a in workload.arms}
        image_names = {workload.image, *([workload.backend_image] if workload.backend_image else [])}
        wanted_ready = {n for n in ready if n.split("-", 1)[1] in image_names}
        assert any(n.startswith("import-") for n in wanted_ready)
        members = [
            d
            for d in composed.deployments().values()
            if d.inputs["metadata"]["labels"]["streaming-ab/workload"] == workload.name
        ]
        assert len(members) >= 2
        direct = [evaluation.direct_dependencies(d) for d in members]
        # The same explicit waits for every Deployment of the workload: all arms start in one step.
        assert all(deps == direct[0] for deps in direct)
        for deployment in members:
            for name in wanted_pools:
                assert evaluation.depends_on(deployment, pools[name]), f"{deployment.name} vs {name}"
            for name in wanted_ready:
                assert evaluation.depends_on(deployment, ready[name]), f"{deployment.name} vs {name}"
            for name in set(pools) - wanted_pools:
                assert not evaluation.depends_on(deployment, pools[name]), f"{deployment.name} vs {name}"


def test_children_belong_to_the_component_and_names_are_explicit(scenario):
    composed, _, _ = scenario
    for resource in composed.evaluation.resources:
        if resource.type.startswith("kubernetes:") or resource.type == "pulumi:providers:kubernetes":
            assert resource.parent == composed.workloads_urn, resource.name
        if resource.type in (DEPLOYMENT, SERVICE):
            assert resource.inputs["metadata"]["name"] in resource.name
            assert resource.inputs["metadata"]["namespace"] == "streaming-ab"


def test_timing_readers(scenario):
    composed, _, _ = scenario
    readers = composed.evaluation.outputs["timingReaders"]
    pools = {p.name: p for p in composed.config.pools}
    arms = {a.name: a for w in composed.config.workloads for a in w.arms}
    assert set(readers) == set(arms)
    for name, reader in readers.items():
        arm = arms[name]
        workload = next(w for w in composed.config.workloads if w.name == arm.workload)
        image = next(
            i for i in (*composed.config.images, *composed.config.synthetic_images) if i.name == workload.image
        )
        assert reader == {
            "namespace": "streaming-ab",
            "selector": f"streaming-ab/arm={name}",
            "pool": arm.pool,
            "streaming": pools[arm.pool].artifact_streaming,
            "image": f"{LOGIN}/{image.target}",
            "command": f"venv/bin/python -m timing report --stack dev --namespace streaming-ab --selector streaming-ab/arm={name}",
        }


def test_front_ends_are_private_by_default_and_endpoints_say_how_to_reach_them(scenario):
    composed, _, services = scenario
    endpoints = composed.evaluation.outputs["endpoints"]
    fronts = {n for n in services if n.endswith("-front")}
    assert {f"{arm}-front" for arm in endpoints} == fronts
    for arm, how in endpoints.items():
        assert how.startswith(f"kubectl --namespace streaming-ab port-forward service/{arm}-front 8080:80")


@pytest.mark.parametrize(
    "values",
    [{"publicEndpoints": True}, {"loadBalancerSourceRanges": ["203.0.113.0/24"]}],
    ids=["publicEndpoints", "loadBalancerSourceRanges"],
)
def test_load_balancers_only_by_explicit_choice(values):
    composed = compose({"scenario": "teleport-ab", **values})
    types = {name: s.inputs["spec"]["type"] for name, s in composed.services().items()}
    assert types == {
        "vote-teleporter-front": "LoadBalancer",
        "vote-teleporter-back": "ClusterIP",
        "vote-shuttle-front": "LoadBalancer",
        "vote-shuttle-back": "ClusterIP",
    }
    for arm, url in composed.evaluation.outputs["endpoints"].items():
        assert url == f"http://{fake_ip(f'{arm}-front')}"
    ranges = {s.inputs["spec"].get("loadBalancerSourceRanges") is not None for s in composed.services().values()}
    assert ranges == ({True, False} if "loadBalancerSourceRanges" in values else {False})


def test_digest_mode_is_refused_beside_a_streaming_arm():
    workloads = copy.deepcopy(scenarios.SCENARIOS["teleport-ab"]["workloads"])
    workloads[0]["imageReference"] = "digest"
    with pytest.raises(ConfigError, match=r"workloads\[0\]\.imageReference: .*only for pulls by tag"):
        parse_stack_config({"location": "westus3", "scenario": "teleport-ab", "workloads": workloads})


def test_digest_mode_pins_both_arms_to_the_same_digest():
    # Without streaming (token pull mode: no pool streams), pinning by digest is allowed.
    workloads = copy.deepcopy(scenarios.SCENARIOS["teleport-ab"]["workloads"])
    pools = copy.deepcopy(scenarios.SCENARIOS["teleport-ab"]["pools"])
    for w in workloads:
        w["imageReference"] = "digest"
    for p in pools:
        p["artifactStreaming"] = False
    composed = compose(
        {"scenario": "teleport-ab", "workloads": workloads, "pools": pools, "cluster": {"pullMode": "token"}}
    )
    images = {}
    for _name, deployment in composed.deployments().items():
        (container,) = deployment.inputs["spec"]["template"]["spec"]["containers"]
        images.setdefault(container["name"], set()).add(container["image"])
    assert images == {
        "azure-vote-front": {f"{LOGIN}/azure-vote-front@{fake_digest('azure-vote-front')}"},
        "azure-vote-back": {f"{LOGIN}/redis@{fake_digest('redis')}"},
    }
    readers = composed.evaluation.outputs["timingReaders"]
    assert {r["image"] for r in readers.values()} == {f"{LOGIN}/azure-vote-front@{fake_digest('azure-vote-front')}"}


def test_endpoint_is_none_until_the_load_balancer_has_an_address():
    workloads = copy.deepcopy(scenarios.SCENARIOS["teleport-ab"]["workloads"])
    workloads[0]["arms"][0]["name"] = "pending-teleporter"  # the fake answers `pending` LBs without ingress
    composed = compose({"scenario": "teleport-ab", "workloads": workloads, "publicEndpoints": True})
    assert composed.evaluation.outputs["endpoints"] == {
        "pending-teleporter": None,
        "vote-shuttle": f"http://{fake_ip('vote-shuttle-front')}",
    }


def test_token_mode_pull_secret():
    composed = compose({"scenario": "teleport-ab"}, pull_secret=DOCKERCONFIG)
    evaluation = composed.evaluation
    (secret,) = evaluation.of_type(SECRET)
    assert secret.inputs["type"] == "kubernetes.io/dockerconfigjson"
    assert secret.inputs["metadata"]["name"] == "acr-pull"
    # Stays a secret all the way to the engine (state and previews show it as [secret]).
    assert secret.inputs["stringData"][SECRET_SIG]
    assert secret.inputs["stringData"]["value"] == {".dockerconfigjson": DOCKERCONFIG}
    for deployment in composed.deployments().values():
        assert deployment.inputs["spec"]["template"]["spec"]["imagePullSecrets"] == [{"name": "acr-pull"}]
        assert evaluation.depends_on(deployment, secret)
    assert validate_declared(composed) == 1 + 1 + 4 + 4 + 5 + 2  # + a pull check per pool


def test_attach_mode_has_no_pull_secret():
    composed = compose({"scenario": "teleport-ab"})
    assert composed.evaluation.of_type(SECRET) == []
    for deployment in composed.deployments().values():
        assert "imagePullSecrets" not in deployment.inputs["spec"]["template"]["spec"]


def test_source_ranges_and_stack_name_reach_the_objects():
    composed = compose({"scenario": "teleport-ab", "loadBalancerSourceRanges": ["203.0.113.0/24"]}, stack="teleport")
    for _name, service in composed.services().items():
        if service.inputs["spec"]["type"] == "LoadBalancer":
            assert service.inputs["spec"]["loadBalancerSourceRanges"] == ["203.0.113.0/24"]
        else:
            assert "loadBalancerSourceRanges" not in service.inputs["spec"]
    readers = composed.evaluation.outputs["timingReaders"]
    assert all(r["command"].startswith("venv/bin/python -m timing report --stack teleport ") for r in readers.values())


def test_wiring_mistakes_are_reported_before_anything_is_declared():
    config = parse_stack_config({"location": "westus3", "scenario": "teleport-ab"})

    def program():
        ABWorkloads(
            "workloads",
            ABWorkloadsArgs(
                workloads=config.workloads,
                pools=config.pools,
                namespace="streaming-ab",
                images={},
                load_balancer_source_ranges=(),
                kubeconfig="kc",
                pool_resources={},
                stack_name="dev",
                pull_check_image=published("hello-world", "library/hello-world", "latest", False),
                pull_check_minutes=20,
            ),
        )

    with pytest.raises(Exception, match="image 'azure-vote-front' was not published.*no pool resource"):
        evaluate(program)


# --- bad configuration, through stacks.config.parse_stack_config ---------------------------------
def config_problems(values: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        parse_stack_config({"location": "westus3", **values})
    return raised.value.problems


def teleport_workloads() -> list[dict[str, Any]]:
    return copy.deepcopy(scenarios.SCENARIOS["teleport-ab"]["workloads"])


def test_bad_config_unknown_pool():
    workloads = teleport_workloads()
    workloads[0]["arms"][1]["pool"] = "warpdrive"
    problems = config_problems({"scenario": "teleport-ab", "workloads": workloads})
    assert any(
        p.startswith("acr-streaming-ab:workloads[0].arms[1].pool: 'warpdrive' is not a configured pool")
        for p in problems
    ), problems


def test_bad_config_unknown_active_workload():
    problems = config_problems({"scenario": "teleport-ab", "activeWorkloads": ["vote-teleported"]})
    assert any(p.startswith("acr-streaming-ab:activeWorkloads[0]:") for p in problems), problems


def test_bad_config_arm_without_a_partner():
    workloads = teleport_workloads()
    workloads[0]["arms"] = [workloads[0]["arms"][0]]  # the streaming arm alone
    problems = config_problems({"scenario": "teleport-ab", "workloads": workloads})
    assert any(p.startswith("acr-streaming-ab:workloads[0].arms:") and "no standard" in p for p in problems), problems


def test_bad_config_pair_split_across_values():
    workloads = teleport_workloads()
    workloads[0]["arms"][1]["pair"] = "other"  # each pair now has one side only
    problems = config_problems({"scenario": "teleport-ab", "workloads": workloads})
    assert sum(p.startswith("acr-streaming-ab:workloads[0].arms:") for p in problems) == 2, problems


@pytest.mark.parametrize("replicas", [0, -1])
def test_bad_config_replicas(replicas):
    workloads = teleport_workloads()
    workloads[0]["replicas"] = replicas
    problems = config_problems({"scenario": "teleport-ab", "workloads": workloads})
    assert any(p.startswith("acr-streaming-ab:workloads[0].replicas:") for p in problems), problems


@pytest.mark.parametrize("port", [0, 65536, 70000])
def test_bad_config_service_port(port):
    workloads = teleport_workloads()
    workloads[0]["port"] = port
    problems = config_problems({"scenario": "teleport-ab", "workloads": workloads})
    assert any(p.startswith("acr-streaming-ab:workloads[0].port:") for p in problems), problems


# --- the same contracts through the whole program (stacks.program.build) -------------------------
EXPERIMENT_POOL = "pulumi-python:dynamic/aks:ExperimentPool"
IMPORTED = "pulumi-python:dynamic/acr:ImportedImage"
BUILT = "pulumi-python:dynamic/acr:AcrBuild"
STREAMING = "pulumi-python:dynamic/acr:StreamingArtifact"


@pytest.fixture(scope="module", params=sorted(SCENARIO_OBJECTS))
def whole_program(request):
    from stacks import program

    values, deployments, services = SCENARIO_OBJECTS[request.param]
    config = parse_stack_config({"location": "westus3", **values})
    evaluation = evaluate(lambda: program.build(config, "dev"), {"location": "westus3", **values})
    return Composed(config, evaluation), deployments, services


def test_program_declares_the_scenario_objects(whole_program):
    composed, deployments, services = whole_program
    assert set(composed.deployments()) == deployments
    assert {name: s.inputs["spec"]["type"] for name, s in composed.services().items()} == services
    assert validate_declared(composed) == (
        1 + len(deployments) + len(services) + policy_count(deployments) + len(composed.jobs())
    )


def test_program_arms_are_independent_and_wait_for_pools_and_images(whole_program):
    composed, _, _ = whole_program
    evaluation = composed.evaluation
    objects = list(composed.deployments().values()) + list(composed.services().values())
    for first, second in itertools.permutations(objects, 2):
        assert not evaluation.depends_on(first, second), f"{first.name} waits for {second.name}"
    pools = {p.inputs["poolName"]: p for p in evaluation.of_type(EXPERIMENT_POOL)}
    producers = {r.inputs["target"]: r for r in evaluation.of_type(IMPORTED) + evaluation.of_type(BUILT)}
    # Keyed by what they convert: two images may share a repository (azure-vote-front:v1 and :squashed).
    artifacts = {(r.inputs["repository"], r.inputs["digest"]): r for r in evaluation.of_type(STREAMING)}
    images = {i.name: i for i in (*composed.config.images, *composed.config.synthetic_images)}
    for workload in composed.config.workloads:
        needed = [images[workload.image]] + ([images[workload.backend_image]] if workload.backend_image else [])
        for deployment in composed.deployments().values():
            if deployment.inputs["metadata"]["labels"]["streaming-ab/workload"] != workload.name:
                continue
            for arm in workload.arms:
                assert evaluation.depends_on(deployment, pools[arm.pool]), (deployment.name, arm.pool)
            for image in needed:
                assert evaluation.depends_on(deployment, producers[image.target]), (deployment.name, image.target)
                if image.streaming:
                    artifact = artifacts[(image.repository, producers[image.target].state["digest"])]
                    assert evaluation.depends_on(deployment, artifact), (deployment.name, image.name)


def test_program_outputs_endpoints_and_timing_readers(whole_program):
    composed, _, services = whole_program
    outputs = composed.evaluation.outputs
    login = outputs["registryLoginServer"]
    arms = {a.name: a for w in composed.config.workloads for a in w.arms}
    assert set(outputs["timingReaders"]) == set(arms)
    images = {i.name: i for i in (*composed.config.images, *composed.config.synthetic_images)}
    for name, reader in outputs["timingReaders"].items():
        workload = next(w for w in composed.config.workloads if w.name == arms[name].workload)
        assert reader["image"] == f"{login}/{images[workload.image].target}"
        assert reader["selector"] == f"streaming-ab/arm={name}" and reader["pool"] == arms[name].pool
        assert reader["command"].endswith(f"--stack dev --namespace streaming-ab --selector streaming-ab/arm={name}")
    assert {f"{arm}-front" for arm in outputs["endpoints"]} == {n for n in services if n.endswith("-front")}
    assert all(how.startswith("kubectl --namespace streaming-ab port-forward") for how in outputs["endpoints"].values())


def _program_objects(values):
    from stacks import program

    config = parse_stack_config({"location": "westus3", **values})
    evaluation = evaluate(lambda: program.build(config, "dev"), {"location": "westus3", **values})
    return Composed(config, evaluation)


def test_pods_are_confined_per_image_and_the_namespace_enforces_baseline():
    from components import pod_security

    vote = _program_objects({"scenario": "teleport-ab"})
    matrix = _program_objects({"scenario": "storage-matrix"})
    for composed in (vote, matrix):
        (namespace,) = composed.evaluation.of_type("kubernetes:core/v1:Namespace")
        labels = namespace.inputs["metadata"]["labels"]
        assert labels["pod-security.kubernetes.io/enforce"] == "baseline"
        assert labels["pod-security.kubernetes.io/warn"] == "restricted"
        for deployment in composed.deployments().values():
            pod = deployment.inputs["spec"]["template"]["spec"]
            assert pod["automountServiceAccountToken"] is False
            assert pod["securityContext"] == {"seccompProfile": {"type": "RuntimeDefault"}}
            for container in pod["containers"]:
                assert container["securityContext"]["allowPrivilegeEscalation"] is False
    contexts = {
        name: d.inputs["spec"]["template"]["spec"]["containers"][0]["securityContext"]
        for name, d in (*vote.deployments().items(), *matrix.deployments().items())
    }
    # The project's own image: non-root, nothing kept (restricted).
    assert contexts["big-fastart"] == {
        "allowPrivilegeEscalation": False,
        "runAsNonRoot": True,
        "runAsUser": pod_security.OWN_USER,
        "runAsGroup": pod_security.OWN_USER,
        "capabilities": {"drop": ["ALL"]},
    }
    # bitnami redis declares USER 1001: non-root, nothing kept.
    assert contexts["vote-teleporter-back"]["runAsNonRoot"] is True
    assert contexts["vote-teleporter-back"]["capabilities"] == {"drop": ["ALL"]}
    # The vote front's nginx/uwsgi under supervisord keep only what they use (see pod_security.py).
    front = contexts["vote-teleporter-front"]["capabilities"]
    assert front["drop"] == ["ALL"] and "NET_RAW" not in front["add"]
    assert set(front["add"]) == {"CHOWN", "DAC_OVERRIDE", "FOWNER", "KILL", "NET_BIND_SERVICE", "SETGID", "SETUID"}
    # Both arms of a pair are confined alike: nothing but the pool tells them apart.
    assert contexts["vote-teleporter-front"] == contexts["vote-shuttle-front"]


def test_an_unknown_image_keeps_the_runtime_defaults():
    from components.pod_security import UNKNOWN, container_security_context, profile_for_source

    assert profile_for_source("docker.io/library/nginx:1.27") == UNKNOWN
    assert container_security_context(UNKNOWN) == {"allowPrivilegeEscalation": False}
    assert profile_for_source("mcr.microsoft.com/azuredocs/azure-vote-front:v1") == "azure-vote-front"
    assert profile_for_source("mcr.microsoft.com/oss/bitnami/redis@sha256:" + "a" * 64) == "non-root"


# --- the pull check: no first rollout before the kubelet can pull --------------------------------
def test_every_unparked_pool_gets_a_pull_check_job_pinned_to_it(scenario):
    composed, _, _ = scenario
    jobs = composed.jobs()
    unparked = [p for p in composed.config.pools if p.count > 0]
    assert set(jobs) == {f"pull-check-{p.name}" for p in unparked}
    check_image = f"{LOGIN}/library/hello-world@{fake_digest('hello-world')}"
    measured = {
        c["image"] for d in composed.deployments().values() for c in d.inputs["spec"]["template"]["spec"]["containers"]
    }
    for pool in unparked:
        job = jobs[f"pull-check-{pool.name}"]
        assert job.inputs["metadata"]["labels"] == {
            "app.kubernetes.io/part-of": "acr-streaming-ab",
            "streaming-ab/check": "pull",
            "streaming-ab/pool": pool.name,
        }
        spec = job.inputs["spec"]
        pod = spec["template"]["spec"]
        assert pod["nodeSelector"] == {"streaming-ab/pool": pool.name}
        assert pod["tolerations"] == [
            {"key": "streaming-ab/pool", "operator": "Equal", "value": pool.name, "effect": "NoSchedule"}
        ]
        (container,) = pod["containers"]
        # The check image by digest, pulled from the registry every time, and never a measured image.
        assert container["image"] == check_image and check_image not in measured
        assert container["imagePullPolicy"] == "Always"
        assert container["securityContext"]["runAsNonRoot"] is True
        assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
        # Bounded twice: Kubernetes fails the Job at its deadline, Pulumi gives up two minutes later.
        assert spec["activeDeadlineSeconds"] == composed.config.timeouts.pull_check_minutes * 60 == 1200
        assert spec["backoffLimit"] == 2 and pod["restartPolicy"] == "Never"
        assert job.custom_timeouts == {"create": "22m", "update": "22m"}
        assert job.inputs["metadata"]["annotations"] == {"pulumi.com/replaceUnready": "true"}


def test_deployments_wait_for_the_pull_checks_of_their_pools_and_for_acr_pull():
    composed = compose({"scenario": "storage-matrix"}, acr_pull=True)
    evaluation = composed.evaluation
    jobs = composed.jobs()
    (role,) = evaluation.of_type(ROLE)
    pools = {r.name: r for r in evaluation.of_type(POOL)}
    (hello,) = [r for r in evaluation.of_type(IMPORT) if r.name == "import-hello-world"]
    for pool_name, job in ((n.removeprefix("pull-check-"), j) for n, j in jobs.items()):
        assert evaluation.depends_on(job, role) and evaluation.depends_on(job, hello)
        assert evaluation.depends_on(job, pools[f"pool-{pool_name}"])
        assert not any(evaluation.depends_on(job, p) for n, p in pools.items() if n != f"pool-{pool_name}")
    arms = {a.name: a for w in composed.config.workloads for a in w.arms}
    workload_pools = {w.name: {a.pool for a in w.arms} for w in composed.config.workloads}
    for deployment in composed.deployments().values():
        assert evaluation.depends_on(deployment, role)
        own = workload_pools[arms[composed.arm_of(deployment)].workload]
        for name, job in jobs.items():
            assert evaluation.depends_on(deployment, job) == (name.removeprefix("pull-check-") in own), name
    # The checks wait for nothing of the workloads: the first pull on a node is the check's own.
    for job in jobs.values():
        assert not any(evaluation.depends_on(job, d) for d in composed.deployments().values())


def test_a_parked_pool_gets_no_pull_check_until_it_is_unparked():
    parked = compose({"scenario": "teleport-ab", "parked": True})
    assert parked.jobs() == {}
    pools = copy.deepcopy(scenarios.SCENARIOS["storage-matrix"]["pools"])
    for pool in pools:
        pool["count"] = 0 if pool["name"].startswith("slow") else 1
    fast = compose({"scenario": "storage-matrix", "pools": pools, "activeWorkloads": ["big10"]})
    assert set(fast.jobs()) == {"pull-check-fastart", "pull-check-fastnoart"}
    assert validate_declared(fast) == 1 + 2 + 2 + policy_count(fast.deployments())


def test_token_mode_pull_check_uses_the_pull_secret():
    composed = compose({"scenario": "teleport-ab"}, pull_secret=DOCKERCONFIG)
    (secret,) = composed.evaluation.of_type(SECRET)
    for job in composed.jobs().values():
        assert job.inputs["spec"]["template"]["spec"]["imagePullSecrets"] == [{"name": "acr-pull"}]
        assert composed.evaluation.depends_on(job, secret)


NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"


def test_network_policies_only_where_the_cluster_enforces_them():
    """cluster.networkPolicy none: no engine, so no NetworkPolicy claims a confinement nobody enforces."""
    enforced = _program_objects({"scenario": "teleport-ab"})
    plain = _program_objects({"scenario": "teleport-ab", "cluster": {"networkPolicy": "none"}})
    names = {p.inputs["metadata"]["name"] for p in enforced.evaluation.of_type(NETWORK_POLICY)}
    assert len(names) == policy_count(enforced.deployments()) and "default-deny" in names
    assert plain.evaluation.of_type(NETWORK_POLICY) == []
    assert set(plain.deployments()) == set(enforced.deployments())
    (cluster,) = plain.evaluation.of_type("azure-native:containerservice:ManagedCluster")
    assert "networkProfile" not in cluster.inputs
