"""Match pull events to pods and containers, time each pod's phases and give it a class.

The class is decided by rules fixed before any run (docs/timing.md "Pod classes"), never by the
figures themselves: cold, warm, mixed, failed, restarted, skewed, unknown, terminating, flapped.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from contract import LABEL_APP_NAME, LABEL_ARM, LABEL_PAIR, LABEL_POOL, LABEL_STREAMING, LABEL_WORKLOAD
from timing.model.applog import APP_LOG_RESOLUTION
from timing.model.events import PullEvent
from timing.model.kube_time import seconds_between
from timing.model.kubelet import BACKOFF, FAILED, PRESENT, PULLED, PULLING, UNREADY
from timing.model.pods import ContainerSpec, PodInfo, parse_bool_label

COLD = "cold"
WARM = "warm"
MIXED = "mixed"
FAILED_POD = "failed"
RESTARTED = "restarted"
SKEWED = "skewed"
UNKNOWN = "unknown"
TERMINATING = "terminating"  # deletionTimestamp set: a pod of an earlier rollout on its way out
FLAPPED = "flapped"  # Ready after a failed readiness probe: the Ready time read is not the first
CLASSES = (COLD, WARM, MIXED, FAILED_POD, RESTARTED, SKEWED, UNKNOWN, TERMINATING, FLAPPED)
EXCLUDED_CLASSES = CLASSES[1:]

# Where a container's image came from.
PULLED_BY_POD = "pulled"
PULLED_BY_SIBLING = "sibling"  # present, because a pod on the same node finished pulling it after this one was created
ALREADY_PRESENT = "present"

COMPONENT_LABEL = LABEL_APP_NAME  # the component a pod is, within its arm
KUBE_TIME_RESOLUTION = 1.0  # creationTimestamp and condition times are whole seconds
_FAR_FUTURE = datetime.max.replace(tzinfo=UTC)
_APP_READY_RESOLUTION = max(KUBE_TIME_RESOLUTION, APP_LOG_RESOLUTION)


@dataclass(slots=True)
class ContainerResult:
    name: str
    image: str
    init: bool
    source: str | None  # PULLED_BY_POD, PULLED_BY_SIBLING, ALREADY_PRESENT, or None (no event)
    failed: bool
    pull_seconds: float | None  # the kubelet's own "in X"
    pull_including_waiting_seconds: float | None
    image_size_bytes: int | None
    pull_start: datetime | None = None  # "Pulling image" event
    pull_end: datetime | None = None  # "Successfully pulled" event
    pull_start_resolution: float = KUBE_TIME_RESOLUTION
    pull_end_resolution: float = KUBE_TIME_RESOLUTION
    present_at: datetime | None = None  # "already present on machine" event
    present_resolution: float = KUBE_TIME_RESOLUTION
    # "kubelet": its own "in X"; "events": Pulled − Pulling event times (old kubelets print no duration).
    pull_seconds_from: str | None = None
    first_puller: bool = False  # its pull started first among the trial's pulls of this image on this node

    @property
    def cold(self) -> bool | None:
        if self.source is None:
            return None
        return self.source != ALREADY_PRESENT

    def includes_waiting(self, kubelet: tuple[int, int] | None) -> bool | None:
        """Does ``pull_seconds`` include the wait in kubelet's pull queue?

        Kubelets up to 1.26 print only ``in X``, which includes it; from 1.27 ``in X`` excludes it and
        ``(Y including waiting)`` carries it. Without that part and without a known version, the wording
        itself says the kubelet is older than 1.27. Pull times from event times: unknown (null).
        """
        if self.pull_seconds is None or self.pull_seconds_from != "kubelet":
            return None
        if self.pull_including_waiting_seconds is not None:
            return False
        if kubelet is not None and kubelet >= (1, 27):
            return None  # a 1.27+ kubelet that left the part out: not a wording this reader knows
        return True

    def to_json(self, created: datetime | None, kubelet: tuple[int, int] | None) -> dict:
        """The report's container; ``kubelet`` is its node's kubelet (major, minor), when known."""
        source = self.source
        # One literal with every key: a key added afterwards made each of 100 000 dicts grow.
        return {
            "name": self.name,
            "image": self.image,
            "init": self.init,
            "source": source,
            "cold": None if source is None else source != ALREADY_PRESENT,  # self.cold, without the call
            "failed": self.failed,
            "pull_seconds": self.pull_seconds,
            "pull_seconds_from": self.pull_seconds_from,
            "first_puller": self.first_puller,
            "pull_including_waiting_seconds": self.pull_including_waiting_seconds,
            "image_size_bytes": self.image_size_bytes,
            "pull_start_seconds": seconds_between(created, self.pull_start),
            "pull_end_seconds": seconds_between(created, self.pull_end),
            "pull_seconds_includes_waiting": self.includes_waiting(kubelet),
        }


@dataclass(slots=True)
class PodResult:
    pod: PodInfo
    containers: list[ContainerResult]
    pod_class: str
    pull_seconds: float | None
    ready_seconds: float | None
    started_seconds: float | None
    scheduled_seconds: float | None = None
    app_ready_seconds: float | None = None
    # Set by the report from node evidence (timing.analysis.streamed): not part of the pod's class.
    streamed: bool | None = None
    streaming_evidence: list[str] = field(default_factory=list)
    bytes_fetched: int | None = None
    # The labels the report groups and describes pods by, read once here: on 100 000 pods, each pass
    # that looked one up in the pod's labels again cost about 40 ms.
    arm: str | None = None
    workload: str | None = None
    pair: str | None = None
    component: str | None = None
    pool: str | None = None
    streaming: bool | None = None  # the pod's streaming label, as PodInfo.streaming reads it
    # The sum of the waits its own pulls report (kubelet 1.27+), read with pull_seconds: None without any.
    pull_including_waiting_seconds: float | None = None

    @property
    def ready(self) -> bool:
        return self.ready_seconds is not None

    def pull_resolutions(self) -> tuple[float, float]:
        """The coarsest clocks behind the pulls' starts and ends (``resolution`` has them by figure)."""
        start = end = KUBE_TIME_RESOLUTION  # the maxima, kept as max() keeps them: the first of equals
        for c in self.containers:
            if c.source == PULLED_BY_POD:
                if c.pull_start is not None and c.pull_start_resolution > start:
                    start = c.pull_start_resolution
                if c.pull_end is not None and c.pull_end_resolution > end:
                    end = c.pull_end_resolution
        return start, end

    def resolution(self) -> dict[str, float]:
        """Per figure, the coarsest clock behind it: the figure may be off by less than this."""
        return resolution_of(*self.pull_resolutions())


def resolution_of(pull_start: float, pull_end: float) -> dict[str, float]:
    """``resolution_seconds`` of a pod whose pulls' starts and ends were read to these resolutions."""
    return {
        "scheduled_seconds": KUBE_TIME_RESOLUTION,
        "started_seconds": KUBE_TIME_RESOLUTION,
        "ready_seconds": KUBE_TIME_RESOLUTION,
        # Kubelet measures "in X" itself and prints Go durations to the nanosecond.
        "pull_seconds": 1e-9,
        "app_ready_seconds": _APP_READY_RESOLUTION,
        "pull_start_seconds": pull_start,
        "pull_end_seconds": pull_end,
    }


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
    return ev.at or ev.first_time or ev.last_time or _FAR_FUTURE


def classify_container(spec: ContainerSpec, events: Sequence[PullEvent]) -> ContainerResult:
    source: str | None = None
    failed = False
    pulled = pulled_ev = pulling_ev = present_ev = None
    # Most containers have one or two pull events: skip the keyed sort when there is nothing to order.
    for ev in sorted(events, key=_sort_key) if len(events) > 1 else events:
        kind = ev.pull.kind
        if kind in (FAILED, BACKOFF):
            failed = True
        elif kind == PULLED:
            source = source or PULLED_BY_POD
            if pulled is None:
                pulled, pulled_ev = ev.pull, ev
        elif kind == PULLING:
            source = source or PULLED_BY_POD
            if pulling_ev is None:
                pulling_ev = ev
        elif kind == PRESENT and source is None:
            source, present_ev = ALREADY_PRESENT, ev
    seconds, seconds_from = (pulled.pull_seconds, "kubelet") if pulled else (None, None)
    if pulled and seconds is None and pulling_ev and pulled_ev and pulling_ev.at and pulled_ev.at:
        seconds, seconds_from = (pulled_ev.at - pulling_ev.at).total_seconds(), "events"
    # Positional, in the order of ContainerResult's fields: keywords cost half of the construction.
    return ContainerResult(
        spec.name,
        spec.image,
        spec.init,
        source,
        failed,
        seconds,
        pulled.including_waiting_seconds if pulled else None,
        pulled.image_size_bytes if pulled else None,
        pulling_ev.at if pulling_ev else None,  # pull_start
        pulled_ev.at if pulled_ev else None,  # pull_end
        pulling_ev.resolution if pulling_ev else KUBE_TIME_RESOLUTION,
        pulled_ev.resolution if pulled_ev else KUBE_TIME_RESOLUTION,
        present_ev.at if present_ev else None,  # present_at
        present_ev.resolution if present_ev else KUBE_TIME_RESOLUTION,
        seconds_from if seconds is not None else None,
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


def _image_class(containers: Sequence[ContainerResult]) -> str:
    cold = warm = unknown = False  # a loop, not a set of the sources: one is built per pod
    for c in containers:
        source = c.source
        if source is None:
            unknown = True
        elif source == ALREADY_PRESENT:
            warm = True
        else:  # PULLED_BY_POD or PULLED_BY_SIBLING
            cold = True
    if warm:
        return MIXED if cold else WARM
    if cold and not unknown:
        return COLD
    return UNKNOWN  # a container with no surviving event cannot be shown to be cold


def _flapped(pod: PodInfo, events: Sequence[PullEvent]) -> bool:
    """Ready now, with a readiness probe failing after the containers had started."""
    if pod.ready_at is None or pod.started_at is None:
        return False
    started = pod.started_at
    return any(ev.pull.kind == UNREADY and (t := ev.last_time or ev.at) is not None and t >= started for ev in events)


def _pod_class(pod: PodInfo, containers: Sequence[ContainerResult], skewed: bool, flapped: bool) -> str:
    if pod.deleting:
        return TERMINATING
    for c in containers:
        if c.failed:
            return FAILED_POD
    if pod.restart_count > 0:
        return RESTARTED
    if flapped:
        return FLAPPED
    if skewed:
        return SKEWED
    return _image_class(containers)


def _skewed(created: datetime | None, figures: Sequence[float | None], containers: Sequence[ContainerResult]) -> bool:
    """A figure, or a pull's start or end, before the pod was created: the clocks disagree."""
    for v in figures:
        if v is not None and v < 0:
            return True
    if created is None:
        return False
    for c in containers:
        # start < created is (start - created).total_seconds() < 0, without building the timedelta.
        if (c.pull_start is not None and c.pull_start < created) or (c.pull_end is not None and c.pull_end < created):
            return True
    return False


def _result(pod: PodInfo, containers: list[ContainerResult], flapped: bool = False) -> PodResult:
    created = pod.created
    ready = seconds_between(created, pod.ready_at)
    started = seconds_between(created, pod.started_at)
    scheduled = seconds_between(created, pod.scheduled_at)
    app_ready = seconds_between(created, pod.app_ready_at)
    skewed = _skewed(created, (ready, started, scheduled, app_ready), containers)
    # Kubelet pulls each image just before its container starts, so the pod's pull time is the sum
    # of the pulls it made itself (a sibling's pull is not this pod's).
    # Summed as sum() of their lists would, without building two lists for each pod.
    pulls: float = 0  # 0, not 0.0: the start sum() takes
    waits: float = 0
    pulled = waited = False
    for c in containers:
        if c.source == PULLED_BY_POD:
            if c.pull_seconds is not None:
                pulls, pulled = pulls + c.pull_seconds, True
            if c.pull_including_waiting_seconds is not None:
                waits, waited = waits + c.pull_including_waiting_seconds, True
    pod_class = _pod_class(pod, containers, skewed, flapped)
    labels = pod.labels
    return PodResult(
        pod,
        containers,
        pod_class,
        pulls if pulled else None,
        ready,
        started,
        scheduled,
        app_ready,
        None,  # streamed, streaming_evidence and bytes_fetched: set by the report
        [],
        None,
        labels.get(LABEL_ARM),
        labels.get(LABEL_WORKLOAD),
        labels.get(LABEL_PAIR),
        labels.get(COMPONENT_LABEL),
        labels.get(LABEL_POOL),
        parse_bool_label(labels.get(LABEL_STREAMING)),
        waits if waited else None,
    )


def classify_pods(pods: Sequence[PodInfo], events: Sequence[PullEvent]) -> list[PodResult]:
    index = EventIndex(events)
    per_pod = []
    # When each (trial, node, image) finished being pulled by some pod: a pod that found the image
    # "already present" after such a pull began on its watch is a cold sibling, not warm.
    pull_ends: dict[tuple, list[datetime]] = defaultdict(list)
    first_pulls: dict[tuple, tuple] = {}
    present: list[tuple[PodInfo, datetime, ContainerResult]] = []  # the containers that may be a sibling's
    for p in pods:
        evs = index.for_pod(p)
        specs = p.containers
        names = {c.name for c in specs}
        containers = [classify_container(c, _events_for_container(c, evs, names)) for c in specs]
        per_pod.append((p, containers, _flapped(p, evs) if p.ready_at is not None else False))
        for c in containers:
            if c.source == ALREADY_PRESENT and p.created is not None:
                present.append((p, p.created, c))
        if not p.node:
            continue
        for c in containers:
            if c.source != PULLED_BY_POD:
                continue
            key = (p.trial, p.node, c.image)
            if c.pull_end is not None:
                pull_ends[key].append(c.pull_end)
            if c.pull_start is not None:
                order = (c.pull_start, p.name)
                if key not in first_pulls or order < first_pulls[key][0]:
                    first_pulls[key] = (order, c)
    for _order, c in first_pulls.values():
        c.first_puller = True
    if pull_ends:
        for p, created, c in present:
            ends = pull_ends.get((p.trial, p.node, c.image)) or ()
            if any(_sibling_pull(end, created, c) for end in ends):
                c.source = PULLED_BY_SIBLING
    return [_result(p, containers, flapped) for p, containers, flapped in per_pod]


def _sibling_pull(end: datetime, created: datetime, c: ContainerResult) -> bool:
    """A sibling's pull that ended after this pod was created and before it found the image present.

    Whole-second times: a pull ending in the creation's own second counts as after it, and one ending
    within the resolution of the "already present" event as before it.
    """
    if end < created:
        return False
    return c.present_at is None or end <= c.present_at + timedelta(seconds=c.present_resolution)
