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
# The squashed azure-vote front end alone: the workload whose confinement once depended on the stack's shape.
SQUASHED_ONLY = {"scenario": "teleport-ab", "activeWorkloads": ["vote-squashed"]}


def run(values: dict, stack: str, references: dict | None = None):
    values = {"location": "westus3", **values}
    config = parse_stack_config(values)
    return evaluate(lambda: program.build(config, stack), values, stack=stack, stack_references=references)


@pytest.fixture(scope="module")
def both_shapes():
    """The same workloads as an all-in-one stack and as an experiment stack on a registry stack."""
    all_in_one = run(SQUASHED_ONLY, "teleport")
    registry = run({"role": "registry"}, "registry")
    experiment = run({**SQUASHED_ONLY, "registryStack": REGISTRY_STACK}, "teleport", {REGISTRY_STACK: registry.outputs})
    return (
        pod_specs(all_in_one, all_in_one.outputs["registryLoginServer"]),
        pod_specs(experiment, registry.outputs["registryLoginServer"]),
    )


def pod_specs(evaluation, login_server: str) -> dict[str, dict]:
    """Each Deployment's pod spec by name, with the registry's login server written as REGISTRY."""
    return {
        d.name: json.loads(
            json.dumps(d.inputs["spec"]["template"]["spec"], sort_keys=True).replace(login_server, "REGISTRY")
        )
        for d in evaluation.of_type(DEPLOYMENT)
    }


def test_the_same_workloads_run_the_same_pods_in_an_all_in_one_and_an_experiment_stack(both_shapes):
    alone, shared = both_shapes
    assert alone and set(alone) == set(shared)
    for name, spec in alone.items():
        assert spec == shared[name], name


def test_a_squashed_copy_is_confined_as_its_source_in_both_shapes(both_shapes):
    for specs in both_shapes:
        fronts = {name: spec for name, spec in specs.items() if name.endswith("-front")}
        assert fronts
        for name, spec in fronts.items():
            (container,) = spec["containers"]
            assert container["securityContext"]["capabilities"] == {
                "drop": ["ALL"],
                "add": pod_security.VOTE_FRONT_CAPABILITIES,
            }, name
