"""Pods reduced to the fields timing needs (raw dumps can then be dropped)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from contract import LABEL_ARM, LABEL_PAIR, LABEL_STREAMING, LABEL_WORKLOAD
from timing.model.kube_time import parse_time


@dataclass(frozen=True, init=False)
class ContainerSpec:
    name: str
    image: str
    init: bool

    def __init__(self, name: str, image: str, init: bool):
        # Filling __dict__ directly is several times faster than the generated
        # frozen __init__ (one object.__setattr__ per field); one is built per
        # container of every pod in a dump.  Still frozen.
        d = self.__dict__
        d["name"] = name
        d["image"] = image
        d["init"] = init


@dataclass
class PodInfo:
    namespace: str
    name: str
    uid: str | None
    labels: dict[str, str]
    node: str | None
    phase: str | None
    created: datetime | None
    ready_at: datetime | None  # Ready=True lastTransitionTime, else None
    started_at: datetime | None  # earliest container start
    containers: tuple[ContainerSpec, ...]
    deleting: bool = False
    trial: str | None = None  # trial id when read from a results folder
    extra: dict = field(default_factory=dict)

    @property
    def arm(self) -> str | None:
        return self.labels.get(LABEL_ARM)

    @property
    def workload(self) -> str | None:
        return self.labels.get(LABEL_WORKLOAD)

    @property
    def pair(self) -> str | None:
        return self.labels.get(LABEL_PAIR)

    @property
    def streaming(self) -> bool | None:
        return parse_bool_label(self.labels.get(LABEL_STREAMING))


def parse_bool_label(value: str | None) -> bool | None:
    if value is None:
        return None
    v = value.strip().lower()
    if v == "true":
        return True
    if v == "false":
        return False
    return None


def _earliest_start(statuses) -> datetime | None:
    best = None
    for cs in statuses or ():
        state = cs.get("state") or {}
        # A container that already ran and exited (or restarted) still tells
        # when the pod first got a container going.
        ts = (state.get("running") or {}).get("startedAt") or (state.get("terminated") or {}).get("startedAt")
        if not ts:
            ts = ((cs.get("lastState") or {}).get("terminated") or {}).get("startedAt")
        t = parse_time(ts)
        if t is not None and (best is None or t < best):
            best = t
    return best


def pod_from_dict(item: dict, trial: str | None = None) -> PodInfo:
    meta = item.get("metadata") or {}
    spec = item.get("spec") or {}
    status = item.get("status") or {}
    ready_at = None
    for cond in status.get("conditions") or ():
        if cond.get("type") == "Ready" and cond.get("status") == "True":
            ready_at = parse_time(cond.get("lastTransitionTime"))
    # Plain loops: two list comprehensions and a concatenation cost more than
    # the one or two containers a pod usually has.
    containers = []
    for c in spec.get("initContainers") or ():
        containers.append(ContainerSpec(c.get("name", ""), c.get("image", ""), True))
    for c in spec.get("containers") or ():
        containers.append(ContainerSpec(c.get("name", ""), c.get("image", ""), False))
    return PodInfo(
        namespace=meta.get("namespace") or "",
        name=meta.get("name") or "",
        uid=meta.get("uid"),
        labels=dict(meta.get("labels") or {}),
        node=spec.get("nodeName"),
        phase=status.get("phase"),
        created=parse_time(meta.get("creationTimestamp")),
        ready_at=ready_at,
        started_at=_earliest_start(status.get("containerStatuses")),
        containers=tuple(containers),
        deleting=bool(meta.get("deletionTimestamp")),
        trial=trial,
    )
