"""Constructed kubectl-shaped pods and kubelet events for the timing rules (no cluster involved)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from offline.timing_support import format_time
from timing.model.events import normalize_events
from timing.model.kube_time import format_micro_time
from timing.model.pods import pod_from_dict

T0 = datetime(2026, 11, 3, 9, 0, 0, tzinfo=UTC)
BIG = "acr.azurecr.io/big:v1"
SIDE = "acr.azurecr.io/side:v1"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def pod(
    name,
    arm="a-std",
    streaming=False,
    node="n1",
    created=0.0,
    ready=None,
    started=None,
    scheduled=None,
    images=(("app", BIG),),
    restarts=0,
    trial=None,
    workload="w",
    pair="p",
    pool=None,
    component=None,
):
    labels = {
        "streaming-ab/arm": arm,
        "streaming-ab/streaming": "true" if streaming else "false",
        "streaming-ab/workload": workload,
        "streaming-ab/pair": pair,
        "streaming-ab/pool": pool or ("art" if streaming else "std"),
    }
    if trial is not None:
        labels["streaming-ab/trial"] = str(trial)
    if component:
        labels["app.kubernetes.io/name"] = component
    conditions = []
    if scheduled is not None:
        conditions.append({"type": "PodScheduled", "status": "True", "lastTransitionTime": format_time(at(scheduled))})
    if ready is not None:
        conditions.append({"type": "Ready", "status": "True", "lastTransitionTime": format_time(at(ready))})
    statuses = []
    for cname, _img in images:
        st = {"name": cname, "restartCount": restarts}
        if started is not None:
            st["state"] = {"running": {"startedAt": format_time(at(started))}}
        statuses.append(st)
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": "streaming-ab",
            "uid": f"uid-{name}",
            "labels": labels,
            "creationTimestamp": format_time(at(created)),
        },
        "spec": {"nodeName": node, "containers": [{"name": c, "image": i} for c, i in images]},
        "status": {
            "phase": "Running" if ready is not None else "Pending",
            "conditions": conditions,
            "containerStatuses": statuses,
        },
    }


def event(pod_doc, reason, message, t, container=None, clock="second", node=None):
    """A kubelet event at ``t`` seconds; ``clock``: "second" (core/v1 only), "micro" (eventTime) or "name"."""
    meta = pod_doc["metadata"]
    when = at(t)
    nanos = int((when - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds()) * 1_000_000_000 + when.microsecond * 1000
    name = f"{meta['name']}.{nanos:x}" if clock == "name" else f"{meta['name']}.ev{abs(hash((reason, t))) % 10**6}"
    cname = container or pod_doc["spec"]["containers"][0]["name"]
    doc = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": name, "namespace": meta["namespace"], "uid": f"ev-{meta['name']}-{reason}-{t}"},
        "involvedObject": {
            "kind": "Pod",
            "name": meta["name"],
            "namespace": meta["namespace"],
            "uid": meta["uid"],
            "fieldPath": f"spec.containers{{{cname}}}",
        },
        "reason": reason,
        "message": message,
        "count": 1,
        "firstTimestamp": format_time(when),
        "lastTimestamp": format_time(when),
        "source": {"component": "kubelet", "host": node or pod_doc["spec"]["nodeName"]},
    }
    if clock == "micro":
        doc["eventTime"] = format_micro_time(when)
    return doc


def pulled(pod_doc, image, start, end, container=None, clock="second"):
    """ "Pulling" at ``start`` and "Successfully pulled ... in (end-start)s" at ``end``."""
    return [
        event(pod_doc, "Pulling", f'Pulling image "{image}"', start, container, clock),
        event(
            pod_doc,
            "Pulled",
            f'Successfully pulled image "{image}" in {end - start:.3f}s ({end - start:.3f}s including waiting). '
            "Image size: 5000000000 bytes.",
            end,
            container,
            clock,
        ),
    ]


def present(pod_doc, image, t, container=None):
    return [event(pod_doc, "Pulled", f'Container image "{image}" already present on machine', t, container)]


def failed(pod_doc, image, t, container=None):
    return [event(pod_doc, "Failed", f'Failed to pull image "{image}": rpc error: code = NotFound', t, container)]


def load(pod_docs, event_docs):
    return [pod_from_dict(p) for p in pod_docs], normalize_events(event_docs)
