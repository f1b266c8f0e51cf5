"""The workload rules that span the stack: each workload against the images, pools and other workloads.

One function per rule; `check_workloads` runs them in a fixed order (so error lines keep their order)
and returns the workloads with their arms resolved (each arm's `streaming` from its pool).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stackconfig.base import Problems, check_unique
from stackconfig.cluster import PoolConfig
from stackconfig.errors import Path
from stackconfig.images import SyntheticImageConfig
from stackconfig.workloads import ArmConfig, WorkloadConfig, object_names

if TYPE_CHECKING:
    from stackconfig.stack import StackConfig

# What the two arms of one pair must share, so only artifact streaming tells them apart.
PAIR_IDENTICAL = (
    ("vmSize", "vm_size"),
    ("osDiskType", "os_disk_type"),
    ("osDiskSizeGB", "os_disk_size_gb"),
    ("osSku", "os_sku"),
    ("workloadRuntime", "workload_runtime"),
    ("count", "count"),
)


def check_workloads(config: StackConfig, found: Problems) -> list[WorkloadConfig]:
    """Every workload rule, workload by workload; the workloads with their arms resolved."""
    pools = {p.name: p for p in config.pools}
    images = sorted(config.image_names())
    filled = {s.name: s for s in config.synthetic_images if s.squash_of is None}
    workloads: list[WorkloadConfig] = []
    seen_workloads: dict[str, str] = {}
    seen_arms: dict[str, str] = {}
    seen_objects: dict[str, str] = {}
    for i, w in enumerate(config.workloads):
        key: Path = ("workloads", i)
        check_unique(found, seen_workloads, w.name, (*key, "name"), "workload name")
        images_are_configured(w, key, images, found)
        startup_read_is_of_a_filled_image(w, key, filled, found)
        arms = arms_on_configured_pools(w, key, pools, seen_arms, found)
        digest_reference_is_not_streamed(w, key, arms, found)
        pair_pools_are_identical(w, key, arms, pools, found)
        # In token pull mode no arm can stream (refused with the pools), so there is nothing to pair.
        if config.cluster.pull_mode == "attach":
            pairs_have_both_sides(w, key, arms, found)
        for arm in arms:
            for object_name in object_names(w.template, arm.name):
                check_unique(found, seen_objects, object_name, (*key, "arms"), "Kubernetes object name")
        workloads.append(w.model_copy(update={"arms": tuple(arms)}))
    active_workloads_are_configured(config.active_workloads or (), [w.name for w in workloads], found)
    return workloads


def images_are_configured(w: WorkloadConfig, key: Path, images: list[str], found: Problems) -> None:
    for field_key, image in (("image", w.image), ("backendImage", w.backend_image)):
        if image is not None and image not in images:
            found.append(((*key, field_key), f"{image!r} is not a configured image; allowed: {', '.join(images)}"))


def startup_read_is_of_a_filled_image(
    w: WorkloadConfig, key: Path, filled: dict[str, SyntheticImageConfig], found: Problems
) -> None:
    if w.startup_read_mb is None:
        return
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


def arms_on_configured_pools(
    w: WorkloadConfig, key: Path, pools: dict[str, PoolConfig], seen_arms: dict[str, str], found: Problems
) -> list[ArmConfig]:
    """Arm names unique across the stack, each arm on a configured pool; the arms that are, resolved."""
    arms = []
    for j, arm in enumerate(w.arms):
        check_unique(found, seen_arms, arm.name, (*key, "arms", j, "name"), "arm name")
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
    return arms


def digest_reference_is_not_streamed(w: WorkloadConfig, key: Path, arms: list[ArmConfig], found: Problems) -> None:
    if w.image_reference == "digest" and any(a.streaming for a in arms):
        found.append(
            (
                (*key, "imageReference"),
                f"workload {w.name!r} has an arm on a streaming pool, and artifact streaming works "
                "only for pulls by tag (a digest reference pulls the whole image); allowed: tag",
            )
        )


def pair_pools_are_identical(
    w: WorkloadConfig, key: Path, arms: list[ArmConfig], pools: dict[str, PoolConfig], found: Problems
) -> None:
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


def pairs_have_both_sides(w: WorkloadConfig, key: Path, arms: list[ArmConfig], found: Problems) -> None:
    for pair in sorted({a.pair for a in arms}):
        sides = {a.streaming for a in arms if a.pair == pair}
        if len(sides) < 2:
            missing = "standard (artifactStreaming: false)" if True in sides else "streaming (artifactStreaming: true)"
            found.append(
                (
                    (*key, "arms"),
                    f"workload {w.name!r}, pair {pair!r}: no {missing} arm to "
                    "compare with; allowed: every pair has arms on both a "
                    "streaming and a standard pool",
                )
            )


def active_workloads_are_configured(active: tuple[str, ...], names: list[str], found: Problems) -> None:
    for i, name in enumerate(active):
        if name not in names:
            found.append(
                (("activeWorkloads", i), f"{name!r} is not a configured workload; allowed: {', '.join(names)}")
            )
