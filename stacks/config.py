"""Typed, validated stack configuration: the only place the program reads Pulumi config.

`load_stack_config()` reads every `acr-streaming-ab:*` key once, lays the stack's keys over the chosen
scenario's defaults (a stack key replaces the scenario's value for that key as a whole), and returns a
frozen `StackConfig`. Every problem is collected and raised together as one `ConfigError` before any
resource is declared, each line naming the full key (`acr-streaming-ab:images[1].source`) and what is
allowed there.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal, Mapping

import pulumi
import pydantic
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

from stacks import scenarios
from stacks.vm_sizes import VmSize, ephemeral_os_capacity_gib, parse_vm_size

PROJECT = "acr-streaming-ab"

# AcrPull, a built-in role with the same id in every tenant.
ACR_PULL_ROLE_ID = "7f951dda-4ed3-4680-a7ca-43fe172d538d"
# Artifact streaming's minimum (seed 002).
MIN_KUBERNETES_MINOR = 26
# The random suffix appended to the prefix to make the registry name globally unique.
REGISTRY_SUFFIX_LENGTH = 6
# Docker refuses images deeper than 127 layers; the base image brings at least one.
MAX_SYNTHETIC_LAYERS = 120
# ACR task build agents have to hold the filled layers twice (build + push); 20 000 MB is the largest
# image this project promises to build (the blog's image is 5 000 MB).
MAX_SYNTHETIC_IMAGE_MB = 20_000

LINUX_OS_SKUS = ("Ubuntu", "Ubuntu2204", "Ubuntu2404", "AzureLinux", "AzureLinux3", "AzureLinuxOSGuard",
                 "AzureLinux3OSGuard")
# Ubuntu2404 and AzureLinux3 are left out: artifact streaming support for them was still being rolled
# out (Azure/AKS#4948, AgentBaker#6993) when this was written.
STREAMING_OS_SKUS = ("Ubuntu", "Ubuntu2204", "AzureLinux")
OS_GUARD_SKUS = ("AzureLinuxOSGuard", "AzureLinux3OSGuard")
SANDBOX_RUNTIMES = ("KataMshvVmIsolation", "KataVmIsolation")
# Accepted by name so the streaming rule can explain itself, but the agent-pool API the pools are
# declared with (2026-08-01) has no such values: refused for every pool before ARM would refuse them.
NOT_IN_POOL_API = {"AzureLinuxOSGuard", "AzureLinux3OSGuard", "KataMshvVmIsolation"}
# The inline system pool's name; an experiment pool of that name would rewrite it as a User pool.
SYSTEM_POOL_NAME = "system"


class ConfigError(pulumi.RunError):
    """All configuration problems of a stack, one per line; raised before any resource exists.

    A RunError makes `pulumi up`/`preview` print just this message instead of a Python traceback.
    """

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(
            "invalid stack configuration (nothing was declared):\n" + "\n".join(f"  - {p}" for p in problems)
        )


# --------------------------------------------------------------------------------------------------
# Raw schema: shapes and types of what a stack file may say. Semantics are checked further down.
# --------------------------------------------------------------------------------------------------
class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=False, frozen=True)


class RawImage(_Model):
    name: StrictStr | None = None
    source: StrictStr
    target: StrictStr
    streaming: StrictBool = True


class RawSyntheticImage(_Model):
    name: StrictStr | None = None
    target: StrictStr
    streaming: StrictBool = True
    # Either a filled image (sizeMb + layers) ...
    size_mb: StrictInt | None = Field(None, alias="sizeMb")
    layers: StrictInt | None = None
    fill: Literal["zero", "random"] = "random"
    base_image: StrictStr = Field("mcr.microsoft.com/azurelinux/base/core:3.0", alias="baseImage")
    # `baseImage` is a full reference, or the name of a configured (imported) image to build FROM the
    # registry's own copy ... or the image is a single-layer copy of another configured image.
    squash_of: StrictStr | None = Field(None, alias="squashOf")


class RawRegistry(_Model):
    sku: Literal["Basic", "Standard", "Premium"] = "Premium"
    existing_resource_group: StrictStr | None = Field(None, alias="existingResourceGroup")
    auto_convert_repositories: list[StrictStr] = Field(default_factory=list, alias="autoConvertRepositories")


class RawSystemPool(_Model):
    vm_size: StrictStr = Field("Standard_D4ds_v5", alias="vmSize")
    count: StrictInt = 1
    os_sku: Literal[LINUX_OS_SKUS] = Field("Ubuntu", alias="osSku")  # type: ignore[valid-type]


class RawCluster(_Model):
    kubernetes_version: StrictStr = Field("1.33", alias="kubernetesVersion")
    system_pool: RawSystemPool = Field(default_factory=RawSystemPool, alias="systemPool")
    pull_mode: Literal["attach", "token"] = Field("attach", alias="pullMode")
    oidc_issuer: StrictBool = Field(False, alias="oidcIssuer")
    sku_tier: Literal["Free", "Standard"] = Field("Free", alias="skuTier")


class RawPool(_Model):
    name: StrictStr
    vm_size: StrictStr = Field(alias="vmSize")
    os_disk_type: Literal["Managed", "Ephemeral"] = Field("Managed", alias="osDiskType")
    os_disk_size_gb: StrictInt | None = Field(None, alias="osDiskSizeGB")
    os_sku: StrictStr = Field("Ubuntu", alias="osSku")
    count: StrictInt = 1
    artifact_streaming: StrictBool = Field(alias="artifactStreaming")
    labels: dict[StrictStr, StrictStr] = Field(default_factory=dict)
    workload_runtime: Literal["OCIContainer", "KataMshvVmIsolation", "KataVmIsolation"] = Field(
        "OCIContainer", alias="workloadRuntime"
    )


class RawArm(_Model):
    name: StrictStr | None = None
    pool: StrictStr
    pair: StrictStr = "default"


class RawResources(_Model):
    cpu_request: StrictStr = Field("100m", alias="cpuRequest")
    memory_request: StrictStr = Field("128Mi", alias="memoryRequest")
    cpu_limit: StrictStr = Field("250m", alias="cpuLimit")
    memory_limit: StrictStr = Field("256Mi", alias="memoryLimit")


class RawWorkload(_Model):
    name: StrictStr
    template: Literal["azure-vote", "single"]
    image: StrictStr
    backend_image: StrictStr | None = Field(None, alias="backendImage")
    replicas: StrictInt = 1
    port: StrictInt | None = None
    image_reference: Literal["tag", "digest"] = Field("tag", alias="imageReference")
    resources: RawResources = Field(default_factory=RawResources)
    arms: list[RawArm]


class RawTimeouts(_Model):
    import_minutes: StrictInt = Field(30, alias="importMinutes")
    conversion_minutes: StrictInt = Field(60, alias="conversionMinutes")
    build_minutes: StrictInt = Field(60, alias="buildMinutes")
    pool_minutes: StrictInt = Field(45, alias="poolMinutes")


class RawStackConfig(_Model):
    scenario: Literal[tuple(scenarios.SCENARIOS)]  # type: ignore[valid-type]
    location: StrictStr
    name_prefix: StrictStr = Field("streamab", alias="namePrefix")
    registry: RawRegistry = Field(default_factory=RawRegistry)
    images: list[RawImage]
    synthetic_images: list[RawSyntheticImage] = Field(default_factory=list, alias="syntheticImages")
    cluster: RawCluster = Field(default_factory=RawCluster)
    pools: list[RawPool]
    workloads: list[RawWorkload] = Field(default_factory=list)
    active_workloads: list[StrictStr] | None = Field(None, alias="activeWorkloads")
    workload_namespace: StrictStr = Field("streaming-ab", alias="workloadNamespace")
    load_balancer_source_ranges: list[StrictStr] = Field(default_factory=list, alias="loadBalancerSourceRanges")
    cache_generation: StrictInt = Field(0, alias="cacheGeneration")
    # Every experiment pool at 0 nodes (stop paying for them) without editing the pool list.
    parked: StrictBool = False
    timeouts: RawTimeouts = Field(default_factory=RawTimeouts)


CONFIG_KEYS = tuple(f.alias or name for name, f in RawStackConfig.model_fields.items())


# --------------------------------------------------------------------------------------------------
# Typed configuration handed to components.
# --------------------------------------------------------------------------------------------------
class _RegistryTarget:
    """`target` is `repo:tag` inside the registry (validated by TARGET_RE)."""

    target: str

    @property
    def repository(self) -> str:
        return self.target.rsplit(":", 1)[0]

    @property
    def tag(self) -> str:
        return self.target.rsplit(":", 1)[1]


@dataclass(frozen=True)
class ImageConfig(_RegistryTarget):
    name: str            # key of the `images` stack output, referenced by workloads
    source: str          # e.g. mcr.microsoft.com/azuredocs/azure-vote-front:v1
    target: str          # repo:tag inside the registry
    streaming: bool


@dataclass(frozen=True)
class SyntheticImageConfig(_RegistryTarget):
    name: str
    target: str
    streaming: bool
    size_mb: int | None      # set for filled images
    layers: int | None
    fill: str                # "zero" compresses to almost nothing (the blog's image); "random" does not
    base_image: str
    squash_of: str | None    # name of an ImageConfig copied into a single layer


@dataclass(frozen=True)
class RegistryConfig:
    sku: str
    existing_resource_group: str | None
    auto_convert_repositories: tuple[str, ...]


@dataclass(frozen=True)
class SystemPoolConfig:
    vm_size: str
    count: int
    os_sku: str


@dataclass(frozen=True)
class ClusterConfig:
    kubernetes_version: str
    system_pool: SystemPoolConfig
    pull_mode: str           # "attach" (AcrPull for the kubelet identity) | "token" (registry token + pull secret)
    oidc_issuer: bool
    sku_tier: str


@dataclass(frozen=True)
class PoolConfig:
    name: str
    vm_size: str
    os_disk_type: str        # Managed | Ephemeral
    os_disk_size_gb: int | None  # resolved: always set for Ephemeral (see stacks/vm_sizes.py)
    os_sku: str
    count: int                  # 0 when the stack is parked
    artifact_streaming: bool
    labels: Mapping[str, str]   # user labels plus streaming-ab/pool and streaming-ab/streaming
    workload_runtime: str

    @property
    def taint(self) -> str:
        return f"{POOL_LABEL}={self.name}:NoSchedule"


@dataclass(frozen=True)
class ArmConfig:
    name: str
    workload: str
    pool: str
    pair: str
    streaming: bool


@dataclass(frozen=True)
class ResourcesConfig:
    cpu_request: str
    memory_request: str
    cpu_limit: str
    memory_limit: str


@dataclass(frozen=True)
class WorkloadConfig:
    name: str
    template: str            # "azure-vote" (front + redis back, LoadBalancer) | "single" (one container)
    image: str               # name of an image or synthetic image
    backend_image: str | None
    replicas: int
    port: int | None
    image_reference: str     # "tag" | "digest"; both arms always use the same reference
    resources: ResourcesConfig
    arms: tuple[ArmConfig, ...]


@dataclass(frozen=True)
class TimeoutsConfig:
    import_minutes: int
    conversion_minutes: int
    build_minutes: int
    pool_minutes: int


@dataclass(frozen=True)
class StackConfig:
    scenario: str
    location: str
    name_prefix: str
    registry: RegistryConfig
    images: tuple[ImageConfig, ...]
    synthetic_images: tuple[SyntheticImageConfig, ...]
    cluster: ClusterConfig
    pools: tuple[PoolConfig, ...]
    workloads: tuple[WorkloadConfig, ...]   # only the active ones
    workload_namespace: str
    load_balancer_source_ranges: tuple[str, ...]
    cache_generation: int
    parked: bool
    timeouts: TimeoutsConfig
    all_workload_names: tuple[str, ...] = field(default=())

    @property
    def uses_streaming(self) -> bool:
        return any(p.artifact_streaming for p in self.pools) or any(
            i.streaming for i in (*self.images, *self.synthetic_images)
        )

    def pool(self, name: str) -> PoolConfig:
        return next(p for p in self.pools if p.name == name)

    def image_names(self) -> tuple[str, ...]:
        return tuple(i.name for i in (*self.images, *self.synthetic_images))


POOL_LABEL = "streaming-ab/pool"
STREAMING_LABEL = "streaming-ab/streaming"

# --------------------------------------------------------------------------------------------------
# Parsing and semantic checks
# --------------------------------------------------------------------------------------------------
_HOST = r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?"
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_REPO = rf"{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_TAG = r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}"
_DIGEST = r"sha256:[0-9a-f]{64}"
SOURCE_RE = re.compile(rf"^(?P<registry>{_HOST})/(?P<repo>{_REPO})(?::(?P<tag>{_TAG})|@(?P<digest>{_DIGEST}))$")
TARGET_RE = re.compile(rf"^(?P<repo>{_REPO}):(?P<tag>{_TAG})$")
PREFIX_RE = re.compile(r"^[a-z][a-z0-9]{0,%d}$" % (50 - REGISTRY_SUFFIX_LENGTH - 1))
POOL_NAME_RE = re.compile(r"^[a-z][a-z0-9]{0,11}$")
K8S_NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
# Workload and arm names end up in Service names, which must be DNS-1035 labels (start with a letter).
OBJECT_NAME_RE = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
CPU_RE = re.compile(r"^(\d+(?:\.\d+)?)(m?)$")
MEMORY_RE = re.compile(r"^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|K|M|G|T)?$")
_MEMORY_UNITS = {None: 1, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12,
                 "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}
LABEL_VALUE_RE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
LABEL_KEY_RE = re.compile(r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
                          r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
K8S_VERSION_RE = re.compile(r"^1\.(\d+)(?:\.(\d+))?$")
CIDR_RE = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}/\d{1,2}$")
LOCATION_RE = re.compile(r"^[a-z0-9]+$")


def _key(loc: tuple[Any, ...]) -> str:
    out = PROJECT + ":"
    first = True
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("" if first else ".") + str(part)
        first = False
    return out


def _pydantic_problems(error: pydantic.ValidationError) -> list[str]:
    problems = []
    for err in error.errors():
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith(("function-", "literal["))))
        if err["type"] == "extra_forbidden":
            parent = _key(loc[:-1]) if len(loc) > 1 else PROJECT
            problems.append(f"{_key(loc)}: unknown key under {parent}")
        elif err["type"] == "missing":
            problems.append(f"{_key(loc)}: required key is missing")
        else:
            problems.append(f"{_key(loc)}: {err['msg']} (got {json.dumps(err.get('input'), default=str)[:80]})")
    return problems


def default_image_name(target: str) -> str:
    """`azure-vote-front:v1` -> `azure-vote-front-v1`: unique because targets are unique."""
    return re.sub(r"[^a-z0-9-]+", "-", target.lower()).strip("-")


def parse_stack_config(stack_values: Mapping[str, Any]) -> StackConfig:
    """Validate plain config values (keys without the project prefix) laid over their scenario."""
    problems: list[str] = []
    scenario_name = stack_values.get("scenario", scenarios.DEFAULT_SCENARIO)
    if not isinstance(scenario_name, str) or scenario_name not in scenarios.SCENARIOS:
        raise ConfigError([
            f"{PROJECT}:scenario: unknown scenario {scenario_name!r}; allowed: {', '.join(scenarios.SCENARIOS)}"
        ])
    merged = {**scenarios.SCENARIOS[scenario_name], **stack_values, "scenario": scenario_name}
    try:
        raw = RawStackConfig.model_validate(merged)
    except pydantic.ValidationError as error:
        raise ConfigError(_pydantic_problems(error)) from None
    config = _check_semantics(raw, problems)
    if problems:
        raise ConfigError(problems)
    assert config is not None
    return config


def _check_semantics(raw: RawStackConfig, problems: list[str]) -> StackConfig | None:
    def bad(key: str, message: str) -> None:
        problems.append(f"{PROJECT}:{key}: {message}")

    if not LOCATION_RE.match(raw.location):
        bad("location", f"{raw.location!r} is not an Azure region name; allowed: lowercase letters and digits "
                        "such as westus3")
    if not PREFIX_RE.match(raw.name_prefix):
        bad("namePrefix", f"{raw.name_prefix!r} cannot produce a valid registry name (5-50 alphanumerics, with a "
                          f"{REGISTRY_SUFFIX_LENGTH}-character random suffix); allowed: a lowercase letter followed "
                          f"by up to {50 - REGISTRY_SUFFIX_LENGTH - 1} lowercase letters or digits")

    images, names = _check_images(raw, bad)
    synthetic = _check_synthetic_images(raw, bad, names, images)
    cluster = _check_cluster(raw, bad)
    pools = _check_pools(raw, bad)
    streaming_used = any(i.streaming for i in (*images, *synthetic)) or any(p.artifact_streaming for p in pools)
    if streaming_used and raw.registry.sku != "Premium":
        bad("registry.sku", f"{raw.registry.sku!r} does not support artifact streaming, which this stack uses; "
                            "allowed: Premium")
    for i, repo in enumerate(raw.registry.auto_convert_repositories):
        if not re.fullmatch(_REPO, repo):
            bad(f"registry.autoConvertRepositories[{i}]", f"{repo!r} is not a repository name; allowed: lowercase "
                                                          "path such as largeimage/test")
    if cluster.pull_mode == "token":
        for i, pool in enumerate(pools):
            if pool.artifact_streaming:
                bad(f"pools[{i}].artifactStreaming", f"pool {pool.name!r}: artifact streaming does not support pulls "
                                                     "with Kubernetes registry credentials (cluster.pullMode: token); "
                                                     "allowed: false, or cluster.pullMode: attach")
    workloads, all_names = _check_workloads(raw, bad, pools, set(names) | {s.name for s in synthetic})
    for i, cidr in enumerate(raw.load_balancer_source_ranges):
        if not CIDR_RE.match(cidr):
            bad(f"loadBalancerSourceRanges[{i}]", f"{cidr!r} is not an IPv4 CIDR; allowed: e.g. 203.0.113.0/24")
    if not K8S_NAME_RE.match(raw.workload_namespace) or len(raw.workload_namespace) > 63:
        bad("workloadNamespace", f"{raw.workload_namespace!r} is not a Kubernetes namespace name; allowed: "
                                 "lowercase letters, digits and '-', at most 63")
    if raw.cache_generation < 0:
        bad("cacheGeneration", f"{raw.cache_generation} is negative; allowed: 0 or more")
    for name, value in raw.timeouts.model_dump(by_alias=True).items():
        if not 1 <= value <= 24 * 60:
            bad(f"timeouts.{name}", f"{value} is out of range; allowed: 1-1440 minutes")
    if problems:
        return None
    return StackConfig(
        scenario=raw.scenario,
        location=raw.location,
        name_prefix=raw.name_prefix,
        registry=RegistryConfig(raw.registry.sku, raw.registry.existing_resource_group,
                                tuple(raw.registry.auto_convert_repositories)),
        images=tuple(images),
        synthetic_images=tuple(synthetic),
        cluster=cluster,
        pools=tuple(pools),
        workloads=tuple(workloads),
        workload_namespace=raw.workload_namespace,
        load_balancer_source_ranges=tuple(raw.load_balancer_source_ranges),
        cache_generation=raw.cache_generation,
        parked=raw.parked,
        timeouts=TimeoutsConfig(**raw.timeouts.model_dump()),
        all_workload_names=tuple(all_names),
    )


def _check_images(raw: RawStackConfig, bad) -> tuple[list[ImageConfig], list[str]]:
    if not raw.images:
        bad("images", "the image list is empty; allowed: at least one {source, target, streaming} entry")
    images: list[ImageConfig] = []
    seen_targets: dict[str, str] = {}
    seen_names: dict[str, str] = {}
    for i, image in enumerate(raw.images):
        key = f"images[{i}]"
        if not SOURCE_RE.match(image.source):
            bad(f"{key}.source", f"{image.source!r} is not an image reference; allowed: registry/repo:tag or "
                                 "registry/repo@sha256:<64 hex>, e.g. mcr.microsoft.com/azuredocs/azure-vote-front:v1")
        if not TARGET_RE.match(image.target):
            bad(f"{key}.target", f"{image.target!r} is not a repo:tag inside the registry; allowed: e.g. "
                                 "azure-vote-front:v1")
        name = image.name or default_image_name(image.target)
        _unique(bad, seen_targets, image.target, f"{key}.target", "target")
        _unique(bad, seen_names, name, f"{key}.name", "image name")
        images.append(ImageConfig(name, image.source, image.target, image.streaming))
    return images, list(seen_names)


def _check_synthetic_images(raw, bad, image_names, images) -> list[SyntheticImageConfig]:
    seen_targets = {i.target: f"images[{n}].target" for n, i in enumerate(raw.images)}
    seen_names = {n: "images" for n in image_names}
    out = []
    for i, image in enumerate(raw.synthetic_images):
        key = f"syntheticImages[{i}]"
        if not TARGET_RE.match(image.target):
            bad(f"{key}.target", f"{image.target!r} is not a repo:tag inside the registry; allowed: e.g. "
                                 "largeimage/test:v1")
        name = image.name or default_image_name(image.target)
        _unique(bad, seen_targets, image.target, f"{key}.target", "target")
        _unique(bad, seen_names, name, f"{key}.name", "image name")
        if image.squash_of is not None:
            if image.size_mb is not None or image.layers is not None:
                bad(key, "give either squashOf or sizeMb+layers, not both")
            if image.squash_of not in image_names:
                bad(f"{key}.squashOf", f"{image.squash_of!r} is not a configured image; allowed: "
                                       f"{', '.join(image_names) or '(none)'}")
        else:
            if image.layers is None or image.layers < 1 or image.layers > MAX_SYNTHETIC_LAYERS:
                bad(f"{key}.layers", f"{image.layers!r} layers cannot be built; allowed: 1-{MAX_SYNTHETIC_LAYERS}")
            if image.size_mb is None or image.size_mb < 1 or image.size_mb > MAX_SYNTHETIC_IMAGE_MB:
                bad(f"{key}.sizeMb", f"{image.size_mb!r} MB cannot be built; allowed: 1-{MAX_SYNTHETIC_IMAGE_MB}")
            elif image.layers and image.layers >= 1 and image.size_mb < image.layers:
                bad(f"{key}.sizeMb", f"{image.size_mb} MB cannot be split into {image.layers} layers of at least "
                                     f"1 MB; allowed: sizeMb >= layers")
            if image.base_image not in image_names and not SOURCE_RE.match(image.base_image):
                bad(f"{key}.baseImage", f"{image.base_image!r} is neither a configured image nor an image "
                                        "reference; allowed: an image name such as alpine, or "
                                        "registry/repo:tag such as mcr.microsoft.com/azurelinux/base/core:3.0")
        out.append(SyntheticImageConfig(name, image.target, image.streaming, image.size_mb, image.layers,
                                        image.fill, image.base_image, image.squash_of))
    return out


def _unique(bad, seen: dict[str, str], value: str, key: str, what: str) -> None:
    if value in seen:
        bad(key, f"duplicate {what} {value!r} (also at {PROJECT}:{seen[value]}); allowed: each {what} once")
    else:
        seen[value] = key


def _check_cluster(raw: RawStackConfig, bad) -> ClusterConfig:
    c = raw.cluster
    match = K8S_VERSION_RE.match(c.kubernetes_version)
    if not match:
        bad("cluster.kubernetesVersion", f"{c.kubernetes_version!r} is not a Kubernetes version; allowed: 1.MINOR "
                                         "or 1.MINOR.PATCH, at least 1.26")
    elif int(match.group(1)) < MIN_KUBERNETES_MINOR:
        bad("cluster.kubernetesVersion", f"{c.kubernetes_version} is older than artifact streaming supports; "
                                         f"allowed: 1.{MIN_KUBERNETES_MINOR} or newer")
    if not 1 <= c.system_pool.count <= 1000:
        bad("cluster.systemPool.count", f"{c.system_pool.count} is out of range; allowed: 1-1000")
    try:
        parse_vm_size(c.system_pool.vm_size)
    except ValueError as error:
        bad("cluster.systemPool.vmSize", str(error))
    return ClusterConfig(c.kubernetes_version,
                         SystemPoolConfig(c.system_pool.vm_size, c.system_pool.count, c.system_pool.os_sku),
                         c.pull_mode, c.oidc_issuer, c.sku_tier)


def _check_pools(raw: RawStackConfig, bad) -> list[PoolConfig]:
    pools: list[PoolConfig] = []
    seen: dict[str, str] = {}
    if not raw.pools:
        bad("pools", "no experiment pool is configured; allowed: at least one streaming and one standard pool")
    for i, pool in enumerate(raw.pools):
        key = f"pools[{i}]"
        who = f"pool {pool.name!r}"
        if not POOL_NAME_RE.match(pool.name):
            bad(f"{key}.name", f"{pool.name!r} is not an AKS pool name; allowed: a lowercase letter followed by up to "
                               "11 lowercase letters or digits")
        _unique(bad, seen, pool.name, f"{key}.name", "pool name")
        if pool.name == SYSTEM_POOL_NAME:
            bad(f"{key}.name", f"{who}: {pool.name!r} is the system pool's name; allowed: any other pool name")
        if not 0 <= pool.count <= 1000:
            bad(f"{key}.count", f"{who}: {pool.count} is out of range; allowed: 0-1000 (0 parks the pool)")
        if pool.os_sku not in LINUX_OS_SKUS:
            bad(f"{key}.osSku", f"{who}: {pool.os_sku!r} is not a Linux node image the experiment images can run on; "
                                f"allowed: {', '.join(LINUX_OS_SKUS)}")
        size: VmSize | None = None
        try:
            size = parse_vm_size(pool.vm_size)
        except ValueError as error:
            bad(f"{key}.vmSize", f"{who}: {error}")
        if size is not None and size.is_arm64 and not pool.artifact_streaming:
            # The experiment images are linux/amd64 (seed 002): an Arm64 standard arm could not run them.
            bad(f"{key}.vmSize", f"{who}: {pool.vm_size} is an Arm64 size; the experiment images are AMD64, so "
                                 "every experiment pool needs an AMD64 size (e.g. Standard_D4ds_v5)")
        if not pool.artifact_streaming:
            for field_name, value in (("osSku", pool.os_sku), ("workloadRuntime", pool.workload_runtime)):
                if value in NOT_IN_POOL_API:
                    bad(f"{key}.{field_name}", f"{who}: {value!r} is not available in the AKS agent-pool API "
                                               "2026-08-01 this project declares pools with")
        if pool.artifact_streaming:
            if pool.os_sku in OS_GUARD_SKUS or pool.os_sku not in STREAMING_OS_SKUS:
                bad(f"{key}.osSku", f"{who}: artifact streaming does not support {pool.os_sku!r}; allowed for a "
                                    f"streaming pool: {', '.join(STREAMING_OS_SKUS)}")
            if pool.workload_runtime in SANDBOX_RUNTIMES:
                bad(f"{key}.workloadRuntime", f"{who}: artifact streaming does not support pod sandboxing "
                                              f"({pool.workload_runtime}); allowed for a streaming pool: OCIContainer")
            if size is not None:
                if size.is_arm64:
                    bad(f"{key}.vmSize", f"{who}: {pool.vm_size} is an Arm64 size; artifact streaming supports AMD64 "
                                         "only (sizes without 'p' in their features, e.g. Standard_D4ds_v5)")
                if size.is_confidential:
                    bad(f"{key}.vmSize", f"{who}: {pool.vm_size} is a confidential VM size; artifact streaming does "
                                         "not support confidential VMs (DCas/DCads/ECas/ECads/DCes/ECes families)")
                if size.is_gen1_only:
                    bad(f"{key}.vmSize", f"{who}: {pool.vm_size} runs Generation 1 VMs only; artifact streaming "
                                         "needs Generation 2 (e.g. Standard_D2_v5)")
        disk_size = pool.os_disk_size_gb
        if disk_size is not None and not 30 <= disk_size <= 2048:
            bad(f"{key}.osDiskSizeGB", f"{who}: {disk_size} is out of range; allowed: 30-2048")
        if pool.os_disk_type == "Ephemeral" and size is not None:
            capacity = ephemeral_os_capacity_gib(size)
            if capacity is None:
                if not size.has_local_disk:
                    bad(f"{key}.osDiskType", f"{who}: {pool.vm_size} has no local (cache or temp) disk to hold an "
                                             "Ephemeral OS disk; allowed: Managed, or a size with local disk such as "
                                             "Standard_D4ds_v5")
                elif disk_size is None:
                    bad(f"{key}.osDiskSizeGB", f"{who}: the local disk size of {pool.vm_size} is not in this "
                                               "project's table, so an Ephemeral OS disk needs an explicit "
                                               "osDiskSizeGB that you know fits it")
            elif disk_size is None:
                disk_size = min(128, capacity)
            elif disk_size > capacity:
                bad(f"{key}.osDiskSizeGB", f"{who}: an Ephemeral OS disk of {disk_size} GB does not fit the "
                                           f"{capacity} GiB local disk of {pool.vm_size}; allowed: 30-{capacity}")
        for label_key, value in pool.labels.items():
            if not LABEL_KEY_RE.match(label_key) or label_key.startswith("streaming-ab/"):
                bad(f"{key}.labels", f"{who}: label key {label_key!r} is invalid or reserved; allowed: Kubernetes "
                                     "label keys outside the streaming-ab/ prefix")
            if not LABEL_VALUE_RE.match(value) or len(value) > 63:
                bad(f"{key}.labels", f"{who}: label value {value!r} is not a Kubernetes label value")
        labels = {**pool.labels, POOL_LABEL: pool.name, STREAMING_LABEL: str(pool.artifact_streaming).lower()}
        count = 0 if raw.parked else pool.count
        pools.append(PoolConfig(pool.name, pool.vm_size, pool.os_disk_type, disk_size, pool.os_sku, count,
                                pool.artifact_streaming, labels, pool.workload_runtime))
    return pools


def _check_workloads(raw: RawStackConfig, bad, pools: list[PoolConfig], image_names: set[str]):
    pool_by_name = {p.name: p for p in pools}
    workloads: list[WorkloadConfig] = []
    seen_workloads: dict[str, str] = {}
    seen_arms: dict[str, str] = {}
    seen_objects: dict[str, str] = {}
    for i, w in enumerate(raw.workloads):
        key = f"workloads[{i}]"
        if not OBJECT_NAME_RE.match(w.name) or len(w.name) > 30:
            bad(f"{key}.name", f"{w.name!r} is not a workload name; allowed: a lowercase letter, then lowercase "
                               "letters, digits and '-', at most 30")
        _unique(bad, seen_workloads, w.name, f"{key}.name", "workload name")
        if w.image not in image_names:
            bad(f"{key}.image", f"{w.image!r} is not a configured image; allowed: {', '.join(sorted(image_names))}")
        if w.template == "azure-vote":
            if w.backend_image is None:
                bad(f"{key}.backendImage", "the azure-vote template needs its redis back-end image; allowed: "
                                           f"{', '.join(sorted(image_names))}")
            elif w.backend_image not in image_names:
                bad(f"{key}.backendImage", f"{w.backend_image!r} is not a configured image; allowed: "
                                           f"{', '.join(sorted(image_names))}")
        elif w.backend_image is not None:
            bad(f"{key}.backendImage", "only the azure-vote template has a back-end; remove the key")
        if w.replicas < 1 or w.replicas > 1000:
            bad(f"{key}.replicas", f"{w.replicas} is out of range; allowed: 1-1000")
        port = w.port if w.port is not None else (80 if w.template == "azure-vote" else None)
        if port is not None and not 1 <= port <= 65535:
            bad(f"{key}.port", f"{port} is not a TCP port; allowed: 1-65535")
        arms: list[ArmConfig] = []
        for j, arm in enumerate(w.arms):
            arm_key = f"{key}.arms[{j}]"
            name = arm.name or f"{w.name}-{arm.pool}"
            if not OBJECT_NAME_RE.match(name) or len(name) > 40:
                bad(f"{arm_key}.name", f"{name!r} is not an arm name; allowed: a lowercase letter, then lowercase "
                                       "letters, digits and '-', at most 40")
            _unique(bad, seen_arms, name, f"{arm_key}.name", "arm name")
            if not LABEL_VALUE_RE.match(arm.pair) or len(arm.pair) > 63:
                bad(f"{arm_key}.pair", f"{arm.pair!r} is not a Kubernetes label value")
            pool = pool_by_name.get(arm.pool)
            if pool is None:
                bad(f"{arm_key}.pool", f"{arm.pool!r} is not a configured pool; allowed: "
                                       f"{', '.join(pool_by_name) or '(none)'}")
                continue
            arms.append(ArmConfig(name, w.name, arm.pool, arm.pair, pool.artifact_streaming))
        if not w.arms:
            bad(f"{key}.arms", "a workload needs arms to compare; allowed: at least one streaming and one standard arm")
        # In token pull mode no arm can stream (config error above), so there is nothing to pair.
        if raw.cluster.pull_mode == "attach":
            for pair in sorted({a.pair for a in arms}):
                sides = {a.streaming for a in arms if a.pair == pair}
                if len(sides) < 2:
                    missing = ("standard (artifactStreaming: false)" if True in sides
                               else "streaming (artifactStreaming: true)")
                    bad(f"{key}.arms", f"workload {w.name!r}, pair {pair!r}: no {missing} arm to compare with; "
                                       "allowed: every pair has arms on both a streaming and a standard pool")
        _check_resources(bad, f"{key}.resources", w.resources)
        for arm in arms:
            for object_name in _object_names(w.template, arm.name):
                _unique(bad, seen_objects, object_name, f"{key}.arms", "Kubernetes object name")
        resources = ResourcesConfig(**w.resources.model_dump())
        workloads.append(WorkloadConfig(w.name, w.template, w.image, w.backend_image, w.replicas, port,
                                        w.image_reference, resources, tuple(arms)))
    all_names = [w.name for w in workloads]
    active = raw.active_workloads if raw.active_workloads is not None else all_names
    for i, name in enumerate(active):
        if name not in all_names:
            bad(f"activeWorkloads[{i}]", f"{name!r} is not a configured workload; allowed: {', '.join(all_names)}")
    return [w for w in workloads if w.name in active], all_names


def _object_names(template: str, arm: str) -> tuple[str, ...]:
    """Deployment/Service names an arm declares (components/manifests.py names them the same way)."""
    return (f"{arm}-front", f"{arm}-back") if template == "azure-vote" else (arm,)


def _cpu_millicores(text: str) -> float | None:
    match = CPU_RE.match(text)
    if not match:
        return None
    return float(match.group(1)) * (1 if match.group(2) else 1000)


def _memory_bytes(text: str) -> float | None:
    match = MEMORY_RE.match(text)
    if not match:
        return None
    return float(match.group(1)) * _MEMORY_UNITS[match.group(2)]


def _check_resources(bad, key: str, resources: RawResources) -> None:
    cpu = {"cpuRequest": resources.cpu_request, "cpuLimit": resources.cpu_limit}
    memory = {"memoryRequest": resources.memory_request, "memoryLimit": resources.memory_limit}
    parsed: dict[str, float | None] = {}
    for name, text in cpu.items():
        parsed[name] = _cpu_millicores(text)
        if parsed[name] is None:
            bad(f"{key}.{name}", f"{text!r} is not a CPU quantity; allowed: e.g. 100m or 0.5")
    for name, text in memory.items():
        parsed[name] = _memory_bytes(text)
        if parsed[name] is None:
            bad(f"{key}.{name}", f"{text!r} is not a memory quantity; allowed: e.g. 128Mi or 1Gi")
    for request, limit in (("cpuRequest", "cpuLimit"), ("memoryRequest", "memoryLimit")):
        if parsed[request] is not None and parsed[limit] is not None and parsed[request] > parsed[limit]:
            bad(f"{key}.{request}", f"request exceeds {limit}; allowed: a request no larger than its limit")


def read_pulumi_config() -> dict[str, Any]:
    """Every `acr-streaming-ab:*` value of the running stack, JSON-decoded where it is structured."""
    from pulumi.runtime import config as runtime_config

    # The engine hands the program its config through set_all_config (CONFIG); PULUMI_CONFIG is the
    # environment fallback the SDK itself uses when a value is not there.
    engine_values = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    values: dict[str, Any] = {}
    for full_key, text in engine_values.items():
        namespace, _, key = full_key.partition(":")
        if namespace != PROJECT:
            continue
        try:
            values[key] = json.loads(text)
        except (TypeError, ValueError):
            values[key] = text
    unknown = sorted(k for k in values if k not in CONFIG_KEYS)
    if unknown:
        raise ConfigError([f"{PROJECT}:{k}: unknown key; allowed: {', '.join(CONFIG_KEYS)}" for k in unknown])
    return values


def load_stack_config() -> StackConfig:
    return parse_stack_config(read_pulumi_config())
