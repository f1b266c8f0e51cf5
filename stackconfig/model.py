"""The stack configuration: frozen pydantic models, one per config object, with their rules.

Field types come from `fields.py`; rules that span fields are model validators, which also resolve
defaults that depend on other values (image and arm names, the Ephemeral OS disk size, parked pools).
Every key's documentation is its `description`: `docs/configuration.md` is generated from it.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, model_validator
from pydantic.fields import FieldInfo

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
from stackconfig.errors import Path, key_of, problems
from stackconfig.vm_sizes import VmSize, ephemeral_os_capacity_gib, parse_vm_size

# Docker refuses images deeper than 127 layers; the base image brings at least one.
MAX_SYNTHETIC_LAYERS = 120
# ACR task agents hold the filled layers twice (build + push); the blog's image is 5 000 MB.
MAX_SYNTHETIC_IMAGE_MB = 20_000

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
# What the two arms of one pair must share, so only artifact streaming tells them apart.
PAIR_IDENTICAL = (
    ("vmSize", "vm_size"),
    ("osDiskType", "os_disk_type"),
    ("osDiskSizeGB", "os_disk_size_gb"),
    ("osSku", "os_sku"),
    ("workloadRuntime", "workload_runtime"),
    ("count", "count"),
)

Problems = list[tuple[Path, str]]


def _raise_if(found: Problems) -> None:
    if found:
        raise problems(found)


def default_image_name(target: str) -> str:
    """`azure-vote-front:v1` -> `azure-vote-front-v1`: unique because targets are unique."""
    return re.sub(r"[^a-z0-9-]+", "-", target.lower()).strip("-")


def object_names(template: str, arm: str) -> tuple[str, ...]:
    """Deployment/Service names an arm declares (components/manifests.py names them the same way)."""
    return (f"{arm}-front", f"{arm}-back") if template == "azure-vote" else (arm,)


def is_derived(field: FieldInfo) -> bool:
    """Resolved by a validator from other keys; never read from a stack file."""
    extra = field.json_schema_extra
    return isinstance(extra, dict) and bool(extra.get("derived"))


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=False)

    @model_validator(mode="before")
    @classmethod
    def _no_derived_keys(cls, data: Any) -> Any:
        # Derived fields are resolved by the validators below; a stack file may not set them.
        if isinstance(data, dict):
            derived = [n for n, fi in cls.model_fields.items() if is_derived(fi)]
            found = [((key,), "unknown key") for key in derived if key in data]
            _raise_if(found)
        return data


class _InRegistry(_Model):
    target: f.RegistryTarget = Field(description="`repo:tag` inside the registry.")

    @property
    def repository(self) -> str:
        return self.target.rsplit(":", 1)[0]

    @property
    def tag(self) -> str:
        return self.target.rsplit(":", 1)[1]


class ImageConfig(_InRegistry):
    """An image imported from a public registry."""

    name: f.ImageName = Field("", description="Key in the `images` output; default: the target with `:`/`/` as `-`.")
    source: f.ImageSource = Field(description="Public reference to import, `registry/repo:tag` or `@sha256:`.")
    streaming: StrictBool = Field(True, description="Create and confirm a streaming artifact for it.")

    @model_validator(mode="after")
    def _default_name(self) -> ImageConfig:
        return self if self.name else self.model_copy(update={"name": default_image_name(self.target)})


class SyntheticImageConfig(_InRegistry):
    """An image built in the registry by an ACR task: filled (`sizeMb` + `layers`) or a squashed copy."""

    name: f.ImageName = Field("", description="Key in the `images` output; empty: from the target.")
    streaming: StrictBool = Field(True, description="Create and confirm a streaming artifact for it.")
    size_mb: StrictInt | None = Field(
        None, alias="sizeMb", description=f"Filled images: payload size in MB, 1-{MAX_SYNTHETIC_IMAGE_MB}."
    )
    layers: StrictInt | None = Field(
        None, description=f"Filled images: layers to spread it over, 1-{MAX_SYNTHETIC_LAYERS}."
    )
    fill: Literal["zero", "random"] = Field(
        "random",
        description="`zero` compresses to almost nothing (the blog's image); `random` makes the network part real.",
    )
    base_image: StrictStr = Field(
        "mcr.microsoft.com/azurelinux/base/core:3.0",
        alias="baseImage",
        description="A configured image name, or a full image reference.",
    )
    squash_of: StrictStr | None = Field(
        None,
        alias="squashOf",
        description="Name of a configured image to copy into a single layer (instead of sizeMb/layers).",
    )
    startup_read_mb: StrictInt | None = Field(
        None,
        alias="startupReadMb",
        description="Filled images: MB of the payload the container reads before it reports ready "
        "(default: all of it; 0 = the blog's bare start).",
    )
    tools_image: StrictStr = Field(
        "busybox",
        alias="toolsImage",
        description="Filled images: the image whose static /bin/busybox runs the start-up read and the "
        "readiness endpoint (a configured image name, or a full image reference).",
    )

    @model_validator(mode="after")
    def _default_name(self) -> SyntheticImageConfig:
        return self if self.name else self.model_copy(update={"name": default_image_name(self.target)})

    @property
    def read_mb(self) -> int | None:
        """MB read at start-up (filled images only): the configured share, else the whole payload."""
        if self.squash_of is not None:
            return None
        return self.startup_read_mb if self.startup_read_mb is not None else self.size_mb

    def shape_problems(self) -> Problems:
        """Filled or squashed, never both (checked with the stack, so that its other rules run too)."""
        found: Problems = []
        if self.squash_of is not None:
            if self.size_mb is not None or self.layers is not None:
                found.append(((), "give either squashOf or sizeMb+layers, not both"))
            if self.startup_read_mb is not None:
                found.append(
                    (
                        ("startupReadMb",),
                        "a squashed copy keeps its source's own start command; allowed: only on filled images",
                    )
                )
        else:
            if self.layers is None or not 1 <= self.layers <= MAX_SYNTHETIC_LAYERS:
                found.append(
                    (("layers",), f"{self.layers!r} layers cannot be built; allowed: 1-{MAX_SYNTHETIC_LAYERS}")
                )
            if self.size_mb is None or not 1 <= self.size_mb <= MAX_SYNTHETIC_IMAGE_MB:
                found.append((("sizeMb",), f"{self.size_mb!r} MB cannot be built; allowed: 1-{MAX_SYNTHETIC_IMAGE_MB}"))
            elif self.startup_read_mb is not None and not 0 <= self.startup_read_mb <= self.size_mb:
                found.append(
                    (
                        ("startupReadMb",),
                        f"{self.startup_read_mb} MB cannot be read from a {self.size_mb} MB payload; "
                        f"allowed: 0-{self.size_mb}",
                    )
                )
            if self.size_mb is not None and self.layers and self.layers >= 1 and self.size_mb < self.layers:
                found.append(
                    (
                        ("sizeMb",),
                        f"{self.size_mb} MB cannot be split into {self.layers} layers of at "
                        "least 1 MB; allowed: sizeMb >= layers",
                    )
                )
        return found


class RegistryConfig(_Model):
    sku: Literal["Basic", "Standard", "Premium"] = Field("Premium", description="Artifact streaming needs Premium.")
    existing_resource_group: f.ResourceGroupName | None = Field(
        None, alias="existingResourceGroup", description="Deploy into this resource group instead of creating one."
    )
    auto_convert_repositories: tuple[f.RepositoryName, ...] = Field(
        (), alias="autoConvertRepositories", description="Repositories whose every pushed image ACR converts."
    )
    protect: StrictBool | None = Field(
        None,
        description="Pulumi `protect` on the registry (a destroy stops instead of deleting it); default: "
        "true in a registry stack (role: registry), false in an all-in-one stack.",
    )


class SystemPoolConfig(_Model):
    vm_size: f.VmSizeName = Field("Standard_D4ds_v5", alias="vmSize", description="VM size of the system pool.")
    count: f.SystemPoolCount = Field(1, description="Nodes, 1-1000.")
    os_sku: Literal[SYSTEM_POOL_OS_SKUS] = Field("Ubuntu", alias="osSku", description="Node OS image.")  # type: ignore[valid-type]


class ClusterConfig(_Model):
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
        "pull secret (no streaming).",
    )
    oidc_issuer: StrictBool = Field(False, alias="oidcIssuer", description="Enable the cluster's OIDC issuer.")
    sku_tier: Literal["Free", "Standard"] = Field("Free", alias="skuTier", description="AKS control-plane tier.")


class PoolConfig(_Model):
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
        _raise_if(found)
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


class ArmConfig(_Model):
    """One side of a comparison: a workload on one pool."""

    name: StrictStr = Field("", description="Global arm name; empty: `<workload>-<pool>`.")
    pool: StrictStr = Field(description="The experiment pool it runs on.")
    pair: f.LabelValue = Field("default", description="Arms of one pair are compared with each other.")
    # Resolved from the enclosing workload and the pool; never read from a stack file.
    workload: StrictStr = Field("", exclude=True, json_schema_extra={"derived": True})
    streaming: StrictBool = Field(False, exclude=True, json_schema_extra={"derived": True})


class ResourcesConfig(_Model):
    cpu_request: f.CpuQuantity = Field("100m", alias="cpuRequest", description="Per container.")
    memory_request: f.MemoryQuantity = Field("128Mi", alias="memoryRequest", description="Per container.")
    cpu_limit: f.CpuQuantity = Field("250m", alias="cpuLimit", description="Per container.")
    memory_limit: f.MemoryQuantity = Field("256Mi", alias="memoryLimit", description="Per container.")

    @model_validator(mode="after")
    def _requests_within_limits(self) -> ResourcesConfig:
        found: Problems = []
        values = self.model_dump(by_alias=True)
        for request, limit, parse in (
            ("cpuRequest", "cpuLimit", f.cpu_millicores),
            ("memoryRequest", "memoryLimit", f.memory_bytes),
        ):
            if (parse(values[request]) or 0) > (parse(values[limit]) or 0):
                found.append(((request,), f"request exceeds {limit}; allowed: a request no larger than its limit"))
        _raise_if(found)
        return self


class WorkloadConfig(_Model):
    """An A/B workload: the same image on every arm, by the same reference."""

    name: f.WorkloadName = Field(description="Workload name.")
    template: Literal["azure-vote", "single"] = Field(
        description="`azure-vote` (front + redis, a Service per arm) or `single` (one container)."
    )
    image: StrictStr = Field(description="Name of an image or synthetic image.")
    backend_image: StrictStr | None = Field(
        None, alias="backendImage", description="azure-vote: the redis image's name."
    )
    replicas: f.Replicas = Field(1, description="Pods per arm, 1-1000.")
    port: f.Port | None = Field(None, description="Port served; azure-vote defaults to 80.")
    image_reference: Literal["tag", "digest"] = Field(
        "tag",
        alias="imageReference",
        description="How every arm references the image; artifact streaming works only for pulls by tag.",
    )
    startup_read_mb: StrictInt | None = Field(
        None,
        alias="startupReadMb",
        description="Synthetic filled images: MB to read before ready, for this workload only "
        "(default: the image's startupReadMb).",
    )
    resources: ResourcesConfig = Field(default_factory=ResourcesConfig, description="Requests and limits.")
    arms: tuple[ArmConfig, ...] = Field(description="At least one streaming and one standard arm per pair.")

    @model_validator(mode="after")
    def _arms(self) -> WorkloadConfig:
        found: Problems = []
        if self.template == "azure-vote" and self.backend_image is None:
            found.append((("backendImage",), "the azure-vote template needs its redis back-end image"))
        elif self.template != "azure-vote" and self.backend_image is not None:
            found.append((("backendImage",), "only the azure-vote template has a back-end; remove the key"))
        if not self.arms:
            found.append(
                (("arms",), "a workload needs arms to compare; allowed: at least one streaming and one standard arm")
            )
        arms = []
        for j, arm in enumerate(self.arms):
            name = arm.name or f"{self.name}-{arm.pool}"
            if not f.OBJECT_NAME_RE.fullmatch(name) or len(name) > 40:
                found.append(
                    (
                        ("arms", j, "name"),
                        f"{name!r} is not an arm name; allowed: a lowercase letter, then "
                        "lowercase letters, digits and '-', at most 40",
                    )
                )
            arms.append(arm.model_copy(update={"name": name, "workload": self.name}))
        _raise_if(found)
        port = self.port if self.port is not None else (80 if self.template == "azure-vote" else None)
        return self.model_copy(update={"arms": tuple(arms), "port": port})


class TimeoutsConfig(_Model):
    import_minutes: f.TimeoutMinutes = Field(30, alias="importMinutes", description="Per image import.")
    conversion_minutes: f.TimeoutMinutes = Field(60, alias="conversionMinutes", description="Per streaming conversion.")
    build_minutes: f.TimeoutMinutes = Field(60, alias="buildMinutes", description="Per ACR task build.")
    pool_minutes: f.TimeoutMinutes = Field(45, alias="poolMinutes", description="Per agent-pool operation.")


class StackConfig(_Model):
    """Everything one stack declares. Keys are camelCase under the `acr-streaming-ab:` namespace."""

    scenario: StrictStr = Field(description="Which seed experiment's defaults to start from.")
    location: f.Location = Field(description="Azure region, e.g. westus3.")
    name_prefix: f.NamePrefix = Field("streamab", alias="namePrefix", description="Prefix of resource names.")
    role: Literal["all-in-one", "registry"] = Field(
        "all-in-one",
        description="`all-in-one`: registry, cluster and workloads in one stack; `registry`: the registry side "
        "only (images, builds, streaming artifacts), shared by experiment stacks through registryStack.",
    )
    registry_stack: f.StackReferenceName | None = Field(
        None,
        alias="registryStack",
        description="Make this an experiment stack: cluster, pools and workloads only, the registry and its "
        "images taken from this `organization/project/stack` (a stack with role: registry).",
    )
    registry: RegistryConfig = Field(default_factory=RegistryConfig, description="The registry.")
    images: tuple[ImageConfig, ...] = Field(description="Images imported into the registry.")
    synthetic_images: tuple[SyntheticImageConfig, ...] = Field(
        (), alias="syntheticImages", description="Images built in the registry."
    )
    cluster: ClusterConfig = Field(default_factory=ClusterConfig, description="The AKS cluster.")
    pools: tuple[PoolConfig, ...] = Field((), description="Experiment pools (none in a registry stack).")
    workloads: tuple[WorkloadConfig, ...] = Field((), description="A/B workloads (after validation: the active ones).")
    active_workloads: tuple[StrictStr, ...] | None = Field(
        None, alias="activeWorkloads", description="Which workloads run; default all."
    )
    workload_namespace: f.Namespace = Field(
        "streaming-ab", alias="workloadNamespace", description="Namespace of the workloads."
    )
    load_balancer_source_ranges: tuple[f.Cidr, ...] = Field(
        (),
        alias="loadBalancerSourceRanges",
        description="Who may reach the azure-vote front ends; setting it makes them LoadBalancers open to these ranges.",
    )
    public_endpoints: StrictBool = Field(
        False,
        alias="publicEndpoints",
        description="azure-vote front ends as LoadBalancers open to the internet; default: ClusterIP "
        "(`kubectl port-forward`), unless loadBalancerSourceRanges is set.",
    )
    cache_generation: f.CacheGeneration = Field(
        0, alias="cacheGeneration", description="Bump to recycle every experiment node (cold caches)."
    )
    parked: StrictBool = Field(False, description="Every experiment pool at 0 nodes, the pool list unchanged.")
    timeouts: TimeoutsConfig = Field(default_factory=TimeoutsConfig, description="How long to wait for Azure.")
    all_workload_names: tuple[str, ...] = Field((), exclude=True, json_schema_extra={"derived": True})

    @property
    def all_images(self) -> tuple[ImageConfig | SyntheticImageConfig, ...]:
        return (*self.images, *self.synthetic_images)

    @property
    def is_registry_stack(self) -> bool:
        return self.role == "registry"

    @property
    def is_experiment_stack(self) -> bool:
        return self.registry_stack is not None

    @property
    def protect_registry(self) -> bool:
        return self.registry.protect if self.registry.protect is not None else self.is_registry_stack

    @property
    def uses_streaming(self) -> bool:
        return any(p.artifact_streaming for p in self.pools) or any(i.streaming for i in self.all_images)

    def pool(self, name: str) -> PoolConfig:
        return next(p for p in self.pools if p.name == name)

    def image_names(self) -> tuple[str, ...]:
        return tuple(i.name for i in self.all_images)

    def used_image_names(self) -> set[str]:
        """Images the active workloads run (what an experiment stack takes from its registry stack)."""
        return {name for w in self.workloads for name in (w.image, w.backend_image) if name}

    @model_validator(mode="after")
    def _across_keys(self) -> StackConfig:
        found: Problems = []
        self._check_role(found)
        self._check_images(found)
        self._check_auto_convert(found)
        if self.uses_streaming and self.registry.sku != "Premium" and not self.is_experiment_stack:
            found.append(
                (
                    ("registry", "sku"),
                    f"{self.registry.sku!r} does not support artifact streaming, which "
                    "this stack uses; allowed: Premium",
                )
            )
        if not self.is_registry_stack:
            self._check_pools(found)
        workloads = self._check_workloads(found)
        _raise_if(found)
        active = self.active_workloads if self.active_workloads is not None else [w.name for w in workloads]
        pools = self.pools
        if self.parked:
            pools = tuple(p.model_copy(update={"count": 0}) for p in pools)
        return self.model_copy(
            update={
                "pools": pools,
                "workloads": tuple(w for w in workloads if w.name in active),
                "all_workload_names": tuple(w.name for w in workloads),
            }
        )

    def _check_images(self, found: Problems) -> None:
        if not self.images:
            found.append(
                (("images",), "the image list is empty; allowed: at least one {source, target, streaming} entry")
            )
        targets: dict[str, str] = {}
        names: dict[str, str] = {}
        listed: tuple[tuple[str, tuple[ImageConfig | SyntheticImageConfig, ...]], ...] = (
            ("images", self.images),
            ("syntheticImages", self.synthetic_images),
        )
        for key, items in listed:
            for i, image in enumerate(items):
                _unique(found, targets, image.target, (key, i, "target"), "target")
                _unique(found, names, image.name, (key, i, "name"), "image name")
        imported = [i.name for i in self.images]
        for i, image in enumerate(self.synthetic_images):
            found.extend((("syntheticImages", i, *sub), message) for sub, message in image.shape_problems())
            if image.squash_of is not None and image.squash_of not in imported:
                found.append(
                    (
                        ("syntheticImages", i, "squashOf"),
                        f"{image.squash_of!r} is not a configured image; allowed: {', '.join(imported) or '(none)'}",
                    )
                )
            if image.squash_of is not None:
                continue
            # Both are pulled by the ACR task: a configured (imported) image, or a full reference.
            for key, value, allowed in (
                (
                    "toolsImage",
                    image.tools_image,
                    "the name of an imported busybox image (add {name: busybox, source: "
                    "docker.io/library/busybox:1.37, target: library/busybox:1.37} to images), or "
                    "registry/repo:tag of an image with a static /bin/busybox",
                ),
                (
                    "baseImage",
                    image.base_image,
                    "an image name such as alpine, or registry/repo:tag such as "
                    "mcr.microsoft.com/azurelinux/base/core:3.0",
                ),
            ):
                if value not in imported and not f.SOURCE_RE.fullmatch(value):
                    found.append(
                        (
                            ("syntheticImages", i, key),
                            f"{value!r} is neither a configured image nor an image reference; allowed: {allowed}",
                        )
                    )

    def _check_role(self, found: Problems) -> None:
        if self.is_registry_stack and self.is_experiment_stack:
            found.append(
                (
                    ("registryStack",),
                    "a stack is either the registry stack (role: registry) or an experiment stack that "
                    "references one (registryStack), not both; allowed: one of role: registry, registryStack",
                )
            )
        if self.is_registry_stack:
            for key, value in (("pools", self.pools), ("workloads", self.workloads)):
                if value:
                    found.append(
                        (
                            (key,),
                            "a registry stack (role: registry) declares no cluster, pools or workloads; "
                            "allowed: leave it out (experiment stacks set it, with registryStack)",
                        )
                    )
        elif self.registry.protect is not None and not self.is_registry_stack and self.is_experiment_stack:
            found.append(
                (
                    ("registry", "protect"),
                    "an experiment stack declares no registry to protect; allowed: set it in the registry stack",
                )
            )

    def _check_auto_convert(self, found: Problems) -> None:
        repositories = {i.repository for i in self.all_images}
        seen: dict[str, str] = {}
        for i, repository in enumerate(self.registry.auto_convert_repositories):
            path: Path = ("registry", "autoConvertRepositories", i)
            if repository not in repositories:
                found.append(
                    (
                        path,
                        f"{repository!r} receives no image from this stack, so the registry does not know it; "
                        f"allowed: {', '.join(sorted(repositories)) or '(no configured image)'}",
                    )
                )
            _unique(found, seen, repository.replace("/", "-"), path, "auto-conversion resource name")

    def _check_pools(self, found: Problems) -> None:
        if not self.pools:
            found.append(
                (("pools",), "no experiment pool is configured; allowed: at least one streaming and one standard pool")
            )
        seen: dict[str, str] = {}
        for i, pool in enumerate(self.pools):
            _unique(found, seen, pool.name, ("pools", i, "name"), "pool name")
            if self.cluster.pull_mode == "token" and pool.artifact_streaming:
                found.append(
                    (
                        ("pools", i, "artifactStreaming"),
                        f"pool {pool.name!r}: artifact streaming does not support pulls with Kubernetes "
                        "registry credentials (cluster.pullMode: token); allowed: false, or cluster.pullMode: "
                        "attach",
                    )
                )

    def _check_workloads(self, found: Problems) -> list[WorkloadConfig]:
        pools = {p.name: p for p in self.pools}
        images = sorted(self.image_names())
        workloads: list[WorkloadConfig] = []
        seen_workloads: dict[str, str] = {}
        seen_arms: dict[str, str] = {}
        seen_objects: dict[str, str] = {}
        for i, w in enumerate(self.workloads):
            key: Path = ("workloads", i)
            _unique(found, seen_workloads, w.name, (*key, "name"), "workload name")
            for field_key, image in (("image", w.image), ("backendImage", w.backend_image)):
                if image is not None and image not in images:
                    found.append(
                        ((*key, field_key), f"{image!r} is not a configured image; allowed: {', '.join(images)}")
                    )
            filled = {s.name: s for s in self.synthetic_images if s.squash_of is None}
            if w.startup_read_mb is not None:
                synthetic = filled.get(w.image)
                if synthetic is None:
                    found.append(
                        (
                            (*key, "startupReadMb"),
                            f"{w.image!r} is not a filled synthetic image, so it has no start-up read; "
                            f"allowed: only with {', '.join(sorted(filled)) or '(no filled synthetic image)'}",
                        )
                    )
                elif synthetic.size_mb is not None and not 0 <= w.startup_read_mb <= synthetic.size_mb:
                    found.append(
                        (
                            (*key, "startupReadMb"),
                            f"{w.startup_read_mb} MB cannot be read from the {synthetic.size_mb} MB image "
                            f"{w.image!r}; allowed: 0-{synthetic.size_mb}",
                        )
                    )
            arms = []
            for j, arm in enumerate(w.arms):
                _unique(found, seen_arms, arm.name, (*key, "arms", j, "name"), "arm name")
                pool = pools.get(arm.pool)
                if pool is None:
                    found.append(
                        (
                            (*key, "arms", j, "pool"),
                            f"{arm.pool!r} is not a configured pool; allowed: {', '.join(pools) or '(none)'}",
                        )
                    )
                    continue
                arms.append(arm.model_copy(update={"streaming": pool.artifact_streaming}))
            if w.image_reference == "digest" and any(a.streaming for a in arms):
                found.append(
                    (
                        (*key, "imageReference"),
                        f"workload {w.name!r} has an arm on a streaming pool, and artifact streaming works "
                        "only for pulls by tag (a digest reference pulls the whole image); allowed: tag",
                    )
                )
            for pair in sorted({a.pair for a in arms}):
                pair_pools = [pools[a.pool] for a in arms if a.pair == pair]
                differ = [
                    config_key
                    for config_key, attribute in PAIR_IDENTICAL
                    if len({getattr(p, attribute) for p in pair_pools}) > 1
                ]
                if differ:
                    found.append(
                        (
                            (*key, "arms"),
                            f"workload {w.name!r}, pair {pair!r}: its pools "
                            f"({', '.join(sorted({p.name for p in pair_pools}))}) differ in {', '.join(differ)}, so a "
                            "hardware difference would be credited to streaming; allowed: pools identical "
                            "except artifactStreaming",
                        )
                    )
            # In token pull mode no arm can stream (refused above), so there is nothing to pair.
            if self.cluster.pull_mode == "attach":
                for pair in sorted({a.pair for a in arms}):
                    sides = {a.streaming for a in arms if a.pair == pair}
                    if len(sides) < 2:
                        missing = (
                            "standard (artifactStreaming: false)"
                            if True in sides
                            else "streaming (artifactStreaming: true)"
                        )
                        found.append(
                            (
                                (*key, "arms"),
                                f"workload {w.name!r}, pair {pair!r}: no {missing} arm to "
                                "compare with; allowed: every pair has arms on both a "
                                "streaming and a standard pool",
                            )
                        )
            for arm in arms:
                for object_name in object_names(w.template, arm.name):
                    _unique(found, seen_objects, object_name, (*key, "arms"), "Kubernetes object name")
            workloads.append(w.model_copy(update={"arms": tuple(arms)}))
        names = [w.name for w in workloads]
        for i, name in enumerate(self.active_workloads or ()):
            if name not in names:
                found.append(
                    (("activeWorkloads", i), f"{name!r} is not a configured workload; allowed: {', '.join(names)}")
                )
        return workloads


def _unique(found: Problems, seen: dict[str, str], value: str, path: Path, what: str) -> None:
    if value in seen:
        found.append((path, f"duplicate {what} {value!r} (also at {seen[value]}); allowed: each {what} once"))
    else:
        seen[value] = key_of(path)
