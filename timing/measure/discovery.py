"""Find the arms of the experiment in a cluster and plan which workloads share a round."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from contract import (
    LABEL_ARM,
    LABEL_PAIR,
    LABEL_PART_OF,
    LABEL_POOL,
    LABEL_STREAMING,
    LABEL_WORKLOAD,
    PART_OF_VALUE,
)
from timing.model.pods import parse_bool_label
from timing.sources.cluster import Cluster
from timing.sources.selectors import combine

BASE_SELECTOR = f"{LABEL_PART_OF}={PART_OF_VALUE}"


class TrialError(RuntimeError):
    """A trial could not proceed (pods would not go away, reset failed)."""


class ResetError(TrialError):
    pass


@dataclass
class Deployment:
    namespace: str
    name: str
    replicas: int
    images: list[str]


@dataclass
class Arm:
    name: str
    workload: str
    pair: str | None
    streaming: bool | None
    deployments: list[Deployment] = field(default_factory=list)
    pool: str | None = None

    @property
    def images(self) -> set:
        return {i for d in self.deployments for i in d.images}

    @property
    def expected_pods(self) -> int:
        return sum(d.replicas for d in self.deployments)


@dataclass
class Workload:
    name: str
    arms: dict[str, Arm] = field(default_factory=dict)

    @property
    def images(self) -> set:
        return {i for a in self.arms.values() for i in a.images}


def _template_images(dep: dict) -> list[str]:
    spec = ((dep.get("spec") or {}).get("template") or {}).get("spec") or {}
    return [c.get("image", "") for c in (spec.get("initContainers") or []) + (spec.get("containers") or [])]


def _template_node_pool(dep: dict) -> str | None:
    spec = ((dep.get("spec") or {}).get("template") or {}).get("spec") or {}
    return (spec.get("nodeSelector") or {}).get(LABEL_POOL)


def discover(
    cluster: Cluster,
    namespaces: Sequence[str],
    selector: str | None,
    only: Sequence[str] | None,
    replicas_override: int | None,
) -> list[Workload]:
    """Arms and their Deployments, by label (Deployment names are not a contract)."""
    workloads: dict[str, Workload] = {}
    for ns in namespaces:
        for dep in cluster.list_deployments(ns, combine(BASE_SELECTOR, selector)):
            meta = dep.get("metadata") or {}
            labels = meta.get("labels") or {}
            tlabels = (((dep.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("labels") or {}
            merged = {**labels, **tlabels}
            arm_name, wl = merged.get(LABEL_ARM), merged.get(LABEL_WORKLOAD)
            if not arm_name or not wl or (only and wl not in only):
                continue
            replicas = (dep.get("spec") or {}).get("replicas")
            replicas = 1 if replicas is None else int(replicas)
            if replicas == 0:
                if not replicas_override:
                    raise TrialError(
                        f"Deployment {ns}/{meta.get('name')} is scaled to 0 (an interrupted run?); "
                        "pass --replicas N or restore it with 'pulumi up'"
                    )
                replicas = replicas_override
            w = workloads.setdefault(wl, Workload(wl))
            arm = w.arms.setdefault(
                arm_name,
                Arm(
                    arm_name,
                    wl,
                    merged.get(LABEL_PAIR),
                    parse_bool_label(merged.get(LABEL_STREAMING)),
                    # The program pins pods by nodeSelector and labels no pool on them.
                    pool=merged.get(LABEL_POOL) or _template_node_pool(dep),
                ),
            )
            arm.deployments.append(Deployment(ns, meta.get("name", ""), replicas, _template_images(dep)))
    if only:
        missing = sorted(set(only) - set(workloads))
        if missing:
            raise TrialError(f"no Deployments found for workload(s): {', '.join(missing)}")
    if not workloads:
        raise TrialError(f"no experiment Deployments found with selector {combine(BASE_SELECTOR, selector)!r}")
    return [workloads[k] for k in sorted(workloads)]


def plan_rounds(workloads: Sequence[Workload]) -> list[dict]:
    """Group workloads so no two in one round share an image.

    Two workloads pulling the same image on the same nodes would warm each
    other's cache; each round gets its own reset, so sharing workloads are
    measured in different rounds.  The separation is recorded as a note.
    """
    rounds: list[dict] = []
    for w in workloads:
        for r in rounds:
            if not any(w.images & other.images for other in r["workloads"]):
                r["workloads"].append(w)
                break
        else:
            rounds.append({"workloads": [w], "notes": []})
    for i, r in enumerate(rounds):
        for w in r["workloads"]:
            for j, other in enumerate(rounds):
                if j == i:
                    continue
                for o in other["workloads"]:
                    shared = sorted(w.images & o.images)
                    if shared:
                        r["notes"].append(
                            f"workload {w.name} shares {', '.join(shared)} with workload {o.name}: "
                            "measured in a separate round with its own reset"
                        )
    return rounds
