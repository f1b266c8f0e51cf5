"""The whole program (`__main__.py`) evaluated under mocks with each stack file.

What must hold for every stack: the exports named in docs/ARCHITECTURE.md exist (kubeconfig secret),
registry work and the cluster do not wait for each other, each streaming artifact waits for its
image, experiment pools form one chain, and workloads wait for their pools and images.
"""

from __future__ import annotations

import runpy
from pathlib import Path

import pulumi
import pytest

from offline.harness import evaluate
from offline.stack_files import stack_values

ROOT = Path(__file__).resolve().parents[2]
ALL_STACK_FILES = sorted(ROOT.glob("Pulumi.*.yaml"))
REGISTRY_FILE = ROOT / "Pulumi.registry.yaml"
# The all-in-one stacks (every stack file but the shared registry's).
STACK_FILES = [f for f in ALL_STACK_FILES if f != REGISTRY_FILE]
EXPORTS = {
    "registryLoginServer",
    "registryId",
    "registryName",
    "clusterName",
    "clusterId",
    "resourceGroupName",
    "kubeconfig",
    "images",
    "pools",
    "endpoints",
    "timingReaders",
    "kubeletPrincipalId",
    "acrPullCommand",
}

IMPORT = "pulumi-python:dynamic/acr:ImportedImage"
STREAMING = "pulumi-python:dynamic/acr:StreamingArtifact"
BUILD = "pulumi-python:dynamic/acr:AcrBuild"
POOL = "pulumi-python:dynamic/aks:ExperimentPool"
CLUSTER = "azure-native:containerservice:ManagedCluster"
REGISTRY = "azure-native:containerregistry:Registry"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
JOB = "kubernetes:batch/v1:Job"
ROLE = "azure-native:authorization:RoleAssignment"


def run_main(monkeypatch) -> dict:
    exports: dict = {}
    monkeypatch.setattr(pulumi, "export", lambda name, value: exports.__setitem__(name, value))
    monkeypatch.chdir(ROOT)
    runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__")
    return exports


@pytest.fixture(params=STACK_FILES, ids=lambda p: p.stem.split(".", 1)[1])
def evaluation(request, monkeypatch):
    stack = request.param.stem.split(".", 1)[1]
    return evaluate(lambda: run_main(monkeypatch), stack_values(request.param), stack=stack)


def test_exports(evaluation):
    assert set(evaluation.outputs) >= EXPORTS
    assert "kubeconfig" in evaluation.secret_outputs
    assert evaluation.outputs["registryLoginServer"].endswith(".azurecr.io")
    images = evaluation.outputs["images"]
    assert images and all({"ref", "digest", "streaming"} <= set(v) for v in images.values())
    readers = evaluation.outputs["timingReaders"]
    assert readers
    for arm, reader in readers.items():
        assert reader["selector"] == f"streaming-ab/arm={arm}"
        assert reader["command"].startswith("venv/bin/python -m timing report --stack ")


def test_registry_and_cluster_do_not_wait_for_each_other(evaluation):
    cluster = evaluation.of_type(CLUSTER)[0]
    registry_work = evaluation.of_type(IMPORT) + evaluation.of_type(STREAMING) + evaluation.of_type(BUILD)
    registry_work += evaluation.of_type(REGISTRY)
    assert registry_work
    for work in registry_work:
        assert not evaluation.depends_on(cluster, work), f"the cluster waits for {work.name}"
        assert not evaluation.depends_on(work, cluster), f"{work.name} waits for the cluster"


def test_streaming_artifacts_wait_for_their_images(evaluation):
    producers = evaluation.of_type(IMPORT) + evaluation.of_type(BUILD)
    for artifact in evaluation.of_type(STREAMING):
        assert any(evaluation.depends_on(artifact, p) for p in producers), artifact.name


def test_experiment_pools_form_one_chain(evaluation):
    pools = evaluation.of_type(POOL)
    assert len(pools) >= 2
    # A chain: every pair is ordered one way or the other, never both, never neither.
    for i, first in enumerate(pools):
        for second in pools[i + 1 :]:
            assert evaluation.depends_on(first, second) != evaluation.depends_on(second, first)


def test_deployments_wait_for_pools_and_images(evaluation):
    deployments = evaluation.of_type(DEPLOYMENT)
    assert deployments
    pools = {p.inputs.get("poolName", p.name): p for p in evaluation.of_type(POOL)}
    for deployment in deployments:
        selector = deployment.inputs["spec"]["template"]["spec"]["nodeSelector"]["streaming-ab/pool"]
        assert evaluation.depends_on(deployment, pools[selector]), deployment.name
        assert any(
            evaluation.depends_on(deployment, a) for a in evaluation.of_type(STREAMING)
        ) or not evaluation.of_type(STREAMING)


def test_the_first_rollout_waits_for_acr_pull_and_the_pull_check_of_every_pool(evaluation):
    (role,) = evaluation.of_type(ROLE)
    jobs = {j.inputs["metadata"]["labels"]["streaming-ab/pool"]: j for j in evaluation.of_type(JOB)}
    assert set(jobs) == {p.inputs["poolName"] for p in evaluation.of_type(POOL) if p.inputs["properties"]["count"]}
    for job in jobs.values():
        assert evaluation.depends_on(job, role)
    for deployment in evaluation.of_type(DEPLOYMENT):
        pool = deployment.inputs["spec"]["template"]["spec"]["nodeSelector"]["streaming-ab/pool"]
        assert evaluation.depends_on(deployment, role) and evaluation.depends_on(deployment, jobs[pool])
    assert evaluation.outputs["acrPullCommand"] is None
    assert evaluation.outputs["kubeletPrincipalId"] == role.inputs["principalId"]


@pytest.mark.parametrize("stack_file", STACK_FILES, ids=lambda p: p.stem.split(".", 1)[1])
def test_external_acr_pull_leaves_the_assignment_to_an_administrator(stack_file, monkeypatch):
    """issue 20 §4: no role assignment declared; the command to run is exported; the pull check is the wait."""
    values = {**stack_values(stack_file), "cluster": {"acrPull": "external"}}
    evaluation = evaluate(lambda: run_main(monkeypatch), values, stack="dev")
    assert evaluation.of_type(ROLE) == []
    principal = evaluation.outputs["kubeletPrincipalId"]
    assert evaluation.outputs["acrPullCommand"] == (
        f"az role assignment create --assignee-object-id {principal} --assignee-principal-type ServicePrincipal "
        f"--role AcrPull --scope {evaluation.outputs['registryId']}"
    )
    jobs = evaluation.of_type(JOB)
    assert jobs
    for deployment in evaluation.of_type(DEPLOYMENT):
        pool = deployment.inputs["spec"]["template"]["spec"]["nodeSelector"]["streaming-ab/pool"]
        (check,) = [j for j in jobs if j.inputs["metadata"]["labels"]["streaming-ab/pool"] == pool]
        assert evaluation.depends_on(deployment, check)


def test_the_registry_stack_file_runs_through_main(monkeypatch):
    evaluation = evaluate(lambda: run_main(monkeypatch), stack_values(REGISTRY_FILE), stack="registry")
    assert set(evaluation.outputs) == {
        "registryLoginServer",
        "registryId",
        "registryName",
        "resourceGroupName",
        "images",
    }
    assert evaluation.of_type(CLUSTER) == [] and evaluation.of_type(DEPLOYMENT) == []
    assert [r.protect for r in evaluation.of_type(REGISTRY)] == [True]


@pytest.mark.parametrize("stack_file", STACK_FILES, ids=lambda p: p.stem.split(".", 1)[1])
def test_each_default_stack_turns_into_an_experiment_stack_with_one_key(stack_file, monkeypatch):
    """docs/operations.md: add `registryStack` to the stack file; nothing else changes."""
    registry = evaluate(lambda: run_main(monkeypatch), stack_values(REGISTRY_FILE), stack="registry")
    stack = stack_file.stem.split(".", 1)[1]
    reference = "organization/acr-streaming-ab/registry"
    values = {**stack_values(stack_file), "registryStack": reference}
    experiment = evaluate(
        lambda: run_main(monkeypatch), values, stack=stack, stack_references={reference: registry.outputs}
    )
    assert experiment.of_type(REGISTRY) == [] and experiment.of_type(IMPORT) == [] and experiment.of_type(BUILD) == []
    assert experiment.of_type(CLUSTER) and experiment.of_type(DEPLOYMENT)
    login = registry.outputs["registryLoginServer"]
    for deployment in experiment.of_type(DEPLOYMENT):
        for container in deployment.inputs["spec"]["template"]["spec"]["containers"]:
            assert container["image"].startswith(login + "/"), container["image"]
