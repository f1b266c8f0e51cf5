"""Match pull events to pods and containers and decide cold / warm / failed.

Rules (the same ones ``measure`` uses to verify a trial was cold):

* Events match a pod by uid; an event without a uid matches by
  namespace+name.  An event whose uid names another pod (a re-created pod
  of the same name) never matches.
* Within the pod, an event matches a container by ``fieldPath``
  (``spec.containers{name}``), otherwise by image reference.
* A container is cold when its earliest pull-related event is
  ``Pulling``/``Successfully pulled``, warm when it is ``already present``,
  unknown (``None``) when no such event survives (events expire after 1 h
  by default, so missing events are never taken to mean warm).
* A container failed when any ``Failed to pull``/``Back-off pulling`` event
  exists for it, even if a later retry succeeded: its timing is not a
  clean cold start.
* A pod is failed if any container failed, else cold if any container is
  cold, else warm if any is warm, else unknown ("no pull event").
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Dict, List, Optional, Sequence, Tuple

from .events import PullEvent
from .kube_time import seconds_between
from .kubelet import BACKOFF, FAILED, PRESENT, PULLED, PULLING
from .pods import ContainerSpec, PodInfo

COLD = "cold"
WARM = "warm"
FAILED_POD = "failed"
UNKNOWN = "unknown"

_FAR_FUTURE = datetime.max.replace(tzinfo=timezone.utc)


@dataclass
class ContainerResult:
    name: str
    image: str
    init: bool
    cold: Optional[bool]
    failed: bool
    pull_seconds: Optional[float]
    pull_including_waiting_seconds: Optional[float]
    image_size_bytes: Optional[int]

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
    containers: List[ContainerResult]
    pod_class: str
    pull_seconds: Optional[float]
    ready_seconds: Optional[float]
    started_seconds: Optional[float]

    @property
    def ready(self) -> bool:
        return self.ready_seconds is not None


class EventIndex:
    """Pull events indexed once so each pod lookup is O(its own events)."""

    def __init__(self, events: Sequence[PullEvent]):
        self.by_uid: Dict[str, List[PullEvent]] = defaultdict(list)
        self.by_name: Dict[Tuple[str, str], List[PullEvent]] = defaultdict(list)
        for ev in events:
            if ev.pod_uid:
                self.by_uid[ev.pod_uid].append(ev)
            self.by_name[(ev.namespace, ev.pod_name)].append(ev)

    def for_pod(self, pod: PodInfo) -> List[PullEvent]:
        named = self.by_name.get((pod.namespace, pod.name), ())
        if not pod.uid:
            return list(named)
        out = list(self.by_uid.get(pod.uid, ()))
        out.extend(ev for ev in named if not ev.pod_uid)
        return out


def _sort_key(ev: PullEvent):
    return ev.first_time or ev.last_time or _FAR_FUTURE


def classify_container(spec: ContainerSpec, events: Sequence[PullEvent]) -> ContainerResult:
    cold: Optional[bool] = None
    failed = False
    pulled = None
    for ev in sorted(events, key=_sort_key):
        kind = ev.pull.kind
        if kind in (FAILED, BACKOFF):
            failed = True
        elif kind in (PULLED, PULLING):
            if cold is None:
                cold = True
            if kind == PULLED and pulled is None:
                pulled = ev.pull
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


def _events_for_container(spec: ContainerSpec, events: Sequence[PullEvent], names: set) -> List[PullEvent]:
    out = []
    for ev in events:
        if ev.container is not None and ev.container in names:
            if ev.container == spec.name:
                out.append(ev)
        elif ev.pull.image is not None and ev.pull.image == spec.image:
            out.append(ev)
    return out


def classify_pod(pod: PodInfo, events: Sequence[PullEvent]) -> PodResult:
    names = {c.name for c in pod.containers}
    results = [classify_container(c, _events_for_container(c, events, names)) for c in pod.containers]
    if any(c.failed for c in results):
        pod_class = FAILED_POD
    elif any(c.cold for c in results):
        pod_class = COLD
    elif any(c.cold is False for c in results):
        pod_class = WARM
    else:
        pod_class = UNKNOWN
    pulls = [c.pull_seconds for c in results if c.cold and c.pull_seconds is not None]
    # Kubelet starts a pod's containers one after another, pulling each
    # image just before its container, so the pod's pull time is the sum.
    pull_seconds = sum(pulls) if pulls else None
    ready_seconds = seconds_between(pod.created, pod.ready_at)
    return PodResult(
        pod=pod,
        containers=results,
        pod_class=pod_class,
        pull_seconds=pull_seconds,
        ready_seconds=ready_seconds,
        started_seconds=seconds_between(pod.created, pod.started_at),
    )


def classify_pods(pods: Sequence[PodInfo], events: Sequence[PullEvent]) -> List[PodResult]:
    index = EventIndex(events)
    return [classify_pod(p, index.for_pod(p)) for p in pods]
