"""One rule for an image's traits: an all-in-one stack and an experiment stack run identical pods."""

from __future__ import annotations

import json

import pytest

from components import pod_security
from offline.harness import evaluate
from stacks import program
from stacks.config import parse_stack_config

REGISTRY_STACK = "organization/acr-streaming-ab/registry"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"


def run(values: dict, stack: str, references: dict | None = None):
    values = {"location": "westus3", **values}
    config = parse_stack_config(values)
    return evaluate(lambda: program.build(config, stack), values, stack=stack, stack_references=references)


def pod_specs(evaluation, login_server: str) -> dict[str, str]:
    """Each Deployment's pod spec by name, with the registry's login server written as REGISTRY."""
    return {
        d.name: json.dumps(d.inputs["spec"]["template"]["spec"], sort_keys=True).replace(login_server, "REGISTRY")
        for d in evaluation.of_type(DEPLOYMENT)
    }


@pytest.mark.parametrize("active", [["vote-squashed"], None])
def test_the_same_workloads_run_the_same_pods_in_an_all_in_one_and_an_experiment_stack(active):
    values = {"scenario": "teleport-ab", **({"activeWorkloads": active} if active else {})}
    all_in_one = run(values, "teleport")
    registry = run({"role": "registry"}, "registry")
    experiment = run({**values, "registryStack": REGISTRY_STACK}, "teleport", {REGISTRY_STACK: registry.outputs})

    alone = pod_specs(all_in_one, all_in_one.outputs["registryLoginServer"])
    shared = pod_specs(experiment, registry.outputs["registryLoginServer"])
    assert alone and set(alone) == set(shared)
    for name, spec in alone.items():
        assert json.loads(spec) == json.loads(shared[name]), name


def test_a_squashed_copy_is_confined_as_its_source_in_both_shapes():
    values = {"scenario": "teleport-ab", "activeWorkloads": ["vote-squashed"]}
    registry = run({"role": "registry"}, "registry")
    for evaluation in (
        run(values, "teleport"),
        run({**values, "registryStack": REGISTRY_STACK}, "teleport", {REGISTRY_STACK: registry.outputs}),
    ):
        fronts = [d for d in evaluation.of_type(DEPLOYMENT) if d.name.endswith("-front")]
        assert fronts
        for deployment in fronts:
            (container,) = deployment.inputs["spec"]["template"]["spec"]["containers"]
            assert container["securityContext"]["capabilities"] == {
                "drop": ["ALL"],
                "add": pod_security.VOTE_FRONT_CAPABILITIES,
            }, deployment.name
