"""`StackConfig`: everything one stack declares, and the rules that span its keys."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, PrivateAttr, StrictBool, StrictStr, model_validator

from stackconfig import fields as f
from stackconfig.base import ConfigModel, Problems, check_unique, raise_if
from stackconfig.cluster import DEFAULT_PULL_CHECK_IMAGE, ClusterConfig, PoolConfig
from stackconfig.errors import Path
from stackconfig.images import ImageConfig, RegistryConfig, SyntheticImageConfig
from stackconfig.sweep import SweepConfig
from stackconfig.workload_rules import check_workloads
from stackconfig.workloads import WorkloadConfig


class TimeoutsConfig(ConfigModel):
    import_minutes: f.TimeoutMinutes = Field(30, alias="importMinutes", description="Per image import.")
    conversion_minutes: f.TimeoutMinutes = Field(60, alias="conversionMinutes", description="Per streaming conversion.")
    build_minutes: f.TimeoutMinutes = Field(60, alias="buildMinutes", description="Per ACR task build.")
    pool_minutes: f.TimeoutMinutes = Field(45, alias="poolMinutes", description="Per agent-pool operation.")
    pull_check_minutes: f.TimeoutMinutes = Field(
        20,
        alias="pullCheckMinutes",
        description="How long the first rollout waits for the pull check on each pool (AcrPull to reach the "
        "kubelet identity, or an administrator to assign it).",
    )


class StackConfig(ConfigModel):
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
    images: tuple[ImageConfig, ...] = Field(
        description="Images in the registry: imported (public or private), already there, or built from your folder."
    )
    synthetic_images: tuple[SyntheticImageConfig, ...] = Field(
        (), alias="syntheticImages", description="Images built in the registry."
    )
    cluster: ClusterConfig = Field(default_factory=ClusterConfig, description="The AKS cluster.")
    pools: tuple[PoolConfig, ...] = Field((), description="Experiment pools (none in a registry stack).")
    workloads: tuple[WorkloadConfig, ...] = Field((), description="A/B workloads (after validation: the active ones).")
    active_workloads: tuple[StrictStr, ...] | None = Field(
        None, alias="activeWorkloads", description="Which workloads run; default all."
    )
    sweep: SweepConfig | None = Field(
        None,
        description="One factor swept on one pair of pools: adds a filled image per value (one for readPercent) "
        "and a `single` workload `x-<factor>-<value>` per value, each labelled with the factor; these always run.",
    )
    workload_namespace: f.Namespace = Field(
        "streaming-ab", alias="workloadNamespace", description="Namespace of the workloads."
    )
    load_balancer_source_ranges: tuple[f.Cidr, ...] = Field(
        (),
        alias="loadBalancerSourceRanges",
        description="Who may reach the azure-vote front ends; setting it makes them LoadBalancers open to these "
        "ranges. Ranges that together cover all of IPv4 or IPv6 need publicEndpoints: true.",
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
    # Set by _expand_sweep for _across_keys: the sweep's own problems and the workloads it added.
    _sweep_problems: Problems = PrivateAttr(default_factory=list)
    _swept_workloads: frozenset[str] = PrivateAttr(default_factory=frozenset)

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
        """Protected unless said otherwise: replacing it would drop every image, artifact and build."""
        return self.registry.protect if self.registry.protect is not None else True

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
    def _expand_sweep(self) -> StackConfig:
        """The sweep's images and workloads (workloads only in a cluster stack), checked below like any others."""
        if self.sweep is None:
            return self
        problems = self.sweep.problems()
        pools = {p.name: p for p in self.pools}
        if not self.is_registry_stack:
            problems += self.sweep.pool_problems(pools)
        workloads = [] if problems or self.is_registry_stack else self.sweep.workloads(pools)
        images = () if problems else self.sweep.images()
        config = self.model_copy(
            update={
                "synthetic_images": (*self.synthetic_images, *images),
                "workloads": (*self.workloads, *(WorkloadConfig.model_validate(w) for w in workloads)),
                # Expanded: a copy validated again must not add them twice.
                "sweep": None,
            }
        )
        config._sweep_problems = [(("sweep", *path), message) for path, message in problems]
        config._swept_workloads = frozenset(w["name"] for w in workloads)
        return config

    @model_validator(mode="after")
    def _add_pull_check_image(self) -> StackConfig:
        """The default pull-check image joins a non-empty `images` that has no image of its name or target."""
        default = ImageConfig.model_validate(DEFAULT_PULL_CHECK_IMAGE)
        listed = {i.name for i in self.images} | {i.target for i in self.images}
        if not self.images or self.cluster.pull_check_image != default.name or listed & {default.name, default.target}:
            return self
        return self.model_copy(update={"images": (*self.images, default)})

    @model_validator(mode="after")
    def _across_keys(self) -> StackConfig:
        found: Problems = list(self._sweep_problems)
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
            self._check_pull_access(found)
        self._check_exposure(found)
        workloads = check_workloads(self, found)
        raise_if(found)
        active = self.active_workloads if self.active_workloads is not None else [w.name for w in workloads]
        pools = self.pools
        if self.parked:
            pools = tuple(p.model_copy(update={"count": 0}) for p in pools)
        return self.model_copy(
            update={
                "pools": pools,
                "workloads": tuple(w for w in workloads if w.name in active or w.name in self._swept_workloads),
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
                check_unique(found, targets, image.target, (key, i, "target"), "target")
                check_unique(found, names, image.name, (key, i, "name"), "image name")
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
            check_unique(found, seen, repository.replace("/", "-"), path, "auto-conversion resource name")

    def _check_exposure(self, found: Problems) -> None:
        """A source range of the whole internet is a public endpoint, and must be asked for as one."""
        if self.public_endpoints:
            return
        allowed = "allowed: narrower ranges, or publicEndpoints: true to mean it"
        alone = False
        for i, cidr in enumerate(self.load_balancer_source_ranges):
            if f.internet_wide([cidr]):
                alone = True
                found.append(
                    (("loadBalancerSourceRanges", i), f"{cidr} opens the front ends to the whole internet; {allowed}")
                )
        together = f.internet_wide(self.load_balancer_source_ranges)
        if together and not alone:
            found.append(
                (
                    ("loadBalancerSourceRanges",),
                    f"together the ranges cover {' and '.join(together)}, which opens the front ends to the whole "
                    f"internet; {allowed}",
                )
            )

    def _check_pools(self, found: Problems) -> None:
        if not self.pools:
            found.append(
                (("pools",), "no experiment pool is configured; allowed: at least one streaming and one standard pool")
            )
        seen: dict[str, str] = {}
        for i, pool in enumerate(self.pools):
            check_unique(found, seen, pool.name, ("pools", i, "name"), "pool name")
            if self.cluster.pull_mode == "token" and pool.artifact_streaming:
                found.append(
                    (
                        ("pools", i, "artifactStreaming"),
                        f"pool {pool.name!r}: artifact streaming does not support pulls with Kubernetes "
                        "registry credentials (cluster.pullMode: token); allowed: false, or cluster.pullMode: "
                        "attach",
                    )
                )

    def _check_pull_access(self, found: Problems) -> None:
        """`acrPull` and the pull check's image: an imported image that shares no layer with a measured one."""
        cluster = self.cluster
        if cluster.acr_pull == "external" and cluster.pull_mode == "token":
            found.append(
                (
                    ("cluster", "acrPull"),
                    "`external` waits for an AcrPull role assignment, which cluster.pullMode: token does not use; "
                    "allowed: assign (with pullMode: token), or pullMode: attach",
                )
            )
        name, key = cluster.pull_check_image, ("cluster", "pullCheckImage")
        imported = {i.name: i.source for i in self.images}
        if name not in imported:
            found.append(
                (key, f"{name!r} is not a configured imported image; allowed: {', '.join(imported) or '(none)'}")
            )
            return
        # The check must put no layer of a measured image on an experiment node before the first trial:
        # nothing measured may be it, by name or (another entry of the same source) by source.
        source = imported[name]
        same = {name} | {n for n, other in imported.items() if source is not None and other == source}
        users = [f"workload {w.name!r}" for w in self.workloads if same & {w.image, w.backend_image}]
        users += [
            f"synthetic image {s.name!r}"
            for s in self.synthetic_images
            if (same | {source} - {None}) & {s.base_image, s.tools_image, s.squash_of}
        ]
        if users:
            found.append(
                (
                    key,
                    f"{name!r} is also used by {', '.join(users)}: its layers would be on the nodes before the "
                    "first trial; allowed: an image no workload or synthetic image uses, such as "
                    "{name: hello-world, source: mcr.microsoft.com/hello-world:latest, target: "
                    "library/hello-world:latest, streaming: false}",
                )
            )
