"""Match pull events to pods and containers and decide cold / warm / failed.

Design notes: docs/timing.md ("timing/analysis/classify.py").
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from timing.model.events import PullEvent
from timing.model.kube_time import seconds_between
from timing.model.kubelet import BACKOFF, FAILED, PRESENT, PULLED, PULLING
from timing.model.pods import ContainerSpec, PodInfo

COLD = "cold"
WARM = "warm"
FAILED_POD = "failed"
UNKNOWN = "unknown"

_FAR_FUTURE = datetime.max.replace(tzinfo=UTC)


@dataclass
class ContainerResult:
    name: str
    image: str
    init: bool
    cold: bool | None
    failed: bool
    pull_seconds: float | None
    pull_including_waiting_seconds: float | None
    image_size_bytes: int | None

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "image": self.image,
            "init": self.init,
            "cold": self.cold,
            "pull_seconds": self.pull_seconds,
            "pull_including_waiting_seconds": self.pull_including_waiting_seconds,
            "image_size_bytes": self.image_size_bytes,
            "failed": self.failed,
        }


@dataclass
class PodResult:
    pod: PodInfo
    containers: list[ContainerResult]
    pod_class: str
    pull_seconds: float | None
    ready_seconds: float | None
    started_seconds: float | None

    @property
    def ready(self) -> bool:
        return self.ready_seconds is not None


class EventIndex:
    """Pull events indexed once so each pod lookup is O(its own events)."""

    def __init__(self, events: Sequence[PullEvent]):
        self._events = list(events)
        self.by_uid: dict[str, list[PullEvent]] = defaultdict(list)
        # The events that carry no pod uid, by namespace and name: a pod with
        # a uid takes its uid's events and these.
        self._by_name_without_uid: dict[tuple[str, str], list[PullEvent]] = defaultdict(list)
        self._by_name: dict[tuple[str, str], list[PullEvent]] | None = None
        for ev in self._events:
            if ev.pod_uid:
                self.by_uid[ev.pod_uid].append(ev)
            else:
                self._by_name_without_uid[(ev.namespace, ev.pod_name)].append(ev)

    @property
    def by_name(self) -> dict[tuple[str, str], list[PullEvent]]:
        """Every event by namespace and name.  Only a pod without a uid needs
        it (pods from the API always have one), so it is built on first use."""
        if self._by_name is None:
            by_name: dict[tuple[str, str], list[PullEvent]] = defaultdict(list)
            for ev in self._events:
                by_name[(ev.namespace, ev.pod_name)].append(ev)
            self._by_name = by_name
        return self._by_name

    def for_pod(self, pod: PodInfo) -> list[PullEvent]:
        if not pod.uid:
            return list(self.by_name.get((pod.namespace, pod.name), ()))
        out = list(self.by_uid.get(pod.uid, ()))
        if self._by_name_without_uid:
            out.extend(self._by_name_without_uid.get((pod.namespace, pod.name), ()))
        return out


def _sort_key(ev: PullEvent):
    return ev.first_time or ev.last_time or _FAR_FUTURE


def classify_container(spec: ContainerSpec, events: Sequence[PullEvent]) -> ContainerResult:
    cold: bool | None = None
    failed = False
    pulled = None
    # Most containers have one or two pull events: skip the keyed sort when
    # there is nothing to order.  The kinds are distinct constants, so testing
    # them one by one is the same as the set tests, without building tuples.
    for ev in sorted(events, key=_sort_key) if len(events) > 1 else events:
        pull = ev.pull
        kind = pull.kind
        if kind in (FAILED, BACKOFF):
            failed = True
        elif kind == PULLED:
            if cold is None:
                cold = True
            if pulled is None:
                pulled = pull
        elif kind == PULLING:
            if cold is None:
                cold = True
        elif kind == PRESENT and cold is None:
            cold = False
    return ContainerResult(
        name=spec.name,
        image=spec.image,
        init=spec.init,
        cold=cold,
        failed=failed,
        pull_seconds=pulled.pull_seconds if pulled else None,
        pull_including_waiting_seconds=pulled.including_waiting_seconds if pulled else None,
        image_size_bytes=pulled.image_size_bytes if pulled else None,
    )


def _events_for_container(spec: ContainerSpec, events: Sequence[PullEvent], names: set) -> list[PullEvent]:
    out = []
    for ev in events:
        if ev.container is not None and ev.container in names:
            if ev.container == spec.name:
                out.append(ev)
        elif ev.pull.image is not None and ev.pull.image == spec.image:
            out.append(ev)
    return out


def classify_pod(pod: PodInfo, events: Sequence[PullEvent]) -> PodResult:
    containers = pod.containers
    names = {c.name for c in containers}
    results = [classify_container(c, _events_for_container(c, events, names)) for c in containers]
    # One pass instead of three any() scans and a filtered list: this runs
    # once per pod of the dump.
    any_failed = any_cold = any_warm = False
    pulls = []
    for c in results:
        if c.failed:
            any_failed = True
        if c.cold:
            any_cold = True
            if c.pull_seconds is not None:
                pulls.append(c.pull_seconds)
        elif c.cold is False:
            any_warm = True
    if any_failed:
        pod_class = FAILED_POD
    elif any_cold:
        pod_class = COLD
    elif any_warm:
        pod_class = WARM
    else:
        pod_class = UNKNOWN
    # Kubelet starts a pod's containers one after another, pulling each
    # image just before its container, so the pod's pull time is the sum.
    pull_seconds = sum(pulls) if pulls else None
    created = pod.created
    return PodResult(
        pod=pod,
        containers=results,
        pod_class=pod_class,
        pull_seconds=pull_seconds,
        ready_seconds=seconds_between(created, pod.ready_at),
        started_seconds=seconds_between(created, pod.started_at),
    )


def classify_pods(pods: Sequence[PodInfo], events: Sequence[PullEvent]) -> list[PodResult]:
    index = EventIndex(events)
    return [classify_pod(p, index.for_pod(p)) for p in pods]
