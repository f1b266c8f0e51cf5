"""The AKS cluster, its inline system pool and the experiment pools, with the rules each pool obeys."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StrictBool, StrictInt, StrictStr, model_validator

from contract import (
    LABEL_POOL,
    LABEL_STREAMING,
    OS_GUARD_SKUS,
    RESERVED_LABEL_PREFIX,
    SANDBOX_RUNTIMES,
    STREAMING_OS_SKUS,
    SYSTEM_POOL_NAME,
    pool_taint,
)
from stackconfig import fields as f
from stackconfig.base import ConfigModel, Problems, raise_if
from stackconfig.errors import problem
from stackconfig.vm_sizes import VmSize, ephemeral_os_capacity_gib, parse_vm_size

LINUX_OS_SKUS = (
    "Ubuntu",
    "Ubuntu2204",
    "Ubuntu2404",
    "AzureLinux",
    "AzureLinux3",
    "AzureLinuxOSGuard",
    "AzureLinux3OSGuard",
)
# Accepted by name so the streaming rule can explain itself, but the agent-pool API the pools are
# declared with (2026-08-01) has no such values: refused for every pool before ARM would refuse them.
NOT_IN_POOL_API = {"AzureLinuxOSGuard", "AzureLinux3OSGuard", "KataMshvVmIsolation"}
# The system pool is declared inline in the managed cluster: only the SKUs its API has.
SYSTEM_POOL_OS_SKUS = tuple(sku for sku in LINUX_OS_SKUS if sku not in NOT_IN_POOL_API)


# What the pull-check Job runs by default (cluster.pullCheckImage), added to a stack's images when it
# lists none of that name: Microsoft's copy of Docker's hello-world, FROM scratch with one static binary,
# so it shares no layer with a measured image. Not streamed: it proves the kubelet can pull, nothing more.
DEFAULT_PULL_CHECK_IMAGE_NAME = "hello-world"
DEFAULT_PULL_CHECK_IMAGE = {
    "name": DEFAULT_PULL_CHECK_IMAGE_NAME,
    "source": "mcr.microsoft.com/hello-world:latest",
    "target": "library/hello-world:latest",
    "streaming": False,
}


def _object_id(value: str) -> str:
    try:
        return str(uuid.UUID(value)) if len(value) == 36 else _not_a_guid(value)
    except ValueError:
        return _not_a_guid(value)


def _not_a_guid(value: str) -> str:
    raise problem(
        f"{value!r} is not an Entra ID object id; allowed: a GUID such as 00000000-0000-0000-0000-000000000000 "
        "(`az ad signed-in-user show --query id`, `az ad sp show --id <appId> --query id`)"
    )


# Lower-cased, so the same principal written twice is one assignment, named the same on every run.
EntraObjectId = Annotated[StrictStr, AfterValidator(_object_id)]


class SystemPoolConfig(ConfigModel):
    vm_size: f.VmSizeName = Field("Standard_D4ds_v5", alias="vmSize", description="VM size of the system pool.")
    count: f.SystemPoolCount = Field(1, description="Nodes, 1-1000.")
    os_sku: Literal[SYSTEM_POOL_OS_SKUS] = Field("Ubuntu", alias="osSku", description="Node OS image.")  # type: ignore[valid-type]


class ClusterConfig(ConfigModel):
    kubernetes_version: f.KubernetesVersion | None = Field(
        None,
        alias="kubernetesVersion",
        description=f"`1.MINOR` or `1.MINOR.PATCH`, at least 1.{f.MIN_KUBERNETES_MINOR}; default: none sent, "
        "AKS picks its default version in the region (a pinned default would expire).",
    )
    system_pool: SystemPoolConfig = Field(
        default_factory=SystemPoolConfig, alias="systemPool", description="The inline system pool (runs no experiment)."
    )
    pull_mode: Literal["attach", "token"] = Field(
        "attach",
        alias="pullMode",
        description="`attach`: AcrPull "
        "for the kubelet identity; `token`: a registry token and a "
        "pull secret (no streaming; without the right to assign roles, prefer acrPull: external).",
    )
    acr_pull: Literal["assign", "external"] = Field(
        "assign",
        alias="acrPull",
        description="With pullMode `attach`: `assign`, the stack assigns AcrPull to the kubelet identity (needs "
        "the right to create role assignments); `external`, it declares none and exports `acrPullCommand` "
        "for an administrator, and the first rollout waits for the assignment (the pull check).",
    )
    pull_check_image: f.ImageName = Field(
        DEFAULT_PULL_CHECK_IMAGE_NAME,
        alias="pullCheckImage",
        description="Image (by name) the pull-check Job runs on every experiment pool before the first rollout; "
        "it must share no layer with a measured image, so no workload or synthetic image may use it. The "
        "default, hello-world (mcr.microsoft.com/hello-world: FROM scratch, one static binary), joins "
        "`images` when they list no image of that name.",
    )
    oidc_issuer: StrictBool = Field(
        False, alias="oidcIssuer", description="Enable the cluster's OIDC issuer (once on, AKS cannot switch it off)."
    )
    local_accounts: StrictBool = Field(
        True,
        alias="localAccounts",
        description="`false`: Entra ID with Azure RBAC only, no local admin (the kubeconfig output then runs "
        "kubelogin; docs/operations.md says what to install). Default true: the lab needs no extra tool.",
    )
    authorized_ip_ranges: f.AuthorizedIpRanges = Field(
        (),
        alias="authorizedIpRanges",
        description="Who may reach the API server (CIDRs, each once, at most 200); empty: anyone (AKS default). "
        "Include the addresses `pulumi up` and `timing` run from.",
    )
    sku_tier: Literal["Free", "Standard"] = Field("Free", alias="skuTier", description="AKS control-plane tier.")
    admin_object_ids: tuple[EntraObjectId, ...] = Field(
        (),
        alias="adminObjectIds",
        description="With localAccounts false: the Entra ID object ids (users, groups, service principals) "
        "given AKS RBAC Cluster Admin, one assignment each. Empty: whoever runs `pulumi up`, so another "
        "runner (CI, a colleague) replaces that assignment and revokes the previous one; list every deployer "
        "here to keep them all (docs/operations.md).",
    )
    network_policy: Literal["cilium", "none"] = Field(
        "cilium",
        alias="networkPolicy",
        description="`cilium`: Azure CNI overlay with the Cilium dataplane, which enforces the workload "
        "namespace's NetworkPolicies; `none`: no network profile declared (AKS's default networking, as "
        "clusters created before this key had) and no NetworkPolicies. Changing it replaces the cluster.",
    )

    @model_validator(mode="after")
    def _admins(self) -> ClusterConfig:
        found: Problems = []
        if self.admin_object_ids and self.local_accounts:
            found.append(
                (
                    ("adminObjectIds",),
                    "cluster admins are assigned only on an Entra ID cluster; allowed: with localAccounts: false",
                )
            )
        if len(set(self.admin_object_ids)) != len(self.admin_object_ids):
            found.append((("adminObjectIds",), "an object id is listed twice; allowed: each principal once"))
        raise_if(found)
        return self


class PoolConfig(ConfigModel):
    """One experiment pool; streaming and standard arms are built from the same fields."""

    name: f.PoolName = Field(description="AKS pool name.")
    vm_size: StrictStr = Field(alias="vmSize", description="VM size; AMD64 only.")
    os_disk_type: Literal["Managed", "Ephemeral"] = Field("Managed", alias="osDiskType", description="OS disk.")
    os_disk_size_gb: StrictInt | None = Field(
        None, alias="osDiskSizeGB", description="30-2048; Ephemeral defaults to min(128, the size's local disk)."
    )
    os_sku: StrictStr = Field("Ubuntu", alias="osSku", description="Node OS image.")
    count: StrictInt = Field(1, description="Nodes, 0-1000 (0 parks the pool).")
    artifact_streaming: StrictBool = Field(alias="artifactStreaming", description="Enable artifact streaming.")
    labels: dict[StrictStr, StrictStr] = Field(
        default_factory=dict, description=f"Extra node labels (not under `{RESERVED_LABEL_PREFIX}`)."
    )
    workload_runtime: Literal["OCIContainer", "KataMshvVmIsolation", "KataVmIsolation"] = Field(
        "OCIContainer", alias="workloadRuntime", description="Container runtime of the pool."
    )

    @property
    def taint(self) -> str:
        return pool_taint(self.name)

    @property
    def node_labels(self) -> dict[str, str]:
        """User labels plus the pool and streaming labels timing and the manifests select on."""
        return {**self.labels, LABEL_POOL: self.name, LABEL_STREAMING: str(self.artifact_streaming).lower()}

    @model_validator(mode="after")
    def _rules(self) -> PoolConfig:
        found: Problems = []
        who = f"pool {self.name!r}"

        def bad(key: str, message: str) -> None:
            found.append(((key,), f"{who}: {message}"))

        if self.name == SYSTEM_POOL_NAME:
            bad("name", f"{self.name!r} is the system pool's name; allowed: any other pool name")
        if not 0 <= self.count <= 1000:
            bad("count", f"{self.count} is out of range; allowed: 0-1000 (0 parks the pool)")
        if self.os_sku not in LINUX_OS_SKUS:
            bad(
                "osSku",
                f"{self.os_sku!r} is not a Linux node image the experiment images can run on; "
                f"allowed: {', '.join(LINUX_OS_SKUS)}",
            )
        size: VmSize | None = None
        try:
            size = parse_vm_size(self.vm_size)
        except ValueError as error:
            bad("vmSize", str(error))
        if size is not None and size.is_arm64 and not self.artifact_streaming:
            # The experiment images are linux/amd64 (seed 002): an Arm64 standard arm could not run them.
            bad(
                "vmSize",
                f"{self.vm_size} is an Arm64 size; the experiment images are AMD64, so every experiment "
                "pool needs an AMD64 size (e.g. Standard_D4ds_v5)",
            )
        if not self.artifact_streaming:
            for key, value in (("osSku", self.os_sku), ("workloadRuntime", self.workload_runtime)):
                if value in NOT_IN_POOL_API:
                    bad(
                        key,
                        f"{value!r} is not available in the AKS agent-pool API 2026-08-01 this project "
                        "declares pools with",
                    )
        else:
            self._streaming_rules(size, bad)
        disk_size = self._disk_size(size, bad)
        for label_key, value in self.labels.items():
            domain = f.reserved_label_domain(label_key)
            if not f.LABEL_KEY_RE.fullmatch(label_key) or label_key.startswith(RESERVED_LABEL_PREFIX) or domain:
                bad(
                    "labels",
                    f"label key {label_key!r} is invalid or reserved"
                    + (
                        f" ({domain} belongs to {'AKS' if domain == 'kubernetes.azure.com' else 'Kubernetes'})"
                        if domain
                        else ""
                    )
                    + f"; allowed: Kubernetes label keys outside {RESERVED_LABEL_PREFIX}, "
                    + ", ".join(f.RESERVED_LABEL_DOMAINS),
                )
            if not f.is_label_value(value):
                bad("labels", f"label value {value!r} is not a Kubernetes label value")
        raise_if(found)
        return self if disk_size == self.os_disk_size_gb else self.model_copy(update={"os_disk_size_gb": disk_size})

    def _streaming_rules(self, size: VmSize | None, bad) -> None:
        if self.os_sku in OS_GUARD_SKUS or self.os_sku not in STREAMING_OS_SKUS:
            bad(
                "osSku",
                f"artifact streaming does not support {self.os_sku!r}; allowed for a streaming pool: "
                f"{', '.join(STREAMING_OS_SKUS)}",
            )
        if self.workload_runtime in SANDBOX_RUNTIMES:
            bad(
                "workloadRuntime",
                f"artifact streaming does not support pod sandboxing ({self.workload_runtime}); "
                "allowed for a streaming pool: OCIContainer",
            )
        if size is None:
            return
        if size.is_arm64:
            bad(
                "vmSize",
                f"{self.vm_size} is an Arm64 size; artifact streaming supports AMD64 only (sizes without "
                "'p' in their features, e.g. Standard_D4ds_v5)",
            )
        if size.is_confidential:
            bad(
                "vmSize",
                f"{self.vm_size} is a confidential VM size; artifact streaming does not support "
                "confidential VMs (DCas/DCads/ECas/ECads/DCes/ECes families)",
            )
        if size.is_gen1_only:
            bad(
                "vmSize",
                f"{self.vm_size} runs Generation 1 VMs only; artifact streaming needs Generation 2 "
                "(e.g. Standard_D2_v5)",
            )

    def _disk_size(self, size: VmSize | None, bad) -> int | None:
        disk_size = self.os_disk_size_gb
        if disk_size is not None and not 30 <= disk_size <= 2048:
            bad("osDiskSizeGB", f"{disk_size} is out of range; allowed: 30-2048")
        if self.os_disk_type != "Ephemeral" or size is None:
            return disk_size
        capacity = ephemeral_os_capacity_gib(size)
        if capacity is None:
            if not size.has_local_disk:
                bad(
                    "osDiskType",
                    f"{self.vm_size} has no local (cache or temp) disk to hold an Ephemeral OS disk; "
                    "allowed: Managed, or a size with local disk such as Standard_D4ds_v5",
                )
            elif disk_size is None:
                bad(
                    "osDiskSizeGB",
                    f"the local disk size of {self.vm_size} is not in this project's table, so an "
                    "Ephemeral OS disk needs an explicit osDiskSizeGB that you know fits it",
                )
            return disk_size
        if disk_size is None:
            return min(128, capacity)
        if disk_size > capacity:
            bad(
                "osDiskSizeGB",
                f"an Ephemeral OS disk of {disk_size} GB does not fit the {capacity} GiB local disk "
                f"of {self.vm_size}; allowed: 30-{capacity}",
            )
        return disk_size
