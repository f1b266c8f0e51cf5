import json

from tests.conftest import TIMING_FIXTURES
from timing.model.events import PullEvent, container_from_field_path, normalize_events
from timing.model.kubelet import BACKOFF, PULLED


def normalize_event(item: dict) -> PullEvent | None:
    """One raw Event through the batch path, alone: its ``PullEvent``, or None when it is left out."""
    events = normalize_events([item])
    return events[0] if events else None


IMG = "acr.azurecr.io/big:v1"


def core_event(**over):
    ev = {
        "apiVersion": "v1",
        "kind": "Event",
        "count": 3,
        "eventTime": None,
        "firstTimestamp": "2024-05-01T10:00:01Z",
        "lastTimestamp": "2024-05-01T10:00:40Z",
        "involvedObject": {
            "apiVersion": "v1",
            "fieldPath": "spec.containers{app}",
            "kind": "Pod",
            "name": "p-1",
            "namespace": "ns",
            "uid": "u-1",
        },
        "message": f'Successfully pulled image "{IMG}" in 2.5s',
        "metadata": {"name": "p-1.17c", "namespace": "ns", "uid": "e-1"},
        "reason": "Pulled",
        "source": {"component": "kubelet", "host": "node-a"},
        "type": "Normal",
    }
    ev.update(over)
    return ev


def k8sio_event(**over):
    ev = {
        "apiVersion": "events.k8s.io/v1",
        "kind": "Event",
        "regarding": {
            "apiVersion": "v1",
            "fieldPath": "spec.initContainers{setup}",
            "kind": "Pod",
            "name": "p-2",
            "namespace": "ns",
            "uid": "u-2",
        },
        "note": f'Back-off pulling image "{IMG}"',
        "reason": "BackOff",
        "eventTime": "2024-05-01T10:00:04.412000Z",
        "series": {"count": 6, "lastObservedTime": "2024-05-01T10:01:50.000001Z"},
        "reportingController": "kubelet",
        "reportingInstance": "node-b",
        "metadata": {"name": "p-2.18a", "namespace": "ns", "uid": "e-2"},
        "type": "Warning",
    }
    ev.update(over)
    return ev


def test_core_v1_event():
    ev = normalize_event(core_event())
    assert (ev.namespace, ev.pod_name, ev.pod_uid, ev.container, ev.count, ev.node) == (
        "ns",
        "p-1",
        "u-1",
        "app",
        3,
        "node-a",
    )
    assert ev.pull.kind == PULLED and ev.pull.pull_seconds == 2.5
    assert ev.first_time.isoformat() == "2024-05-01T10:00:01+00:00"
    assert ev.last_time.isoformat() == "2024-05-01T10:00:40+00:00"


def test_events_k8s_io_v1_with_series():
    ev = normalize_event(k8sio_event())
    assert (ev.pod_name, ev.pod_uid, ev.container, ev.count, ev.node) == ("p-2", "u-2", "setup", 6, "node-b")
    assert ev.pull.kind == BACKOFF
    assert ev.first_time.isoformat() == "2024-05-01T10:00:04.412000+00:00"
    assert ev.last_time.isoformat() == "2024-05-01T10:01:50.000001+00:00"


def test_events_k8s_io_v1_deprecated_fields():
    ev = normalize_event(
        k8sio_event(
            eventTime=None,
            series=None,
            deprecatedCount=2,
            deprecatedFirstTimestamp="2024-05-01T10:00:00Z",
            deprecatedLastTimestamp="2024-05-01T10:00:09Z",
            deprecatedSource={"component": "kubelet", "host": "node-c"},
            reportingInstance="",
        )
    )
    assert ev.count == 2 and ev.node == "node-c"
    assert ev.first_time.isoformat() == "2024-05-01T10:00:00+00:00"
    assert ev.last_time.isoformat() == "2024-05-01T10:00:09+00:00"


def test_list_items_without_apiversion_are_detected_by_fields():
    raw = k8sio_event()
    raw.pop("apiVersion")
    assert normalize_event(raw).pod_name == "p-2"
    raw = core_event()
    raw.pop("apiVersion")
    assert normalize_event(raw).pod_name == "p-1"


def test_irrelevant_events_are_dropped():
    assert normalize_event(core_event(reason="Started", message="Started container app")) is None
    node_event = core_event()
    node_event["involvedObject"]["kind"] = "Node"
    assert normalize_event(node_event) is None


def test_same_event_from_both_api_groups_is_counted_once():
    a = core_event(message=f'Back-off pulling image "{IMG}"', reason="BackOff")
    b = k8sio_event()
    b["metadata"]["uid"] = a["metadata"]["uid"]
    assert len(normalize_events([a, b])) == 1


def test_field_path_parsing():
    assert container_from_field_path("spec.containers{web}") == "web"
    assert container_from_field_path("spec.initContainers{init-db}") == "init-db"
    assert container_from_field_path("spec.ephemeralContainers{debugger}") == "debugger"
    assert container_from_field_path("") is None
    assert container_from_field_path("metadata.name") is None


def test_fixture_dumps_overlap_is_deduplicated():
    core = json.loads((TIMING_FIXTURES / "events.json").read_text())["items"]
    k8s = json.loads((TIMING_FIXTURES / "events-k8s-io.json").read_text())["items"]
    core_uids = {e["metadata"]["uid"] for e in core}
    overlap = [e for e in k8s if e["metadata"]["uid"] in core_uids]
    assert overlap, "fixtures should contain events present in both API groups"
    separate = len(normalize_events(core)) + len(normalize_events(k8s))
    together = len(normalize_events(core + k8s))
    overlapping_pull_events = len(normalize_events(overlap))
    assert overlapping_pull_events > 0
    assert together == separate - overlapping_pull_events


def test_event_times_prefer_event_time_then_the_name_encoded_nanoseconds():
    from datetime import UTC, datetime

    from timing.model.events import time_from_name

    when = datetime(2026, 11, 3, 9, 0, 5, 123456, tzinfo=UTC)
    nanos = int(when.replace(microsecond=0).timestamp()) * 10**9 + 123456789
    base = {
        "apiVersion": "v1",
        "kind": "Event",
        "reason": "Pulled",
        "message": 'Successfully pulled image "a/b:1" in 1s',
        "involvedObject": {"kind": "Pod", "name": "p", "namespace": "ns", "uid": "u"},
        "firstTimestamp": "2026-11-03T09:00:05Z",
        "lastTimestamp": "2026-11-03T09:00:05Z",
        "metadata": {"name": f"p.{nanos:x}", "uid": "e1"},
    }
    named = normalize_event(base)
    assert named.at == when and named.resolution == 1e-9
    micro = normalize_event({**base, "eventTime": "2026-11-03T09:00:05.654321Z"})
    assert micro.at.microsecond == 654321 and micro.resolution == 1e-6
    # A name whose hex is not this event's second (or not this pod's) is never read as a time.
    other = normalize_event({**base, "metadata": {"name": "p.000000000000001f", "uid": "e2"}})
    assert other.at == other.first_time and other.resolution == 1.0
    assert time_from_name(f"q.{nanos:x}", "p", named.first_time) is None
