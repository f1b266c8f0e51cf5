"""What the policy pack checks, as plain functions over property dicts.

Design notes: docs/operations.md ("policy/rules.py").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

REGISTRY = "azure-native:containerregistry:Registry"
CLUSTER = "azure-native:containerservice:ManagedCluster"
ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"
EXPERIMENT_POOL = "pulumi-python:dynamic/aks:ExperimentPool"
# Resources that exist only when the registry produces streaming artifacts.
STREAMING_RESOURCES = ("pulumi-python:dynamic/acr:StreamingArtifact", "pulumi-python:dynamic/acr:RepositoryStreaming")
STACK = "pulumi:pulumi:Stack"

# Same values as contract/__init__.py: the pack is published on its own, so it keeps tested copies.
ACR_PULL_ROLE_ID = "7f951dda-4ed3-4680-a7ca-43fe172d538d"
STREAMING_OS_SKUS = ("Ubuntu", "Ubuntu2204", "Ubuntu2404", "AzureLinux")
OS_GUARD_SKUS = ("AzureLinuxOSGuard", "AzureLinux3OSGuard")
SANDBOX_RUNTIMES = ("KataMshvVmIsolation", "KataVmIsolation")
# Same value as components/pool_body.py and docs/ARCHITECTURE.md.
SYSTEM_POOL_TAINT = "CriticalAddonsOnly=true:NoSchedule"

# Same grammar as stackconfig/vm_sizes.py: Standard_<family><vCPUs>[-<n>]<features>[_<accelerator>][_v<n>].
_VM_SIZE_RE = re.compile(
    r"^(?:Standard|Basic)_(?P<family>[A-Z]+)(?P<vcpus>\d+)(?:-\d+)?(?P<features>[a-z]*)"
    r"(?:_(?P<accelerator>[A-Z][A-Za-z0-9]*))?(?:_v(?P<version>\d+))?$"
)
_REGISTRY_ID_RE = re.compile(
    r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.ContainerRegistry/registries/[^/]+$",
    re.IGNORECASE,
)
# Top-level keys that only a kubeconfig has, in the YAML or JSON form AKS returns.
_KUBECONFIG_MARKERS = (
    re.compile(r"(^|\n)\s*kind:\s*Config\s*(\n|$)"),
    re.compile(r"\"kind\"\s*:\s*\"Config\""),
    re.compile(r"(client-certificate-data|client-key-data|certificate-authority-data)"),
)


@dataclass(frozen=True)
class Resource:
    """What a stack policy needs of one resource, whoever recorded it (engine or test harness)."""

    type: str
    urn: str
    name: str
    props: Mapping[str, Any]
    additional_secret_outputs: tuple[str, ...] = field(default=())


def vm_size_traits(name: str) -> tuple[bool, bool] | None:
    """(is Arm64, is confidential) for an Azure VM size name; None when the name is not one.

    Arm64: `p` among the feature letters (Ampere sizes such as Standard_D4pds_v5). Confidential: the
    DC/EC families with `a` (AMD SEV-SNP) or `e` (Intel TDX) features; DCsv2/DCsv3 are SGX enclave
    sizes that run as ordinary VMs.
    """
    match = _VM_SIZE_RE.match(name)
    if not match:
        return None
    features = match.group("features")
    confidential = match.group("family") in ("DC", "EC") and ("a" in features or "e" in features)
    return "p" in features, confidential


# --------------------------------------------------------------------------------------------------
# Resource policies (inputs of one resource)
# --------------------------------------------------------------------------------------------------
def registry_access_violations(props: Mapping[str, Any]) -> list[str]:
    """The registry accepts Entra ID identities only: no admin user, no anonymous pull.

    Both default to off in ARM; an explicit `true` (from any source) is the violation.
    """
    problems = []
    if props.get("adminUserEnabled") is True:
        problems.append(
            "the registry's admin user is enabled (adminUserEnabled: true); pulls must use "
            "the kubelet identity's AcrPull role or a scoped token, never the shared admin "
            "password"
        )
    if props.get("anonymousPullEnabled") is True:
        problems.append(
            "anonymous pull is enabled (anonymousPullEnabled: true); anyone could read the experiment images"
        )
    return problems


def streaming_pool_violations(props: Mapping[str, Any]) -> list[str]:
    """A pool with artifact streaming on must be a node streaming supports.

    Supported: Linux, AMD64, an Ubuntu or Azure Linux node image (not OS Guard), plain OCI containers
    (no Kata pod sandboxing), not a confidential VM. `props` are the ExperimentPool inputs, whose
    `properties` is the ARM agent pool body.
    """
    body = props.get("properties") or {}
    if not (body.get("artifactStreamingProfile") or {}).get("enabled"):
        return []
    pool = props.get("poolName") or props.get("name") or "?"
    problems = []
    os_type = body.get("osType", "Linux")  # AKS's default
    if os_type != "Linux":
        problems.append(f"pool {pool}: artifact streaming is Linux only (osType: {os_type})")
    os_sku = body.get("osSKU")
    if os_sku is not None and (os_sku in OS_GUARD_SKUS or os_sku not in STREAMING_OS_SKUS):
        problems.append(
            f"pool {pool}: artifact streaming does not support the {os_sku} node image; "
            f"allowed: {', '.join(STREAMING_OS_SKUS)}"
        )
    runtime = body.get("workloadRuntime")
    if runtime in SANDBOX_RUNTIMES:
        problems.append(
            f"pool {pool}: artifact streaming does not support pod sandboxing ({runtime}); allowed: OCIContainer"
        )
    vm_size = body.get("vmSize")
    traits = vm_size_traits(vm_size) if isinstance(vm_size, str) else None
    if traits is None:
        problems.append(
            f"pool {pool}: {vm_size!r} is not an Azure VM size name, so AMD64 and "
            "non-confidential cannot be established"
        )
    else:
        arm64, confidential = traits
        if arm64:
            problems.append(f"pool {pool}: {vm_size} is an Arm64 size; artifact streaming supports AMD64 only")
        if confidential:
            problems.append(
                f"pool {pool}: {vm_size} is a confidential VM size; artifact streaming does "
                "not support confidential VMs"
            )
    return problems


def system_pool_violations(props: Mapping[str, Any]) -> list[str]:
    """The cluster's system pool (inline in agentPoolProfiles) keeps workloads off with its taint."""
    system_pools = [p for p in (props.get("agentPoolProfiles") or []) if p.get("mode") == "System"]
    if not system_pools:
        return [
            "the cluster declares no System pool in agentPoolProfiles; the system pool must be inline "
            f"and tainted {SYSTEM_POOL_TAINT}"
        ]
    return [
        f"system pool {p.get('name', '?')} is not tainted {SYSTEM_POOL_TAINT} (nodeTaints: "
        f"{list(p.get('nodeTaints') or [])}); experiment pods could land on it and skew the A/B"
        for p in system_pools
        if SYSTEM_POOL_TAINT not in (p.get("nodeTaints") or [])
    ]


# --------------------------------------------------------------------------------------------------
# Stack policies (outputs of every resource)
# --------------------------------------------------------------------------------------------------
def streaming_in_use(resources: Iterable[Resource]) -> bool:
    for r in resources:
        if r.type in STREAMING_RESOURCES:
            return True
        if r.type == EXPERIMENT_POOL:
            body = r.props.get("properties") or {}
            if (body.get("artifactStreamingProfile") or {}).get("enabled"):
                return True
    return False


def premium_sku_violations(resources: list[Resource]) -> list[tuple[str, str]]:
    """Every registry is Premium when any pool streams or any streaming artifact exists."""
    if not streaming_in_use(resources):
        return []
    problems = []
    for r in resources:
        if r.type != REGISTRY:
            continue
        sku = (r.props.get("sku") or {}).get("name")
        if sku != "Premium":
            problems.append(
                (
                    r.urn,
                    f"registry {r.name} is {sku or 'without a SKU'}; artifact streaming, which "
                    "this stack uses, needs the Premium SKU",
                )
            )
    return problems


def _kubelet_object_id(cluster: Resource) -> str | None:
    kubelet = (cluster.props.get("identityProfile") or {}).get("kubeletidentity") or {}
    object_id = kubelet.get("objectId")
    return object_id.lower() if isinstance(object_id, str) and object_id else None


def kubelet_role_violations(resources: list[Resource]) -> list[tuple[str, str]]:
    """The kubelet identity holds AcrPull on the stack's registry and no other role anywhere.

    Role assignments are matched to a cluster through the cluster's kubelet identity
    (identityProfile.kubeletidentity.objectId == the assignment's principalId).
    """
    problems = []
    kubelets: dict[str, Resource] = {}
    for cluster in (r for r in resources if r.type == CLUSTER):
        object_id = _kubelet_object_id(cluster)
        if object_id is None:
            problems.append(
                (
                    cluster.urn,
                    f"cluster {cluster.name} has no kubelet identity "
                    "(identityProfile.kubeletidentity.objectId); image pulls must use a "
                    "managed kubelet identity with AcrPull",
                )
            )
        else:
            kubelets[object_id] = cluster
    registry_ids = {
        r.props["id"].lower()
        for r in resources
        if r.type == REGISTRY and isinstance(r.props.get("id"), str) and r.props.get("id")
    }
    for assignment in (r for r in resources if r.type == ROLE_ASSIGNMENT):
        principal = assignment.props.get("principalId")
        if not isinstance(principal, str) or principal.lower() not in kubelets:
            continue
        cluster = kubelets[principal.lower()]
        role = str(assignment.props.get("roleDefinitionId") or "")
        if role.rsplit("/", 1)[-1].lower() != ACR_PULL_ROLE_ID:
            problems.append(
                (
                    assignment.urn,
                    f"role assignment {assignment.name} grants {role or 'an unnamed role'} "
                    f"to the kubelet identity of cluster {cluster.name}; AcrPull "
                    f"({ACR_PULL_ROLE_ID}) is the only role it may hold",
                )
            )
            continue
        scope = str(assignment.props.get("scope") or "")
        on_registry = scope.lower() in registry_ids if registry_ids else bool(_REGISTRY_ID_RE.match(scope))
        if not on_registry:
            problems.append(
                (
                    assignment.urn,
                    f"role assignment {assignment.name} grants AcrPull at {scope or '?'}; "
                    "it must be scoped to the stack's registry, not a resource group "
                    "or subscription",
                )
            )
    return problems


def looks_like_kubeconfig(value: Any) -> bool:
    return isinstance(value, str) and any(marker.search(value) for marker in _KUBECONFIG_MARKERS)


def _kubeconfig_paths(value: Any, path: str) -> list[str]:
    if looks_like_kubeconfig(value):
        return [path]
    if isinstance(value, Mapping):
        return [p for key in value for p in _kubeconfig_paths(value[key], f"{path}.{key}")]
    if isinstance(value, (list, tuple)):
        return [p for i, item in enumerate(value) for p in _kubeconfig_paths(item, f"{path}[{i}]")]
    return []


def kubeconfig_output_violations(resources: list[Resource]) -> list[tuple[str, str]]:
    """The stack exports `kubeconfig`, and no other stack output carries kubeconfig material.

    Whether the `kubeconfig` output itself is a secret cannot be seen from a Python policy: the engine
    sends secrets to the analyzer marked as such, but pulumi-policy's analyzer server deserializes every
    property with the marker dropped before any policy runs (pulumi_policy/policy.py, `Analyze` and
    `AnalyzeStack` call `deserialize_properties(...)` without `proxy_secrets`). So this checks what can
    be checked (the export exists; no copy of a kubeconfig leaks in clear under another output) and
    tests/test_policy.py asserts the secret flag on the program's export under mocks.
    """
    problems = []
    # A registry stack (role: registry) has no cluster, so nothing to export; a copy still may not leak.
    has_cluster = any(r.type == CLUSTER for r in resources)
    for stack in (r for r in resources if r.type == STACK):
        keys = list(stack.props)  # iterating keys never touches values unknown during preview
        if has_cluster and "kubeconfig" not in keys:
            problems.append((stack.urn, "the stack does not export `kubeconfig` (docs/ARCHITECTURE.md, stack outputs)"))
        for key in keys:
            if key == "kubeconfig":
                continue
            for path in _kubeconfig_paths(stack.props[key], key):
                problems.append(
                    (
                        stack.urn,
                        f"stack output {path} carries a kubeconfig; export it only as the secret `kubeconfig` output",
                    )
                )
    return problems
