"""Events from either API group, reduced to what pull classification needs.

``kubectl get events -A -o json`` returns ``core/v1`` Events
(``involvedObject``, ``message``, ``firstTimestamp``/``lastTimestamp``,
``count``); ``kubectl get events.events.k8s.io -A -o json`` returns
``events.k8s.io/v1`` Events (``regarding``, ``note``, ``eventTime``,
``series``, ``deprecated*``).  Both views of one Event share ``metadata.uid``,
so passing both dumps does not double-count.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from timing.model.kube_time import parse_time
from timing.model.kubelet import ACR_NODEMON, PULL_REASONS, PullMessage, parse_message, parse_nodemon_message
from timing.model.sharing import Shared

_FIELD_PATH = re.compile(r"^spec\.(?:initContainers|containers|ephemeralContainers)\{(?P<name>[^}]+)\}$")


@dataclass(frozen=True, init=False, slots=True)
class PullEvent:
    uid: str | None  # event uid, for de-duplication across API groups
    namespace: str
    pod_name: str
    pod_uid: str | None
    container: str | None  # from fieldPath, when kubelet set it
    pull: PullMessage
    first_time: datetime | None
    last_time: datetime | None
    count: int
    node: str | None
    at: datetime | None  # first occurrence on the best clock the event carries
    resolution: float  # seconds: 1e-6 (eventTime), 1e-9 (name-encoded UnixNano), 1.0 (firstTimestamp)

    def __init__(
        self,
        uid,
        namespace,
        pod_name,
        pod_uid,
        container,
        pull,
        first_time,
        last_time,
        count,
        node,
        at=None,
        resolution=1.0,
    ):
        # The slots' own setters: the generated frozen __init__ goes through
        # object.__setattr__ for each field, slower, and a 500 000-event dump
        # builds one of these per pull event.  Still frozen.
        (s_uid, s_ns, s_pod, s_pod_uid, s_container, s_pull, s_first, s_last, s_count, s_node, s_at, s_res) = (
            _PULL_EVENT_SETTERS
        )
        s_uid(self, uid)
        s_ns(self, namespace)
        s_pod(self, pod_name)
        s_pod_uid(self, pod_uid)
        s_container(self, container)
        s_pull(self, pull)
        s_first(self, first_time)
        s_last(self, last_time)
        s_count(self, count)
        s_node(self, node)
        s_at(self, at if at is not None else first_time)
        s_res(self, resolution)


_PULL_EVENT_SETTERS = tuple(PullEvent.__dict__[f.name].__set__ for f in fields(PullEvent))


@lru_cache(maxsize=1024)
def _container_from_str(field_path: str) -> str | None:
    m = _FIELD_PATH.match(field_path)
    return m.group("name") if m else None


def container_from_field_path(field_path: str | None) -> str | None:
    if not field_path:
        return None
    if type(field_path) is str:
        # A pod has a handful of containers, so the same few paths repeat on
        # every event: remember them instead of running the regex each time.
        return _container_from_str(field_path)
    m = _FIELD_PATH.match(field_path)
    return m.group("name") if m else None


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_HEX_SUFFIX = re.compile(r"\.([0-9a-f]{12,16})$")


def time_from_name(name: str | None, pod_name: str, whole_second: datetime | None) -> datetime | None:
    """The nanosecond time client-go writes into event names (``<object>.<hex UnixNano>``).

    Trusted only when it names this pod and falls in the same second as the
    event's own 1 s timestamp, so a name that merely ends in hex is never read
    as a time.
    """
    if not name or whole_second is None or not name.startswith(pod_name + "."):
        return None
    # Matched where the pod's name ends: the only place a search for the suffix could match first.
    m = _HEX_SUFFIX.match(name, len(pod_name))
    if not m:
        return None
    nanos = int(m.group(1), 16)
    seconds, rest = divmod(nanos, 1_000_000_000)
    # timestamp() of an aware datetime is (it - epoch).total_seconds(), computed in C.
    if seconds != int(whole_second.timestamp() // 1):
        return None
    # Positional (days, seconds, microseconds): keywords cost a third more, once per pull event.
    return _EPOCH + timedelta(0, seconds, rest // 1000)


def _is_events_k8s_io(item: dict) -> bool:
    api = item.get("apiVersion") or ""
    if api.startswith("events.k8s.io/"):
        return True
    if api == "v1":
        return False
    # Items inside a List may lack apiVersion; fall back to field names.
    return "regarding" in item and "involvedObject" not in item


# (namespace, node name): a few thousand, on every event (timing.model.sharing).
_PLACES = Shared()


def _normalize(item: dict, reason: str, names: dict) -> PullEvent | None:
    """``names``: one str per pod name and pod uid already seen (a pod has a few pull events)."""
    get = item.get
    if _is_events_k8s_io(item):
        obj = get("regarding") or {}
        message = get("note") or ""
        series = get("series") or {}
        micro = get("eventTime")
        first_raw = micro or get("deprecatedFirstTimestamp")
        first = parse_time(first_raw)
        last_raw = series.get("lastObservedTime") or get("deprecatedLastTimestamp")
        count = int(series.get("count") or get("deprecatedCount") or 1)
        source = get("deprecatedSource") or {}
        node = source.get("host") or get("reportingInstance")
        component = get("reportingController") or source.get("component")
    else:
        obj = get("involvedObject") or {}
        message = get("message") or ""
        series = get("series") or {}
        micro = get("eventTime")
        first_raw = get("firstTimestamp") or micro
        first = parse_time(first_raw)
        last_raw = get("lastTimestamp") or series.get("lastObservedTime")
        count = int(get("count") or series.get("count") or 1)
        source = get("source") or {}
        node = source.get("host") or get("reportingInstance")
        component = source.get("component") or get("reportingComponent")
    if obj.get("kind", "Pod") != "Pod":
        return None
    # AKS's second "Pulling" event is evidence of streaming, never the kubelet's pull start.
    pull = parse_nodemon_message(message) if component == ACR_NODEMON else parse_message(reason, message)
    if pull is None:
        return None
    if not last_raw:
        last = first
    elif last_raw == first_raw and type(last_raw) is str:
        # Most events happened once: first and last are the same text, and
        # parsing it again would give an equal (immutable) datetime.
        last = first
    else:
        last = parse_time(last_raw)
    meta = get("metadata") or {}
    pod_name = obj.get("name") or ""
    if type(pod_name) is str:
        pod_name = names.setdefault(pod_name, pod_name)
    if micro:
        at, resolution = parse_time(micro), 1e-6
    else:
        at = time_from_name(meta.get("name"), pod_name, first)
        at, resolution = (at, 1e-9) if at is not None else (first, 1.0)
    uid = meta.get("uid")
    namespace, node = _PLACES.one((obj.get("namespace") or meta.get("namespace") or "", node or None))
    pod_uid = obj.get("uid") or None
    if type(pod_uid) is str:
        pod_uid = names.setdefault(pod_uid, pod_uid)
    return PullEvent(
        uid,
        namespace,
        pod_name,
        pod_uid,
        container_from_field_path(obj.get("fieldPath")),
        pull,
        first,
        last,
        count,
        node,
        at,
        resolution,
    )


def normalize_events(items: Iterable[dict], seen: set | None = None, pods: set | None = None) -> list:
    """Normalize and de-duplicate (by event uid) an iterable of raw Events.

    ``pods``, a set of ``(namespace, name)``, drops events of other pods
    before any parsing: ``kubectl get events -A`` dumps are mostly about
    pods that are not part of the experiment.
    """
    seen = set() if seen is None else seen
    # The pods' own name objects, so an event holds no copy of its pod's name.
    names = {name: name for _, name in pods or () if type(name) is str}
    out = []
    for item in items:
        reason = item.get("reason")
        if reason not in PULL_REASONS:
            continue
        if pods is not None:
            obj = item.get("involvedObject") or item.get("regarding") or {}
            if (obj.get("namespace"), obj.get("name")) not in pods:
                continue
        ev = _normalize(item, reason, names)
        if ev is None:
            continue
        if ev.uid:
            if ev.uid in seen:
                continue
            seen.add(ev.uid)
        out.append(ev)
    return out
