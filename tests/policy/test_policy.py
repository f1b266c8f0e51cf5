"""The policy pack (policy/) on resource properties recorded from the real program under mocks.

Each policy is shown to pass on what the program declares for every stack file, and to fire on a copy
of those properties mutated the way a regression would (a role other than AcrPull, an Arm64 streaming
pool, an untainted system pool...). Resource policies see resource inputs (`Declared.inputs`), stack
policies see outputs (`Declared.state`: inputs plus the fakes' computed values), as in the engine.
The pack is also started as the engine starts it and asked over gRPC, so the wiring in
policy/__main__.py is covered too.
"""

from __future__ import annotations

import copy
import importlib.util
import select
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

import contract
from offline.fakes.azure_base import SUBSCRIPTION
from offline.harness import PROJECT, Declared, Evaluation, evaluate
from offline.stack_files import stack_files, stack_values
from stackconfig.vm_sizes import parse_vm_size
from stacks import config as stack_config
from stacks import program

ROOT = Path(__file__).resolve().parents[2]
POLICY_DIR = ROOT / "policy"
STACK_FILES = stack_files()  # the stacks with a cluster; the registry stack has its own test
CONTRIBUTOR_ROLE_ID = "b24988ac-6180-42a0-ab88-20f7382dd24c"


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses resolve string annotations through sys.modules
    spec.loader.exec_module(module)
    return module


rules = _load("acr_streaming_ab_policy_rules", POLICY_DIR / "rules.py")
# policy/__main__.py imports `rules` as the engine runs it (from inside policy/): hand it the same module.
sys.modules["rules"] = rules
try:
    pack = _load("acr_streaming_ab_policy_pack", POLICY_DIR / "__main__.py")
finally:
    del sys.modules["rules"]

from pulumi_policy import (  # noqa: E402  (after the pack's own import of pulumi_policy)
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
)


@pytest.fixture(scope="module", params=STACK_FILES, ids=lambda p: p.stem.split(".", 1)[1])
def evaluation(request) -> Evaluation:
    stack = request.param.stem.split(".", 1)[1]
    values = stack_values(request.param)
    config = stack_config.parse_stack_config(values)
    return evaluate(lambda: program.build(config), values, stack=stack)


def stack_resource(evaluation: Evaluation, outputs: dict | None = None) -> rules.Resource:
    return rules.Resource(
        type=rules.STACK,
        urn=f"urn:pulumi:dev::{PROJECT}::pulumi:pulumi:Stack::{PROJECT}-dev",
        name=f"{PROJECT}-dev",
        props=evaluation.outputs if outputs is None else outputs,
    )


def recorded(evaluation: Evaluation) -> list[rules.Resource]:
    """The stack as a stack policy sees it: every resource's outputs, plus the root stack's exports."""
    # In the engine an azure-native resource's `id` output is its resource ID (the ARM id), and that is
    # what references such as the role assignment's scope receive. The mocks give every resource the ID
    # `<name>-id` while some fakes also compute an ARM-style `id` property: align the recorded outputs
    # with the resource ID, as the engine would have them.
    resources = [
        rules.Resource(
            type=r.type,
            urn=r.urn,
            name=r.name,
            props={**copy.deepcopy(r.state), "id": r.id},
            additional_secret_outputs=tuple(r.additional_secret_outputs),
        )
        for r in evaluation.resources
    ]
    return [*resources, stack_resource(evaluation)]


def only(evaluation: Evaluation, type_token: str) -> Declared:
    matches = evaluation.of_type(type_token)
    assert len(matches) == 1, f"expected one {type_token}, found {len(matches)}"
    return matches[0]


def replace(resources: list[rules.Resource], target: rules.Resource, props: dict) -> list[rules.Resource]:
    return [
        rules.Resource(r.type, r.urn, r.name, props, r.additional_secret_outputs) if r is target else r
        for r in resources
    ]


def first(resources: list[rules.Resource], type_token: str) -> rules.Resource:
    return next(r for r in resources if r.type == type_token)


# --------------------------------------------------------------------------------------------------
# Premium SKU when streaming is used
# --------------------------------------------------------------------------------------------------
def test_registry_is_premium_when_streaming(evaluation):
    resources = recorded(evaluation)
    assert rules.streaming_in_use(resources), "every stack file streams: the passing case must not be vacuous"
    assert rules.premium_sku_violations(resources) == []
    registry = first(resources, rules.REGISTRY)
    standard = replace(resources, registry, {**registry.props, "sku": {"name": "Standard", "tier": "Standard"}})
    (violation,) = rules.premium_sku_violations(standard)
    assert violation[0] == registry.urn and "Premium" in violation[1]


def test_a_registry_without_streaming_may_be_standard(evaluation):
    resources = recorded(evaluation)
    registry = first(resources, rules.REGISTRY)
    no_streaming = []
    for r in replace(resources, registry, {**registry.props, "sku": {"name": "Standard"}}):
        if r.type in rules.STREAMING_RESOURCES:
            continue
        if r.type == rules.EXPERIMENT_POOL:
            body = {**r.props["properties"], "artifactStreamingProfile": {"enabled": False}}
            r = rules.Resource(r.type, r.urn, r.name, {**r.props, "properties": body})
        no_streaming.append(r)
    assert not rules.streaming_in_use(no_streaming)
    assert rules.premium_sku_violations(no_streaming) == []


# --------------------------------------------------------------------------------------------------
# Registry admin user and anonymous pull
# --------------------------------------------------------------------------------------------------
def test_registry_admin_user_and_anonymous_pull_are_off(evaluation):
    inputs = only(evaluation, rules.REGISTRY).inputs
    assert inputs["adminUserEnabled"] is False and inputs["anonymousPullEnabled"] is False
    assert rules.registry_access_violations(inputs) == []


@pytest.mark.parametrize("key,word", [("adminUserEnabled", "admin user"), ("anonymousPullEnabled", "anonymous")])
def test_registry_access_violations(evaluation, key, word):
    inputs = {**only(evaluation, rules.REGISTRY).inputs, key: True}
    (message,) = rules.registry_access_violations(inputs)
    assert word in message


# --------------------------------------------------------------------------------------------------
# AcrPull for the kubelet identity, on the registry, and nothing else
# --------------------------------------------------------------------------------------------------
def kubelet_assignment(resources: list[rules.Resource]) -> rules.Resource:
    cluster = first(resources, rules.CLUSTER)
    object_id = cluster.props["identityProfile"]["kubeletidentity"]["objectId"]
    (assignment,) = [r for r in resources if r.type == rules.ROLE_ASSIGNMENT and r.props["principalId"] == object_id]
    return assignment


def test_the_kubelet_identity_holds_acrpull_on_the_registry(evaluation):
    resources = recorded(evaluation)
    assignment = kubelet_assignment(resources)  # correlated through the cluster: not a vacuous pass
    assert assignment.props["scope"] == first(resources, rules.REGISTRY).props["id"]
    assert rules.kubelet_role_violations(resources) == []


def test_another_role_for_the_kubelet_identity_is_a_violation(evaluation):
    resources = recorded(evaluation)
    assignment = kubelet_assignment(resources)
    contributor = assignment.props["roleDefinitionId"].replace(rules.ACR_PULL_ROLE_ID, CONTRIBUTOR_ROLE_ID)
    (violation,) = rules.kubelet_role_violations(
        replace(resources, assignment, {**assignment.props, "roleDefinitionId": contributor})
    )
    assert violation[0] == assignment.urn and "only role" in violation[1]
    # An extra assignment beside the AcrPull one is caught the same way.
    extra = rules.Resource(
        rules.ROLE_ASSIGNMENT, assignment.urn + "-extra", "extra", {**assignment.props, "roleDefinitionId": contributor}
    )
    assert [v[0] for v in rules.kubelet_role_violations([*resources, extra])] == [extra.urn]


def test_acrpull_wider_than_the_registry_is_a_violation(evaluation):
    resources = recorded(evaluation)
    assignment = kubelet_assignment(resources)
    group = first(resources, rules.REGISTRY).props["resourceGroupName"]
    group_scope = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{group}"
    (violation,) = rules.kubelet_role_violations(
        replace(resources, assignment, {**assignment.props, "scope": group_scope})
    )
    assert "scoped to the stack's registry" in violation[1]


def test_a_cluster_without_kubelet_identity_is_a_violation(evaluation):
    resources = recorded(evaluation)
    cluster = first(resources, rules.CLUSTER)
    props = {k: v for k, v in cluster.props.items() if k != "identityProfile"}
    (violation,) = rules.kubelet_role_violations(replace(resources, cluster, props))
    assert violation[0] == cluster.urn and "kubelet identity" in violation[1]


# --------------------------------------------------------------------------------------------------
# Streaming pools: Linux/AMD64, not OS Guard, not Kata, not confidential
# --------------------------------------------------------------------------------------------------
def streaming_pools(evaluation: Evaluation) -> list[Declared]:
    pools = [
        p
        for p in evaluation.of_type(rules.EXPERIMENT_POOL)
        if p.inputs["properties"]["artifactStreamingProfile"]["enabled"]
    ]
    assert pools
    return pools


def test_streaming_pools_are_supported_nodes(evaluation):
    for pool in evaluation.of_type(rules.EXPERIMENT_POOL):
        assert rules.streaming_pool_violations(pool.inputs) == [], pool.name


@pytest.mark.parametrize(
    "change,word",
    [
        ({"vmSize": "Standard_D4pds_v5"}, "Arm64"),
        ({"vmSize": "Standard_DC4as_v5"}, "confidential"),
        ({"vmSize": "Standard_EC8es_v5"}, "confidential"),
        ({"osSKU": "AzureLinuxOSGuard"}, "node image"),
        ({"osSKU": "Windows2022"}, "node image"),
        ({"osType": "Windows"}, "Linux only"),
        ({"workloadRuntime": "KataVmIsolation"}, "sandboxing"),
        ({"vmSize": "D4ds"}, "not an Azure VM size"),
    ],
)
def test_unsupported_streaming_pools_are_violations(evaluation, change, word):
    pool = streaming_pools(evaluation)[0]
    inputs = {**pool.inputs, "properties": {**pool.inputs["properties"], **change}}
    (message,) = rules.streaming_pool_violations(inputs)
    assert word in message and pool.inputs["poolName"] in message


def test_a_standard_pool_may_be_anything(evaluation):
    standard = [
        p
        for p in evaluation.of_type(rules.EXPERIMENT_POOL)
        if not p.inputs["properties"]["artifactStreamingProfile"]["enabled"]
    ][0]
    inputs = {
        **standard.inputs,
        "properties": {
            **standard.inputs["properties"],
            "vmSize": "Standard_D4pds_v5",
            "workloadRuntime": "KataVmIsolation",
        },
    }
    assert rules.streaming_pool_violations(inputs) == []


# --------------------------------------------------------------------------------------------------
# System pool tainted
# --------------------------------------------------------------------------------------------------
def test_the_system_pool_is_tainted(evaluation):
    inputs = only(evaluation, rules.CLUSTER).inputs
    assert rules.system_pool_violations(inputs) == []


def test_an_untainted_or_missing_system_pool_is_a_violation(evaluation):
    inputs = only(evaluation, rules.CLUSTER).inputs
    untainted = copy.deepcopy(inputs)
    for profile in untainted["agentPoolProfiles"]:
        profile["nodeTaints"] = []
    (message,) = rules.system_pool_violations(untainted)
    assert rules.SYSTEM_POOL_TAINT in message
    user_only = copy.deepcopy(inputs)
    for profile in user_only["agentPoolProfiles"]:
        profile["mode"] = "User"
    (message,) = rules.system_pool_violations(user_only)
    assert "no System pool" in message


# --------------------------------------------------------------------------------------------------
# Kubeconfig: a secret export, and only there
# --------------------------------------------------------------------------------------------------
def test_the_kubeconfig_is_exported_as_a_secret_and_nowhere_else(evaluation):
    # The secret flag is visible to the harness, not to a Python policy (see rules.kubeconfig_output_violations).
    assert "kubeconfig" in evaluation.secret_outputs
    assert rules.looks_like_kubeconfig(evaluation.outputs["kubeconfig"])
    assert rules.kubeconfig_output_violations(recorded(evaluation)) == []


def test_a_kubeconfig_under_another_output_is_a_violation(evaluation):
    leaked = {**evaluation.outputs, "debug": {"cluster": {"raw": evaluation.outputs["kubeconfig"]}}}
    (violation,) = rules.kubeconfig_output_violations([stack_resource(evaluation, leaked)])
    assert "debug.cluster.raw" in violation[1]
    missing = {k: v for k, v in evaluation.outputs.items() if k != "kubeconfig"}
    cluster = first(recorded(evaluation), rules.CLUSTER)
    (violation,) = rules.kubeconfig_output_violations([stack_resource(evaluation, missing), cluster])
    assert "does not export `kubeconfig`" in violation[1]
    # Without a cluster (the registry stack) there is no kubeconfig to export.
    assert rules.kubeconfig_output_violations([stack_resource(evaluation, missing)]) == []


# --------------------------------------------------------------------------------------------------
# The copies in policy/rules.py agree with the program's own definitions
# --------------------------------------------------------------------------------------------------
def test_the_policy_constants_match_the_program():
    from contract import SYSTEM_POOL_TAINT

    assert rules.ACR_PULL_ROLE_ID == contract.ACR_PULL_ROLE_ID
    assert rules.STREAMING_OS_SKUS == contract.STREAMING_OS_SKUS
    assert rules.OS_GUARD_SKUS == contract.OS_GUARD_SKUS
    assert rules.SANDBOX_RUNTIMES == contract.SANDBOX_RUNTIMES
    assert rules.SYSTEM_POOL_TAINT == SYSTEM_POOL_TAINT


@pytest.mark.parametrize(
    "name",
    [
        "Standard_D4ds_v5",
        "Standard_D2_v5",
        "Standard_D4pds_v5",
        "Standard_E8ps_v6",
        "Standard_DC4as_v5",
        "Standard_DC8ads_v5",
        "Standard_EC16es_v5",
        "Standard_DC4s_v3",
        "Standard_DS2_v2",
        "Standard_NC24ads_A100_v4",
        "Standard_M416-208s_v2",
        "Basic_A1",
        "D4ds",
        "standard_d4ds_v5",
    ],
)
def test_vm_size_traits_match_stacks_vm_sizes(name):
    try:
        size = parse_vm_size(name)
    except ValueError:
        assert rules.vm_size_traits(name) is None
    else:
        assert rules.vm_size_traits(name) == (size.is_arm64, size.is_confidential)


# --------------------------------------------------------------------------------------------------
# The pack as the engine runs it
# --------------------------------------------------------------------------------------------------
def policy_resource(r: rules.Resource) -> PolicyResource:
    options = PolicyResourceOptions(
        False, [], False, [], PolicyCustomTimeouts(0, 0, 0), list(r.additional_secret_outputs)
    )
    return PolicyResource(r.type, r.props, r.urn, r.name, options, None, None, [], {})


def run_policies(resources: list[rules.Resource], inputs: dict[str, dict]) -> dict[str, list[str]]:
    """Every policy of the pack, resource policies on `inputs` (urn -> inputs), stack policies on all."""
    reports: dict[str, list[str]] = {p.name: [] for p in pack.POLICIES}
    stack_args = StackValidationArgs([policy_resource(r) for r in resources])
    for policy in pack.POLICIES:

        def report(message, urn=None, name=policy.name):
            reports[name].append(message)

        if isinstance(policy, pack.StackValidationPolicy):
            policy.validate(stack_args, report)
        else:
            for r in resources:
                if r.urn in inputs:
                    options = policy_resource(r).opts
                    policy.validate(ResourceValidationArgs(r.type, inputs[r.urn], r.urn, r.name, options, None), report)
    return reports


def test_every_policy_of_the_pack_passes_on_the_program_and_fires_on_a_regression(evaluation):
    resources = recorded(evaluation)
    inputs = {r.urn: copy.deepcopy(r.inputs) for r in evaluation.resources}
    assert run_policies(resources, inputs) == {p.name: [] for p in pack.POLICIES}

    registry = first(resources, rules.REGISTRY)
    cluster = first(resources, rules.CLUSTER)
    pool = streaming_pools(evaluation)[0]
    assignment = kubelet_assignment(resources)
    inputs[registry.urn]["adminUserEnabled"] = True
    inputs[cluster.urn]["agentPoolProfiles"][0]["nodeTaints"] = []
    inputs[pool.urn]["properties"]["vmSize"] = "Standard_D4pds_v5"
    broken = replace(resources, registry, {**registry.props, "sku": {"name": "Basic"}})
    broken = replace(broken, assignment, {**assignment.props, "scope": "/subscriptions/x"})
    broken = [
        r if r.type != rules.STACK else stack_resource(evaluation, {**r.props, "kube": r.props["kubeconfig"]})
        for r in broken
    ]
    reports = run_policies(broken, inputs)
    assert all(len(messages) == 1 for messages in reports.values()), reports


def test_the_pack_serves_its_policies_over_grpc(tmp_path):
    """Started like the engine starts it (runpy on the directory), then asked over the analyzer protocol."""
    import grpc
    from google.protobuf import empty_pb2, struct_pb2
    from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

    process = subprocess.Popen(
        [sys.executable, "-c", "import runpy, sys; runpy.run_path(sys.argv[1], run_name='__main__')", str(POLICY_DIR)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # The pack prints its port once serving; a pack that fails to start prints nothing, so wait at
        # most 60 s for that line instead of blocking on it.
        ready, _, _ = select.select([process.stdout], [], [], 60)
        assert ready, f"the policy pack did not start: {process.poll()=}"
        line = process.stdout.readline().strip()
        assert line.isdigit(), (
            f"the policy pack did not start: {line!r} {process.stderr.read() if process.poll() is not None else ''}"
        )
        port = int(line)
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            analyzer = analyzer_pb2_grpc.AnalyzerStub(channel)
            info = analyzer.GetAnalyzerInfo(empty_pb2.Empty(), timeout=30)
            assert info.name == pack.PACK_NAME
            assert {p.name for p in info.policies} == {p.name for p in pack.POLICIES}
            properties = struct_pb2.Struct()
            properties.update(
                {
                    "registryName": "streamabx7k2q9",
                    "sku": {"name": "Premium"},
                    "adminUserEnabled": True,
                    "anonymousPullEnabled": False,
                }
            )
            response = analyzer.Analyze(
                analyzer_pb2.AnalyzeRequest(
                    type=rules.REGISTRY,
                    properties=properties,
                    name="registry-acr",
                    urn=f"urn:pulumi:dev::{PROJECT}::{rules.REGISTRY}::registry-acr",
                ),
                timeout=30,
            )
            assert [d.policyName for d in response.diagnostics] == ["registry-no-admin-no-anonymous-pull"]
            assert "admin user" in response.diagnostics[0].message
    finally:
        process.kill()
        process.wait(timeout=10)


def test_the_pack_passes_on_the_registry_stack():
    (path,) = stack_files(registry=True)
    values = stack_values(path)
    config = stack_config.parse_stack_config(values)
    evaluation = evaluate(lambda: program.build(config, "registry"), values, stack="registry")
    resources = recorded(evaluation)
    inputs = {r.urn: copy.deepcopy(r.inputs) for r in evaluation.resources}
    assert run_policies(resources, inputs) == {p.name: [] for p in pack.POLICIES}
