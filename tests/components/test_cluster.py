"""StreamingCluster under Pulumi mocks, its pool bodies, and the preflight rules that concern pools."""

from __future__ import annotations

import hashlib
import json
import os
import re
import uuid

import pytest
import yaml
from pulumi_azure_native import containerregistry, resources

from components.cluster import (
    StreamingCluster,
    StreamingClusterArgs,
    arm_id_part,
    role_assignment_name,
)
from components.pool_body import pool_properties
from contract import ACR_PULL_ROLE_ID, SYSTEM_POOL_TAINT
from offline.fakes.cluster import kubelet_object_id_of
from offline.harness import evaluate
from providers.aks_agent_pool import REPLACE_ON_CHANGE
from providers.base import AzureTarget
from stackconfig.errors import ConfigError
from stacks.config import parse_stack_config
from stacks.scenarios import SCENARIOS
from tests.replay import SUBSCRIPTION, TENANT

REGISTRY_NAME = "streamabx7k2q9"
REGISTRY_ID = (
    f"/subscriptions/{SUBSCRIPTION}/resourceGroups/streamab-registry-rg/providers/"
    f"Microsoft.ContainerRegistry/registries/{REGISTRY_NAME}"
)
CLUSTER = "azure-native:containerservice:ManagedCluster"
POOL = "pulumi-python:dynamic/aks:ExperimentPool"
ROLE = "azure-native:authorization:RoleAssignment"


DEPLOYER = "22222222-2222-2222-2222-222222222222"
ADMIN_ROLE = "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b"


def stack_values(**overrides) -> dict:
    return {"location": "westus3", **overrides}


def program_for(values: dict, name_prefix: str = "streamab"):
    config = parse_stack_config(values)

    def program():
        group = resources.ResourceGroup("rg", resource_group_name=f"{name_prefix}-rg", location=config.location)
        # A registry in its own group (as with registry.existingResourceGroup): only its id and name
        # reach the cluster, as Outputs of the registry resource, so the dependency graph is the real one.
        registry = containerregistry.Registry(
            "registry",
            resource_group_name="streamab-registry-rg",
            registry_name=REGISTRY_NAME,
            sku={"name": "Premium"},
            admin_user_enabled=False,
        )
        cluster = StreamingCluster(
            "cluster",
            StreamingClusterArgs(
                location=config.location,
                name_prefix=name_prefix,
                resource_group_name=group.name,
                cluster=config.cluster,
                pools=config.pools,
                cache_generation=config.cache_generation,
                timeouts=config.timeouts,
                registry_id=registry.id,
                registry_name=registry.name,
                azure=AzureTarget(SUBSCRIPTION, TENANT),
                stack_name="dev",
                deployer_object_id=DEPLOYER,
            ),
        )
        exports = {
            "clusterName": cluster.cluster_name,
            "resourceGroupName": cluster.resource_group_name,
            "kubeconfig": cluster.kubeconfig,
            "pools": cluster.pools_summary,
            "oidcIssuerUrl": cluster.oidc_issuer_url,
            "kubeletObjectId": cluster.kubelet_object_id,
            "poolResources": sorted(cluster.pool_resources),
            "acrPullCommand": cluster.acr_pull_command,
        }
        if cluster.image_pull_secret_dockerconfigjson is not None:
            exports["pullSecret"] = cluster.image_pull_secret_dockerconfigjson
        return exports

    return config, program


@pytest.fixture(scope="module")
def attach():
    config, program = program_for(stack_values())
    return config, evaluate(program, stack_values())


# Cluster ----------------------------------------------------------------------------------------
def test_cluster_has_system_identity_rbac_version_and_only_the_tainted_system_pool(attach):
    config, ev = attach
    (cluster,) = ev.of_type(CLUSTER)
    inputs = cluster.inputs
    assert inputs["resourceName"] == "streamab-aks"
    assert inputs["identity"] == {"type": "SystemAssigned"}
    assert inputs["enableRBAC"] is True
    # No version pinned by default: AKS picks its default in the region (a baked-in one would expire).
    assert config.cluster.kubernetes_version is None and "kubernetesVersion" not in inputs
    (system,) = inputs["agentPoolProfiles"]
    assert "orchestratorVersion" not in system
    assert system["mode"] == "System" and system["name"] == "system"
    assert system["nodeTaints"] == [SYSTEM_POOL_TAINT] == ["CriticalAddonsOnly=true:NoSchedule"]
    assert system["vmSize"] == config.cluster.system_pool.vm_size
    assert cluster.ignore_changes == []
    assert cluster.parent == ev.of_type("acr-streaming-ab:cluster:StreamingCluster")[0].urn


def test_no_upgrade_or_node_image_reimage_under_a_running_experiment(attach):
    _, ev = attach
    (cluster,) = ev.of_type(CLUSTER)
    # The enum values of azure-native v3 (containerservice.UpgradeChannel / NodeOSUpgradeChannel).
    assert cluster.inputs["autoUpgradeProfile"] == {"upgradeChannel": "none", "nodeOSUpgradeChannel": "None"}


def test_cluster_does_not_wait_for_the_registry_and_the_role_assignment_waits_for_both(attach):
    _, ev = attach
    (cluster,) = ev.of_type(CLUSTER)
    registry = ev.named("registry")
    (role,) = ev.of_type(ROLE)
    assert not ev.depends_on(cluster, registry)
    assert ev.depends_on(role, cluster) and ev.depends_on(role, registry)
    for pool in ev.of_type(POOL):
        assert not ev.depends_on(pool, registry) and not ev.depends_on(pool, role)


def test_acr_pull_role_assignment_for_the_kubelet_identity_on_the_registry(attach):
    _, ev = attach
    (role,) = ev.of_type(ROLE)
    kubelet = kubelet_object_id_of("streamab-aks")
    assert role.inputs["principalId"] == kubelet == ev.outputs["kubeletObjectId"]
    assert role.inputs["principalType"] == "ServicePrincipal"
    assert role.inputs["scope"] == REGISTRY_ID
    assert role.inputs["roleDefinitionId"] == (
        f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/{ACR_PULL_ROLE_ID}"
    )
    assert role.inputs["roleAssignmentName"] == role_assignment_name(REGISTRY_ID, kubelet, ACR_PULL_ROLE_ID)
    uuid.UUID(role.inputs["roleAssignmentName"])  # ARM wants a GUID


def test_role_assignment_name_is_stable_across_runs_and_changes_with_the_principal(attach):
    _, first = attach
    _, program = program_for(stack_values())
    second = evaluate(program, stack_values())
    name = first.of_type(ROLE)[0].inputs["roleAssignmentName"]
    assert second.of_type(ROLE)[0].inputs["roleAssignmentName"] == name
    # Same registry, another cluster (so another kubelet identity): another assignment.
    _, other_program = program_for(stack_values(namePrefix="other"), name_prefix="other")
    other = evaluate(other_program, stack_values(namePrefix="other"))
    assert other.of_type(ROLE)[0].inputs["roleAssignmentName"] != name
    # ARM ids are case-insensitive: so is the name.
    assert role_assignment_name(REGISTRY_ID.upper(), "ABC", ACR_PULL_ROLE_ID) == role_assignment_name(
        REGISTRY_ID, "abc", ACR_PULL_ROLE_ID
    )


def test_outputs_kubeconfig_secret_and_decoded_pools_and_names(attach):
    config, ev = attach
    assert "kubeconfig" in ev.secret_outputs
    kubeconfig = yaml.safe_load(ev.outputs["kubeconfig"])
    assert kubeconfig["kind"] == "Config" and kubeconfig["current-context"] == "streamab-aks"
    assert ev.outputs["clusterName"] == "streamab-aks"
    assert ev.outputs["resourceGroupName"] == "streamab-rg"
    assert ev.outputs["oidcIssuerUrl"] is None
    assert ev.outputs["pools"]["fastart"] == {
        "streaming": True,
        "vmSize": "Standard_D4ds_v5",
        "osDiskType": "Ephemeral",
        "osSku": "Ubuntu",
        "count": 1,
        "labels": {"streaming-ab/pool": "fastart", "streaming-ab/streaming": "true"},
    }
    assert ev.outputs["pools"]["slownoart"]["streaming"] is False
    assert set(ev.outputs["pools"]) == {p.name for p in config.pools} == set(ev.outputs["poolResources"])
    assert "pullSecret" not in ev.outputs


def test_oidc_issuer_url_when_enabled():
    values = stack_values(cluster={"oidcIssuer": True})
    _, program = program_for(values)
    ev = evaluate(program, values)
    assert ev.of_type(CLUSTER)[0].inputs["oidcIssuerProfile"] == {"enabled": True}
    assert ev.outputs["oidcIssuerUrl"].startswith("https://westus3.oic.prod-aks.azure.com/")


# Pools ------------------------------------------------------------------------------------------
def test_one_pool_resource_per_configured_pool_with_the_arm_body(attach):
    config, ev = attach
    pools = {r.inputs["poolName"]: r for r in ev.of_type(POOL)}
    assert list(pools) == [p.name for p in config.pools]
    fast = pools["fastart"].inputs
    assert fast["clusterName"] == "streamab-aks" and fast["resourceGroupName"] == "streamab-rg"
    assert fast["subscriptionId"] == SUBSCRIPTION and fast["tenantId"] == TENANT
    assert fast["cacheGeneration"] == config.cache_generation
    assert fast["timeoutMinutes"] == config.timeouts.pool_minutes
    assert fast["properties"] == {
        "count": 1,
        "vmSize": "Standard_D4ds_v5",
        "osType": "Linux",
        "osSKU": "Ubuntu",
        "osDiskType": "Ephemeral",
        "osDiskSizeGB": 128,
        "type": "VirtualMachineScaleSets",
        "mode": "User",
        "nodeLabels": {"streaming-ab/pool": "fastart", "streaming-ab/streaming": "true"},
        "nodeTaints": ["streaming-ab/pool=fastart:NoSchedule"],
        "workloadRuntime": "OCIContainer",
        "artifactStreamingProfile": {"enabled": True},
    }
    slow = pools["slownoart"].inputs["properties"]
    assert slow["artifactStreamingProfile"] == {"enabled": False}
    assert slow["osDiskType"] == "Managed" and "osDiskSizeGB" not in slow
    assert slow["vmSize"] == "Standard_D2_v5"
    assert slow["nodeTaints"] == ["streaming-ab/pool=slownoart:NoSchedule"]
    assert all(p.delete_before_replace for p in pools.values())


def test_pools_form_one_chain_in_config_order(attach):
    config, ev = attach
    pools = [next(r for r in ev.of_type(POOL) if r.inputs["poolName"] == p.name) for p in config.pools]
    (cluster,) = ev.of_type(CLUSTER)
    assert pools[0].dependencies and not any(ev.depends_on(pools[0], other) for other in pools[1:])
    for previous, pool in zip(pools, pools[1:], strict=False):
        assert previous.urn in pool.dependencies
        assert ev.depends_on(pool, cluster)
    # No two pools may be independent: that would let AKS see two operations at once.
    for i, a in enumerate(pools):
        for b in pools[i + 1 :]:
            assert ev.depends_on(b, a)


def test_both_arms_differ_only_in_the_flag_and_their_names():
    storage = parse_stack_config(stack_values())
    on = pool_properties(storage.pool("fastart"), "1.33")
    off = pool_properties(storage.pool("fastnoart"), "1.33")
    different = {k for k in on if on[k] != off[k]}
    assert different == {"artifactStreamingProfile", "nodeLabels", "nodeTaints"}
    assert on["nodeLabels"]["streaming-ab/streaming"] == "true"
    assert off["nodeLabels"]["streaming-ab/streaming"] == "false"
    assert set(REPLACE_ON_CHANGE) <= set(on) | {"osDiskSizeGB"}


def test_user_labels_are_kept_next_to_the_reserved_ones():
    values = stack_values(pools=[dict(p, labels={"team": "perf"}) for p in SCENARIOS["storage-matrix"]["pools"]])
    body = pool_properties(parse_stack_config(values).pool("slowart"), "1.33")
    assert body["nodeLabels"] == {"streaming-ab/pool": "slowart", "streaming-ab/streaming": "true", "team": "perf"}


def test_a_pool_named_like_the_system_pool_is_refused():
    # Preflight (stackconfig/model.py) refuses it before the component could PUT agentPools/system.
    pools = [dict(p) for p in SCENARIOS["storage-matrix"]["pools"]]
    pools[0]["name"] = "system"
    with pytest.raises(ConfigError, match=r"pools\[0\]\.name: pool 'system': 'system' is the system pool's name"):
        parse_stack_config(stack_values(pools=pools, workloads=[], activeWorkloads=[]))


# acrPull: external --------------------------------------------------------------------------------
def test_external_acr_pull_declares_no_role_assignment_and_exports_the_administrators_command():
    values = stack_values(cluster={"acrPull": "external"})
    _, program = program_for(values)
    ev = evaluate(program, values)
    assert ev.of_type(ROLE) == []
    kubelet = kubelet_object_id_of("streamab-aks")
    assert ev.outputs["kubeletObjectId"] == kubelet
    assert ev.outputs["acrPullCommand"] == (
        f"az role assignment create --assignee-object-id {kubelet} --assignee-principal-type ServicePrincipal "
        f"--role AcrPull --scope {REGISTRY_ID}"
    )


def test_assign_mode_has_no_command_for_an_administrator(attach):
    _, ev = attach
    assert ev.outputs["acrPullCommand"] is None


# Token mode -------------------------------------------------------------------------------------
def token_values() -> dict:
    pools = [dict(p, artifactStreaming=False) for p in SCENARIOS["storage-matrix"]["pools"][:2]]
    return stack_values(cluster={"pullMode": "token"}, pools=pools, workloads=[], activeWorkloads=[])


def test_token_mode_creates_a_pull_token_and_a_secret_pull_secret_instead_of_a_role_assignment():
    values = token_values()
    _, program = program_for(values)
    ev = evaluate(program, values)
    assert ev.of_type(ROLE) == []
    (token,) = ev.of_type("azure-native:containerregistry:Token")
    assert token.inputs["scopeMapId"] == f"{REGISTRY_ID}/scopeMaps/_repositories_pull"
    assert token.inputs["resourceGroupName"] == arm_id_part(REGISTRY_ID, "rg") == "streamab-registry-rg"
    assert token.inputs["registryName"] == REGISTRY_NAME
    assert token.inputs["status"] == "enabled"
    (password,) = ev.of_type("pulumi-python:dynamic/acr:TokenCredentials")
    assert password.inputs["tokenId"] == token.id
    assert password.inputs["passwordName"] == "password1"
    assert password.additional_secret_outputs == ["password"]
    assert password.delete_before_replace
    assert "pullSecret" in ev.secret_outputs
    entry = json.loads(ev.outputs["pullSecret"])["auths"][f"{REGISTRY_NAME}.azurecr.io"]
    # ACR answers generateCredentials with the token's name as username.
    assert token.inputs["tokenName"] == "aks-pull-streamab-dev" == entry["username"]
    assert token.id == f"{REGISTRY_ID}/tokens/aks-pull-streamab-dev"
    assert entry["password"].startswith("fake-password-")
    (cluster,) = ev.of_type(CLUSTER)
    assert not ev.depends_on(cluster, token)


def test_token_mode_refuses_streaming_pools_in_preflight():
    values = stack_values(cluster={"pullMode": "token"})
    with pytest.raises(ConfigError) as raised:
        parse_stack_config(values)
    assert any("pools[0].artifactStreaming" in p and "'slowart'" in p for p in raised.value.problems)


# Preflight (stackconfig/model.py) -------------------------------------------------------------------
def with_pool(index: int = 0, **changes) -> dict:
    pools = [dict(p) for p in SCENARIOS["storage-matrix"]["pools"]]
    pools[index].update(changes)
    return stack_values(pools=pools)


@pytest.mark.parametrize(
    "values, key, words",
    [
        (with_pool(0, vmSize="Standard_D4pds_v5"), "pools[0].vmSize", ["'slowart'", "Arm64"]),
        (with_pool(0, vmSize="Standard_DC4as_v5"), "pools[0].vmSize", ["'slowart'", "confidential"]),
        (with_pool(2, workloadRuntime="KataVmIsolation"), "pools[2].workloadRuntime", ["'fastart'", "sandboxing"]),
        (with_pool(0, osSku="AzureLinuxOSGuard"), "pools[0].osSku", ["'slowart'", "AzureLinuxOSGuard"]),
        (with_pool(1, osSku="Windows2022"), "pools[1].osSku", ["'slownoart'", "not a Linux node image"]),
        (with_pool(1, name="slowart"), "pools[1].name", ["duplicate pool name 'slowart'"]),
        (with_pool(3, count=1001), "pools[3].count", ["'fastnoart'", "1001", "0-1000"]),
        (with_pool(3, count=-1), "pools[3].count", ["'fastnoart'", "-1"]),
        (with_pool(2, osDiskSizeGB=200), "pools[2].osDiskSizeGB", ["'fastart'", "200", "150 GiB", "Standard_D4ds_v5"]),
        (
            with_pool(0, osDiskType="Ephemeral", vmSize="Standard_D4s_v5"),
            "pools[0].osDiskType",
            ["'slowart'", "no local"],
        ),
        (with_pool(0, vmSize="Standard_A2_v2"), "pools[0].vmSize", ["'slowart'", "Generation 1"]),
        (stack_values(cluster={"kubernetesVersion": "1.25"}), "cluster.kubernetesVersion", ["1.26"]),
        (stack_values(registry={"sku": "Basic"}), "registry.sku", ["Premium"]),
    ],
)
def test_preflight_names_the_pool_and_the_key(values, key, words):
    with pytest.raises(ConfigError) as raised:
        parse_stack_config(values)
    matching = [p for p in raised.value.problems if p.startswith(f"acr-streaming-ab:{key}:")]
    assert matching, raised.value.problems
    assert any(all(w in p for w in words) for p in matching), matching


def test_ephemeral_disk_size_is_resolved_to_what_fits_the_local_disk():
    values = with_pool(2, vmSize="Standard_D2ds_v5", osDiskType="Ephemeral")
    values["pools"][3].update(vmSize="Standard_D2ds_v5", osDiskType="Ephemeral")  # the pair stays identical
    small = parse_stack_config(values)
    assert small.pool("fastart").os_disk_size_gb == 75  # min(128, 75 GiB local disk)
    assert pool_properties(small.pool("fastart"), "1.33")["osDiskSizeGB"] == 75
    assert pool_properties(small.pool("fastart"), "1.33")["orchestratorVersion"] == "1.33"
    assert "orchestratorVersion" not in pool_properties(small.pool("fastart"), None)


# Deploy critical path (benchmarks/deploy_critical_path.py) --------------------------------------
def _nodes(cluster_waits_for_registry: bool):
    from benchmarks.deploy_critical_path import CLUSTER_TYPE, GROUP_TYPE, POOL_TYPE, Node

    def node(urn, type_, seconds, *deps):
        return urn, Node(urn, type_, urn, seconds, set(deps))

    return dict(
        [
            node("rg", GROUP_TYPE, 5),
            node("registry", "azure-native:containerregistry:Registry", 60, "rg"),
            node("build", "pulumi-python:dynamic/acr:AcrBuild", 600, "registry"),
            node("aks", CLUSTER_TYPE, 360, "rg", *(["build"] if cluster_waits_for_registry else [])),
            node("pool-a", POOL_TYPE, 240, "aks"),
            node("pool-b", POOL_TYPE, 240, "aks", "pool-a"),
            node("grant", "azure-native:authorization:RoleAssignment", 15, "aks", "registry"),
            node("deploy", "kubernetes:apps/v1:Deployment", 65, "pool-a", "pool-b", "build", "grant"),
        ]
    )


def test_critical_path_model_matches_the_ideal_only_without_avoidable_waits():
    from benchmarks.deploy_critical_path import analyse

    good = analyse(_nodes(cluster_waits_for_registry=False))
    assert good["critical_path_seconds"] == good["ideal_seconds"] == 5 + 360 + 240 + 240 + 65
    assert [s["resource"] for s in good["critical_path"]] == ["rg", "aks", "pool-a", "pool-b", "deploy"]
    assert good["ideal_seconds"] == max(good["aks_bound_seconds"], good["longest_chain_without_pools_seconds"])
    assert good["if_pools_were_parallel_seconds"] == 5 + 60 + 600 + 65  # then the build would be critical
    bad = analyse(_nodes(cluster_waits_for_registry=True))
    assert bad["ideal_seconds"] == good["ideal_seconds"]
    assert bad["critical_path_seconds"] == 5 + 60 + 600 + 360 + 240 + 240 + 65
    assert bad["cluster_ready_seconds"] > bad["cluster_floor_seconds"] == 365


def test_dev_stack_deploys_in_the_ideal_time_for_its_graph():
    """The whole program (stacks/program.py) for Pulumi.dev.yaml: nothing waits that need not."""
    from benchmarks.deploy_critical_path import analyse, evaluate_stack, graph_of

    config, evaluation = evaluate_stack("dev")
    result = analyse(graph_of(evaluation, config))
    assert result["critical_path_seconds"] == result["ideal_seconds"]
    assert result["cluster_ready_seconds"] == result["cluster_floor_seconds"]  # only the group before it
    assert result["pools"] == len(config.pools)


def test_pull_tokens_of_two_stacks_with_one_name_prefix_differ():
    from components.cluster import pull_token_name

    assert pull_token_name("streamab", "dev") != pull_token_name("streamab", "teleport")
    long_a, long_b = (pull_token_name("a" * 30, f"experiment_{n}.{'x' * 20}") for n in (1, 2))
    assert long_a != long_b and all(len(n) <= 50 and re.fullmatch(r"[a-z0-9-]{5,50}", n) for n in (long_a, long_b))


def test_pull_tokens_of_stack_names_that_clean_up_alike_differ():
    from components.cluster import pull_token_name

    names = [pull_token_name("streamab", stack) for stack in ("exp-1", "exp.1", "exp_1", "Exp-1", "EXP-1")]
    assert len({n.lower() for n in names}) == len(names)  # ARM compares token names case-insensitively
    assert all(re.fullmatch(r"[a-z0-9-]{5,50}", n) for n in names)
    # A name that needed no cleaning keeps its token (no replacement for existing stacks).
    assert pull_token_name("streamab", "exp-1") == "aks-pull-streamab-exp-1"
    assert (
        pull_token_name("a" * 30, "x" * 20)
        == f"aks-pull-{'a' * 30}-{'x' * 20}"[:41]
        + "-"
        + hashlib.sha256(f"aks-pull-{'a' * 30}-{'x' * 20}".encode()).hexdigest()[:8]
    )


def sent_on_update(cluster, stored_inputs: dict) -> dict:
    """What the engine sends in a cluster update: the declared inputs, except ignoreChanges keys, for
    which it keeps the stored (after `pulumi refresh`: the live) value. A model of Pulumi's documented
    ignoreChanges rule, not an engine run."""
    return {k: stored_inputs.get(k) if k in cluster.ignore_changes else v for k, v in cluster.inputs.items()}


def test_a_refreshed_pool_list_is_never_sent_back_to_aks(attach):
    """A refresh stores every live pool in the cluster's inputs (pulumi-azure-native#2719); the next
    update must still send the system pool alone, never a stale list of experiment pools."""
    config, ev = attach
    (cluster,) = ev.of_type(CLUSTER)
    live_pools = [dict(cluster.inputs["agentPoolProfiles"][0])] + [
        {"name": p.name, "mode": "User", "count": 0, "vmSize": p.vm_size} for p in config.pools
    ]
    refreshed = {**cluster.inputs, "agentPoolProfiles": live_pools}
    sent = sent_on_update(cluster, refreshed)
    assert [p["name"] for p in sent["agentPoolProfiles"]] == ["system"]


def test_a_pinned_version_upgrades_the_system_pool_with_the_control_plane():
    values = stack_values(cluster={"kubernetesVersion": "1.33"})
    _, program = program_for(values)
    (cluster,) = evaluate(program, values).of_type(CLUSTER)
    stored = {**cluster.inputs, "kubernetesVersion": "1.32"}
    stored["agentPoolProfiles"] = [{**cluster.inputs["agentPoolProfiles"][0], "orchestratorVersion": "1.32"}]
    sent = sent_on_update(cluster, stored)
    assert sent["kubernetesVersion"] == "1.33" == sent["agentPoolProfiles"][0]["orchestratorVersion"]


def test_switching_the_oidc_issuer_off_is_refused_before_the_update(attach):
    import pulumi

    from components.cluster import refuse_irreversible_changes

    _, ev = attach
    (cluster,) = ev.of_type(CLUSTER)
    assert cluster.before_update_hooks == ["cluster-irreversible-settings"]

    def hook(old: bool | None, new: bool) -> None:
        refuse_irreversible_changes(
            pulumi.ResourceHookArgs(
                urn="urn",
                id="id",
                name="cluster-aks",
                type=CLUSTER,
                old_outputs={"oidcIssuerProfile": {"enabled": old}},
                new_inputs={"oidcIssuerProfile": {"enabled": new}},
            )
        )

    with pytest.raises(ValueError, match=r"^acr-streaming-ab:cluster.oidcIssuer: true -> false is refused"):
        hook(True, False)
    for old, new in ((False, True), (True, True), (None, False), (False, False)):
        hook(old, new)


def test_the_cluster_runs_a_network_policy_engine_and_keeps_local_accounts_by_default(attach):
    _, ev = attach
    (cluster,) = ev.of_type(CLUSTER)
    profile = cluster.inputs["networkProfile"]
    assert (profile["networkPlugin"], profile["networkPluginMode"]) == ("azure", "overlay")
    assert profile["networkPolicy"] == "cilium" == profile["networkDataplane"]
    assert "aadProfile" not in cluster.inputs and "disableLocalAccounts" not in cluster.inputs
    assert "apiServerAccessProfile" not in cluster.inputs
    assert "token: fake-user-token" in ev.outputs["kubeconfig"]


def test_network_policy_none_declares_the_cluster_as_before_the_cilium_profile(attach):
    """`none` sends no networkProfile, as the cluster was declared before the Cilium profile (c5515ac)."""
    values = stack_values(cluster={"networkPolicy": "none"})
    _, program = program_for(values)
    (plain,) = evaluate(program, values).of_type(CLUSTER)
    (cilium,) = attach[1].of_type(CLUSTER)
    assert "networkProfile" not in plain.inputs
    assert plain.inputs == {k: v for k, v in cilium.inputs.items() if k != "networkProfile"}


@pytest.fixture(scope="module")
def entra_only():
    values = stack_values(cluster={"localAccounts": False, "authorizedIpRanges": ["203.0.113.0/24"]})
    _, program = program_for(values)
    return evaluate(program, values)


def test_entra_id_only_cluster_grants_the_deployer_and_hands_out_a_kubelogin_kubeconfig(entra_only):
    (cluster,) = entra_only.of_type(CLUSTER)
    assert cluster.inputs["disableLocalAccounts"] is True
    assert cluster.inputs["aadProfile"] == {"managed": True, "enableAzureRBAC": True, "tenantID": TENANT}
    assert cluster.inputs["apiServerAccessProfile"] == {"authorizedIPRanges": ["203.0.113.0/24"]}
    (admin,) = [r for r in entra_only.of_type(ROLE) if r.name == "cluster-deployer-rbac-admin"]
    assert admin.inputs["principalId"] == DEPLOYER and admin.inputs["scope"] == cluster.id
    assert admin.inputs["roleDefinitionId"].endswith("/roleDefinitions/b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b")
    # Named by (cluster, principal, role); Azure keeps one per triple, so a renamed one is deleted first.
    assert admin.inputs["roleAssignmentName"] == role_assignment_name(cluster.id, DEPLOYER, ADMIN_ROLE)
    assert admin.delete_before_replace
    user = yaml.safe_load(entra_only.outputs["kubeconfig"])["users"][0]["user"]
    assert user["exec"]["command"] == "kubelogin"
    # No fixed sign-in method: AAD_LOGIN_METHOD (azurecli, workloadidentity) decides; never devicecode.
    assert "--login" not in user["exec"]["args"] and "devicecode" not in user["exec"]["args"]
    assert "--server-id" in user["exec"]["args"] and "token" not in user


def test_listed_cluster_admins_replace_the_deployer_one_assignment_each():
    """With cluster.adminObjectIds the assignments no longer follow whoever runs the program."""
    admins = ["33333333-3333-3333-3333-333333333333", "44444444-4444-4444-4444-44444444444A"]
    values = stack_values(cluster={"localAccounts": False, "adminObjectIds": admins})
    _, program = program_for(values)
    ev = evaluate(program, values)
    (cluster,) = ev.of_type(CLUSTER)
    granted = {
        r.inputs["principalId"]: r for r in ev.of_type(ROLE) if r.inputs["roleDefinitionId"].endswith(ADMIN_ROLE)
    }
    assert sorted(granted) == [admins[0], admins[1].lower()]  # DEPLOYER is not among them
    for principal, assignment in granted.items():
        assert assignment.name == f"cluster-rbac-admin-{principal}" and assignment.inputs["scope"] == cluster.id
        assert assignment.inputs["roleAssignmentName"] == role_assignment_name(cluster.id, principal, ADMIN_ROLE)
        assert assignment.delete_before_replace
    # The first listed takes over a deployer assignment of an earlier run instead of revoking it.
    assert granted[admins[0]].aliases == ["cluster-deployer-rbac-admin"] and granted[admins[1].lower()].aliases == []
    assert "kubelogin" in ev.outputs["kubeconfig"]


@pytest.mark.parametrize(
    "cluster, message",
    [
        ({"localAccounts": False, "adminObjectIds": ["me"]}, r"adminObjectIds\[0\]: 'me' is not an Entra ID object id"),
        ({"adminObjectIds": [DEPLOYER]}, r"adminObjectIds: cluster admins are assigned only on an Entra ID cluster"),
        (
            {
                "localAccounts": False,
                "adminObjectIds": ["aaaaaaaa-0000-0000-0000-000000000000", "AAAAAAAA-0000-0000-0000-000000000000"],
            },
            r"adminObjectIds: an object id is listed twice",
        ),
    ],
)
def test_cluster_admins_are_guids_listed_once_on_an_entra_id_cluster(cluster, message):
    with pytest.raises(ConfigError, match=message):
        parse_stack_config(stack_values(cluster=cluster))


def test_the_kubernetes_client_timing_uses_signs_in_through_kubelogin(entra_only, tmp_path, monkeypatch):
    """The Python kubernetes client (what `timing` reads clusters with) runs the kubeconfig's exec plugin:
    a stand-in `kubelogin` on PATH answers an ExecCredential, and the client sends its token."""
    from kubernetes import config

    stub = tmp_path / "kubelogin"
    stub.write_text(
        "#!/bin/sh\n"
        'echo "$AAD_LOGIN_METHOD $*" > "$(dirname "$0")/called"\n'
        'echo \'{"apiVersion": "client.authentication.k8s.io/v1beta1", "kind": "ExecCredential",'
        ' "status": {"token": "entra-token"}}\'\n'
    )
    stub.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    monkeypatch.setenv("AAD_LOGIN_METHOD", "azurecli")
    # As timing/sources/cluster.py reads a stack's kubeconfig.
    api = config.new_client_from_config_dict(yaml.safe_load(entra_only.outputs["kubeconfig"]))
    assert list(api.configuration.api_key.values()) == ["Bearer entra-token"]
    assert (tmp_path / "called").read_text().startswith("azurecli get-token --server-id")


def test_switching_entra_id_off_again_is_refused_before_the_update():
    import pulumi

    from components.cluster import refuse_irreversible_changes

    def hook(old: dict, new: dict) -> None:
        refuse_irreversible_changes(
            pulumi.ResourceHookArgs(
                urn="urn", id="id", name="cluster-aks", type=CLUSTER, old_outputs=old, new_inputs=new
            )
        )

    with pytest.raises(ValueError, match=r"^acr-streaming-ab:cluster.localAccounts: false -> true is refused"):
        hook({"aadProfile": {"managed": True}}, {})
    hook({"aadProfile": {"managed": True}}, {"aadProfile": {"managed": True}})
    hook({}, {"aadProfile": {"managed": True}})
