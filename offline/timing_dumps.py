"""Constructed kubectl-shaped pods and kubelet events for the timing rules (no cluster involved).

Times are seconds after ``T0``; the objects come from offline.kube_objects.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from offline import kube_objects as kube
from timing.model.events import normalize_events
from timing.model.pods import pod_from_dict
from timing.sources import results

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
    aks_conditions=(),
    starts=None,
    deleted=None,
    pull_policy=None,
    template_hash=None,
):
    """A pod; its containers' runtime ids are ``cid-<pod>-<container>``; ``aks_conditions``: (type, "True"|"False").

    ``starts``: {container: seconds} when containers started at different times (else ``started``).
    """
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
    if template_hash:
        labels["pod-template-hash"] = template_hash
    conditions = []
    if scheduled is not None:
        conditions.append(kube.condition("PodScheduled", True, at(scheduled)))
    if ready is not None:
        conditions.append(kube.condition("Ready", True, at(ready)))
    for kind, status in aks_conditions:
        conditions.append(kube.condition(kind, status == "True", at(created)))
    starts = starts or {cname: started for cname, _image in images}
    statuses = [
        kube.container_status(
            cname,
            kube.running(at(starts[cname])) if starts.get(cname) is not None else None,
            restarts=restarts,
            container_id=f"containerd://cid-{name}-{cname}",
        )
        for cname, _image in images
    ]
    deleted_at = at(deleted) if deleted is not None else None
    metadata = kube.pod_metadata(
        name, namespace="streaming-ab", uid=f"uid-{name}", labels=labels, created=at(created), deleted=deleted_at
    )
    spec = kube.pod_spec(node, [kube.container_spec(cname, image) for cname, image in images])
    if pull_policy:
        for c in spec["containers"]:
            c["imagePullPolicy"] = pull_policy
    phase = "Running" if ready is not None else "Pending"
    return kube.pod_object(metadata, spec, kube.pod_status(phase, conditions, statuses))


def event(pod_doc, reason, message, t, container=None, clock="second", node=None, etype="Normal"):
    """A kubelet event at ``t`` seconds; ``clock``: "second" (core/v1 only), "micro" (eventTime) or "name"."""
    meta = pod_doc["metadata"]
    when = at(t)
    nanos = int((when - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds()) * 1_000_000_000 + when.microsecond * 1000
    name = f"{meta['name']}.{nanos:x}" if clock == "name" else f"{meta['name']}.ev{abs(hash((reason, t))) % 10**6}"
    metadata = kube.event_metadata(name, namespace=meta["namespace"], uid=f"ev-{meta['name']}-{reason}-{t}")
    cname = container or pod_doc["spec"]["containers"][0]["name"]
    regarding = kube.object_reference(meta["name"], meta["uid"], namespace=meta["namespace"], container=cname)
    host = node or pod_doc["spec"]["nodeName"]
    micro = when if clock == "micro" else None
    return kube.core_event(metadata, regarding, reason, message, first=when, event_time=micro, host=host, etype=etype)


def pulled(pod_doc, image, start, end, container=None, clock="second"):
    """ "Pulling" at ``start`` and "Successfully pulled ... in (end-start)s" at ``end``."""
    took = end - start
    return [
        event(pod_doc, "Pulling", kube.pulling_message(image), start, container, clock),
        event(
            pod_doc,
            "Pulled",
            kube.pulled_message(image, f"{took:.3f}s", f"{took:.3f}s", 5000000000),
            end,
            container,
            clock,
        ),
    ]


def nodemon(pod_doc, image, t, digest="sha256:" + "d" * 64):
    """AKS's acr-nodemon "Pulling" event for ``image`` at ``t``: streaming evidence, not a pull start."""
    meta = pod_doc["metadata"]
    metadata = kube.event_metadata(
        f"{meta['name']}.nodemon{t}", namespace=meta["namespace"], uid=f"nm-{meta['name']}-{t}"
    )
    cname = pod_doc["spec"]["containers"][0]["name"]
    regarding = kube.object_reference(meta["name"], meta["uid"], namespace=meta["namespace"], container=cname)
    message = kube.streaming_enabled_message(image, digest)
    host = pod_doc["spec"]["nodeName"]
    return [kube.core_event(metadata, regarding, "Pulling", message, first=at(t), host=host, component="acr-nodemon")]


def present(pod_doc, image, t, container=None):
    return [event(pod_doc, "Pulled", kube.present_message(image), t, container)]


def failed(pod_doc, image, t, container=None):
    not_found = kube.failed_pull_message(image, "rpc error: code = NotFound")
    return [event(pod_doc, "Failed", not_found, t, container, etype="Warning")]


def unhealthy(pod_doc, t):
    """A failed readiness probe at ``t`` seconds."""
    message = "Readiness probe failed: HTTP probe failed with statuscode: 503"
    return [event(pod_doc, "Unhealthy", message, t, etype="Warning")]


def load(pod_docs, event_docs):
    return [pod_from_dict(p) for p in pod_docs], normalize_events(event_docs)


def write_results(folder: Path, ready_seconds: list[tuple[float, float]]) -> Path:
    """A results folder as `measure` writes it: one trial per (standard, streaming) arm-ready pair."""
    for index, (ready_std, ready_art) in enumerate(ready_seconds, start=1):
        offset = 1000.0 * index
        std = pod(
            f"s{index}",
            arm="vote-standard",
            workload="vote",
            pair="v1",
            created=offset,
            scheduled=offset,
            started=offset + ready_std - 1,
            ready=offset + ready_std,
            node="aks-std-0",
        )
        art = pod(
            f"a{index}",
            arm="vote-streaming",
            streaming=True,
            workload="vote",
            pair="v1",
            created=offset,
            scheduled=offset,
            started=offset + ready_art - 1,
            ready=offset + ready_art,
            node="aks-art-0",
        )
        events = pulled(std, BIG, offset + 0.5, offset + ready_std - 1.5)
        events += pulled(art, BIG, offset + 0.5, offset + ready_art - 1.5)
        trial = folder / f"trial-{index}"
        results.write_snapshot(trial, [std, art], events)
        started = f"2026-11-0{index}T09:00:00.000000Z"
        facts = {"aks-art-0": {"vm_size": "Standard_D4ds_v5", "zone": "westus3-1", "kubelet_version": "v1.33.2"}}
        results.write_manifest(trial, {"id": f"t{index}", "index": index, "flagged": False, "verdict": "cold",
                                       "started_at": started, "node_facts": facts})  # fmt: skip
    return folder
