"""Stack roles under mocks: the shared registry stack, experiment stacks on it, and the default stacks."""

from __future__ import annotations

import pytest

from contract import PROJECT
from offline.fakes.azure_base import SUBSCRIPTION, TENANT
from offline.harness import evaluate
from stackconfig.errors import ConfigError
from stacks import program
from stacks.config import parse_stack_config

REGISTRY_STACK = "organization/acr-streaming-ab/registry"
REGISTRY = "azure-native:containerregistry:Registry"
REGISTRY_SIDE = (
    REGISTRY,
    "pulumi-python:dynamic/acr:ImportedImage",
    "pulumi-python:dynamic/acr:AcrBuild",
    "pulumi-python:dynamic/acr:StreamingArtifact",
    "pulumi-python:dynamic/acr:RepositoryStreaming",
)
CLUSTER_SIDE = (
    "azure-native:containerservice:ManagedCluster",
    "pulumi-python:dynamic/aks:ExperimentPool",
    "kubernetes:apps/v1:Deployment",
)
REGISTRY_EXPORTS = {"registryLoginServer", "registryId", "registryName", "resourceGroupName", "images"}


def run(values: dict, stack: str, references: dict | None = None):
    values = {"location": "westus3", **values}
    config = parse_stack_config(values)
    return config, evaluate(lambda: program.build(config, stack), values, stack=stack, stack_references=references)


@pytest.fixture(scope="module")
def registry_stack():
    return run({"role": "registry"}, "registry")


def test_the_registry_stack_declares_the_registry_side_only_and_protects_the_registry(registry_stack):
    config, evaluation = registry_stack
    assert config.scenario == "all-images" and config.pools == () and config.workloads == ()
    for kind in CLUSTER_SIDE:
        assert evaluation.of_type(kind) == [], kind
    assert set(evaluation.outputs) == REGISTRY_EXPORTS
    # Every scenario's images, so every experiment stack finds what its workloads use.
    names = ("azure-vote-front", "redis", "alpine", "busybox", "hello-world", "largeimage", "s1000-l1", "s3000-l28")
    for name in names:
        assert name in evaluation.outputs["images"], name
    (registry,) = evaluation.of_type(REGISTRY)
    assert registry.protect is True


def test_an_experiment_stack_takes_the_registry_from_the_reference(registry_stack):
    _, registry_eval = registry_stack
    references = {REGISTRY_STACK: registry_eval.outputs}
    config, evaluation = run({"scenario": "teleport-ab", "registryStack": REGISTRY_STACK}, "dev", references)
    for kind in REGISTRY_SIDE:
        assert evaluation.of_type(kind) == [], kind
    (grant,) = evaluation.of_type("azure-native:authorization:RoleAssignment")
    assert grant.inputs["scope"] == registry_eval.outputs["registryId"]
    login = registry_eval.outputs["registryLoginServer"]
    images = {
        c["image"]
        for d in evaluation.of_type("kubernetes:apps/v1:Deployment")
        for c in d.inputs["spec"]["template"]["spec"]["containers"]
    }
    assert images == {f"{login}/azure-vote-front:v1", f"{login}/redis:6.0.8"}
    # The pull check runs the registry stack's hello-world, by the digest that stack recorded.
    hello = registry_eval.outputs["images"]["hello-world"]
    checks = {
        c["image"]
        for j in evaluation.of_type("kubernetes:batch/v1:Job")
        for c in j.inputs["spec"]["template"]["spec"]["containers"]
    }
    assert checks == {f"{login}/library/hello-world@{hello['digest']}"}
    # Its own resource group: a teardown takes the cluster and nothing of the registry's.
    (group,) = evaluation.of_type("azure-native:resources:ResourceGroup")
    assert group.inputs["resourceGroupName"] == "teleportab-dev-rg" or group.inputs["resourceGroupName"].endswith(
        "-dev-rg"
    )
    assert evaluation.outputs["registryStack"] == REGISTRY_STACK
    assert evaluation.outputs["images"]["azure-vote-front"]["ref"] == f"{login}/azure-vote-front:v1"


def test_every_dynamic_resource_of_either_stack_acts_on_the_one_client_config(registry_stack):
    """`stacks/program.py` reads the client config once; every dynamic resource of both roles carries it."""
    _, registry_eval = registry_stack
    _, experiment_eval = run(
        {"scenario": "teleport-ab", "registryStack": REGISTRY_STACK}, "dev", {REGISTRY_STACK: registry_eval.outputs}
    )
    for evaluation, expected in ((registry_eval, REGISTRY_SIDE[1:4]), (experiment_eval, CLUSTER_SIDE[1:2])):
        dynamic = [r for r in evaluation.resources if r.type.startswith("pulumi-python:dynamic/")]
        assert {r.type for r in dynamic} >= set(expected)
        for resource in dynamic:
            assert (resource.inputs["subscriptionId"], resource.inputs["tenantId"]) == (SUBSCRIPTION, TENANT), (
                resource.name
            )


def test_a_name_the_registry_stack_does_not_export_is_a_clear_error(registry_stack):
    _, registry_eval = registry_stack
    outputs = dict(registry_eval.outputs)
    outputs["images"] = {k: v for k, v in outputs["images"].items() if k != "redis"}
    with pytest.raises(Exception, match=rf"{PROJECT}:registryStack: {REGISTRY_STACK} exports no image 'redis'"):
        run({"scenario": "teleport-ab", "registryStack": REGISTRY_STACK}, "dev", {REGISTRY_STACK: outputs})


def test_the_default_stacks_stay_all_in_one():
    config, evaluation = run({"scenario": "teleport-ab"}, "teleport")
    assert evaluation.of_type(REGISTRY) and evaluation.of_type("azure-native:containerservice:ManagedCluster")
    (registry,) = evaluation.of_type(REGISTRY)
    # Protected here too: an edit that would replace it stops at the engine (README task 5 lifts it).
    assert registry.protect is True
    assert set(evaluation.outputs) >= REGISTRY_EXPORTS


@pytest.mark.parametrize(
    "values, key, words",
    [
        ({"role": "registry", "registryStack": REGISTRY_STACK}, "registryStack", "not both"),
        ({"registryStack": REGISTRY_STACK, "images": []}, "images", "would be ignored"),
        ({"registryStack": REGISTRY_STACK, "registry": {"sku": "Premium"}}, "registry", "would be ignored"),
        (
            {"role": "registry", "pools": [{"name": "a", "vmSize": "Standard_D4ds_v5", "artifactStreaming": True}]},
            "pools",
            "declares no cluster",
        ),
        ({"registryStack": "dev"}, "registryStack", "not a stack reference"),
    ],
)
def test_role_mistakes_name_the_keys(values, key, words):
    with pytest.raises(ConfigError) as raised:
        parse_stack_config({"location": "westus3", **values})
    assert any(p.startswith(f"{PROJECT}:{key}:") and words in p for p in raised.value.problems), raised.value.problems


def test_the_critical_path_benchmark_models_an_experiment_up_after_a_teardown():
    from benchmarks import deploy_critical_path as bench

    _, registry = bench.evaluate_stack("registry")
    config, experiment = bench.evaluate_stack(
        "dev", {"registryStack": bench.REGISTRY_REFERENCE}, {bench.REGISTRY_REFERENCE: registry.outputs}
    )
    nodes = bench.graph_of(experiment, config)
    assert not {n.type for n in nodes.values()} & set(REGISTRY_SIDE)  # nothing of the registry is redone
    up = bench.analyse(nodes)["critical_path_seconds"]
    rows = {row["reset"].split()[0]: row for row in bench.reset_comparison("dev")}
    assert set(rows) == {"purge", "cacheGeneration", "teardown:"}
    assert rows["teardown:"]["seconds"] == bench.DESTROY_SECONDS + up
    pools = [p for p in config.pools if p.count > 0]
    assert rows["cacheGeneration"]["seconds"] == len(pools) * (bench.POOL_SCALE_DOWN_SECONDS + 240)
