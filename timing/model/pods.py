"""Pods reduced to the fields timing needs (raw dumps can then be dropped)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from itertools import chain

from contract import (
    ANNOTATION_APP_READY_LOG,
    LABEL_ARM,
    LABEL_PAIR,
    LABEL_POOL,
    LABEL_STREAMING,
    LABEL_TRIAL,
    LABEL_WORKLOAD,
)
from timing.model.kube_time import parse_time
from timing.model.sharing import Shared


@dataclass(frozen=True, init=False, slots=True)
class ContainerSpec:
    name: str
    image: str
    init: bool
    pull_always: bool  # imagePullPolicy: Always (kubelet asks the registry even when the image is present)

    def __init__(self, name: str, image: str, init: bool, pull_always: bool = False):
        # The slots' own setters: the generated frozen __init__ goes through
        # object.__setattr__ for each field, slower, and one is built per
        # container of every pod in a dump.  Still frozen.
        set_name, set_image, set_init, set_pull_always = _CONTAINER_SPEC_SETTERS
        set_name(self, name)
        set_image(self, image)
        set_init(self, init)
        set_pull_always(self, pull_always)


_CONTAINER_SPEC_SETTERS = tuple(ContainerSpec.__dict__[f].__set__ for f in ("name", "image", "init", "pull_always"))


@dataclass(slots=True)
class PodInfo:
    namespace: str
    name: str
    uid: str | None
    labels: dict[str, str]  # shared by the pods with the same labels (timing.model.sharing): never changed
    node: str | None
    phase: str | None
    created: datetime | None
    ready_at: datetime | None  # Ready=True lastTransitionTime: the first Ready only while restart_count == 0
    started_at: datetime | None  # last app container's first start: when every container had started
    containers: tuple[ContainerSpec, ...]  # shared, like labels
    deleting: bool = False
    trial: str | None = None  # results-folder trial id, else the streaming-ab/trial label
    scheduled_at: datetime | None = None  # PodScheduled=True lastTransitionTime
    restart_count: int = 0  # summed over init and app containers
    app_ready_at: datetime | None = None  # the image's own "ready" log line (see timing.model.applog)
    container_ids: dict[str, str] = field(default_factory=dict)  # container name -> runtime id (no scheme)
    aks_conditions: dict[str, str] = field(default_factory=dict)  # conditions Kubernetes does not define
    app_ready_log: str | None = None  # a custom workload's app-ready pattern (ANNOTATION_APP_READY_LOG)
    extra: dict = field(default_factory=dict)
    pool: str | None = None  # the pool it asked for: nodeSelector streaming-ab/pool, else that label

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


# Pod conditions Kubernetes itself sets; any other type was added by someone else (AKS), kept verbatim.
KUBERNETES_CONDITIONS = frozenset(
    {
        "PodScheduled",
        "Initialized",
        "ContainersReady",
        "Ready",
        "PodReadyToStartContainers",
        "DisruptionTarget",
        "PodResizePending",
        "PodResizeInProgress",
    }
)


# Namespaces, node names, phases and container names; label sets; container lists.
_TEXT, _PLACES, _LABEL_SETS, _CONTAINER_LISTS = Shared(), Shared(), Shared(), Shared()


def _container_ids(*status_lists) -> dict[str, str]:
    out = {}
    for statuses in status_lists:
        for cs in statuses or ():
            cid = cs.get("containerID") or ""
            if cs.get("name") and cid:
                out[_TEXT.text(cs["name"])] = cid.partition("://")[2] or cid
    return out


def _last_start(statuses) -> datetime | None:
    """When the last container of the pod first started; None while one has not started yet.

    A sidecar starting 50 s after the app is part of the pod's start-up: the earliest start would hide it.
    """
    latest = None
    for cs in statuses or ():
        state = cs.get("state") or {}
        # A container that already ran and exited (or restarted) still tells when it first started.
        ts = (state.get("running") or {}).get("startedAt") or (state.get("terminated") or {}).get("startedAt")
        last = ((cs.get("lastState") or {}).get("terminated") or {}).get("startedAt")
        if last and (not ts or last < ts):
            ts = last
        t = parse_time(ts)
        if t is None:
            return None
        if latest is None or t > latest:
            latest = t
    return latest


def _restarts(*status_lists) -> int:
    total = 0
    for statuses in status_lists:
        for cs in statuses or ():
            try:
                total += int(cs.get("restartCount") or 0)
            except (TypeError, ValueError):
                total += 1  # unreadable counts as "not known to be zero"
    return total


def _always(container: dict) -> bool:
    return container.get("imagePullPolicy") == "Always"


def _containers(spec: dict) -> tuple[ContainerSpec, ...]:
    """Init containers first, then app containers; one tuple for all the pods that list the same."""
    # Flat (name, image, init, pull_always) runs: the key, and all that is needed to build the specs.
    key: list = []
    for c in spec.get("initContainers") or ():
        key += (c.get("name", ""), c.get("image", ""), True, _always(c))
    for c in spec.get("containers") or ():
        key += (c.get("name", ""), c.get("image", ""), False, _always(c))
    return _CONTAINER_LISTS.one(tuple(key), _specs)


def _specs(flat: tuple) -> tuple[ContainerSpec, ...]:
    return tuple(ContainerSpec(*flat[at : at + 4]) for at in range(0, len(flat), 4))


def _labels(raw) -> dict:
    """A copy of the labels, shared by the pods that carry the same ones in the same order."""
    labels = raw if type(raw) is dict else dict(raw or {})
    return _LABEL_SETS.one(tuple(chain.from_iterable(labels.items())), _dict_of_pairs)


def _dict_of_pairs(flat: tuple) -> dict:
    return dict(zip(flat[::2], flat[1::2], strict=True))


def pod_from_dict(item: dict, trial: str | None = None) -> PodInfo:
    meta = item.get("metadata") or {}
    spec = item.get("spec") or {}
    status = item.get("status") or {}
    ready_at = scheduled_at = None
    aks_conditions = {}
    for cond in status.get("conditions") or ():
        kind = cond.get("type")
        if kind and kind not in KUBERNETES_CONDITIONS:
            aks_conditions[kind] = str(cond.get("status"))
        if kind == "Ready" and cond.get("status") == "True":
            ready_at = parse_time(cond.get("lastTransitionTime"))
        elif kind == "PodScheduled" and cond.get("status") == "True":
            scheduled_at = parse_time(cond.get("lastTransitionTime"))
    containers = _containers(spec)
    labels = _labels(meta.get("labels"))
    statuses, init_statuses = status.get("containerStatuses"), status.get("initContainerStatuses")
    # In the order they were always read, so a dump broken in two places fails on the same one.
    created = parse_time(meta.get("creationTimestamp"))
    started_at = _last_start(statuses)
    deleting = bool(meta.get("deletionTimestamp"))
    restarts = _restarts(init_statuses, statuses)
    container_ids = _container_ids(init_statuses, statuses)
    app_ready_log = (meta.get("annotations") or {}).get(ANNOTATION_APP_READY_LOG)
    # Namespace, node, phase and pool: one tuple per distinct combination (a few thousand in a dump).
    namespace, node, phase, pool = _PLACES.one(
        (
            meta.get("namespace") or "",
            spec.get("nodeName"),
            status.get("phase"),
            (spec.get("nodeSelector") or {}).get(LABEL_POOL) or labels.get(LABEL_POOL),
        )
    )
    # Positional, in the order of PodInfo's fields: keywords cost a third of the construction.
    return PodInfo(
        namespace,
        meta.get("name") or "",
        meta.get("uid"),
        labels,
        node,
        phase,
        created,
        ready_at,
        started_at,
        containers,
        deleting,
        trial if trial is not None else labels.get(LABEL_TRIAL),
        scheduled_at,
        restarts,
        None,  # app_ready_at: from the app's log, read later
        container_ids,
        aks_conditions,
        app_ready_log,
        {},  # extra
        pool,
    )
