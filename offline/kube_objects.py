"""kubectl-shaped Pods, Events and Nodes for tests, fixture dumps and benchmarks (no cluster involved).

Small pieces that compose: a pod is ``pod_object(pod_metadata(...), pod_spec(...), pod_status(...))``,
an event is ``core_event`` or ``k8sio_event`` about an ``object_reference``, kubelet's words come from
the ``*_message`` functions. Keys come in the order kubectl prints them, so written dumps read like real
ones; a field left as None is left out, so the same builders make both full and minimal objects.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from contract import LABEL_POOL
from offline.timing_support import format_time
from timing.model.kube_time import format_micro_time

Doc = dict[str, Any]


def _present(doc: Doc) -> Doc:
    return {key: value for key, value in doc.items() if value is not None}


# --- pods ---------------------------------------------------------------------------------------------


def owner_reference(name: str, uid: str) -> Doc:
    """The ReplicaSet a Deployment's pod belongs to."""
    return {
        "apiVersion": "apps/v1",
        "blockOwnerDeletion": True,
        "controller": True,
        "kind": "ReplicaSet",
        "name": name,
        "uid": uid,
    }


def pod_metadata(
    name: str,
    *,
    namespace: str,
    uid: str,
    labels: dict[str, str],
    created: datetime,
    deleted: datetime | None = None,
    generate_name: str | None = None,
    owner: Doc | None = None,
    resource_version: str | None = None,
) -> Doc:
    return _present(
        {
            "creationTimestamp": format_time(created),
            "deletionTimestamp": format_time(deleted) if deleted else None,
            "generateName": generate_name,
            "labels": labels,
            "name": name,
            "namespace": namespace,
            "ownerReferences": [owner] if owner else None,
            "resourceVersion": resource_version,
            "uid": uid,
        }
    )


def container_spec(name: str, image: str, *, port: int | None = None, token_volume: str | None = None) -> Doc:
    """A container as the Deployment declares it; with a port, dressed as the API server returns it."""
    if port is None:
        return {"image": image, "name": name}
    return {
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "name": name,
        "ports": [{"containerPort": port, "protocol": "TCP"}],
        "resources": {"limits": {"cpu": "500m", "memory": "512Mi"}, "requests": {"cpu": "250m", "memory": "256Mi"}},
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
        "volumeMounts": [
            {"mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "name": token_volume, "readOnly": True}
        ],
    }


def _not_ready_tolerations() -> list[Doc]:
    return [
        {"effect": "NoExecute", "key": f"node.kubernetes.io/{taint}", "operator": "Exists", "tolerationSeconds": 300}
        for taint in ("not-ready", "unreachable")
    ]


def _token_volume(name: str) -> Doc:
    namespace_item = {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}, "path": "namespace"}
    return {
        "name": name,
        "projected": {
            "defaultMode": 420,
            "sources": [
                {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                {"configMap": {"items": [{"key": "ca.crt", "path": "ca.crt"}], "name": "kube-root-ca.crt"}},
                {"downwardAPI": {"items": [namespace_item]}},
            ],
        },
    }


def pod_spec(node: str, containers: list[Doc], *, pool: str | None = None, token_volume: str | None = None) -> Doc:
    """Containers on a node; with a pool, the whole spec of a pod pinned to that experiment pool."""
    if pool is None:
        return {"containers": containers, "nodeName": node}
    return {
        "containers": containers,
        "dnsPolicy": "ClusterFirst",
        "enableServiceLinks": True,
        "nodeName": node,
        "nodeSelector": {"kubernetes.io/os": "linux", LABEL_POOL: pool},
        "preemptionPolicy": "PreemptLowerPriority",
        "priority": 0,
        "restartPolicy": "Always",
        "schedulerName": "default-scheduler",
        "securityContext": {},
        "serviceAccount": "default",
        "serviceAccountName": "default",
        "terminationGracePeriodSeconds": 30,
        "tolerations": [
            {"effect": "NoSchedule", "key": LABEL_POOL, "operator": "Equal", "value": pool},
            *_not_ready_tolerations(),
        ],
        "volumes": [_token_volume(token_volume or "kube-api-access")],
    }


def condition(kind: str, status: bool, when: datetime, *, reason: str | None = None, message: str | None = None) -> Doc:
    doc: Doc = {
        "lastProbeTime": None,
        "lastTransitionTime": format_time(when),
        "status": "True" if status else "False",
        "type": kind,
    }
    return doc | _present({"message": message, "reason": reason})


def running(started: datetime) -> Doc:
    return {"running": {"startedAt": format_time(started)}}


def waiting(reason: str, message: str | None = None) -> Doc:
    return {"waiting": _present({"message": message, "reason": reason})}


def container_status(
    name: str,
    state: Doc | None,
    *,
    image: str | None = None,
    image_id: str | None = None,
    last_state: Doc | None = None,
    ready: bool | None = None,
    restarts: int | None = None,
    started: bool | None = None,
    container_id: str | None = None,
) -> Doc:
    return _present(
        {
            "image": image,
            "imageID": image_id,
            "lastState": last_state,
            "name": name,
            "ready": ready,
            "restartCount": restarts,
            "started": started,
            "state": state,
            "containerID": container_id,
        }
    )


def pod_status(
    phase: str,
    conditions: list[Doc],
    statuses: list[Doc] | None = None,
    *,
    host_ip: str | None = None,
    pod_ip: str | None = None,
    start: datetime | None = None,
) -> Doc:
    """Phase, conditions and container statuses; with a host IP, the addresses kubectl shows as well."""
    return _present(
        {
            "conditions": conditions,
            "containerStatuses": statuses,
            "hostIP": host_ip,
            "hostIPs": [{"ip": host_ip}] if host_ip else None,
            "phase": phase,
            "podIP": pod_ip,
            "podIPs": [{"ip": pod_ip}] if pod_ip else None,
            "qosClass": "Burstable" if host_ip else None,
            "startTime": format_time(start) if start else None,
        }
    )


def pod_object(metadata: Doc, spec: Doc, status: Doc) -> Doc:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec, "status": status}


# --- events -------------------------------------------------------------------------------------------


def object_reference(
    name: str,
    uid: str | None,
    *,
    namespace: str,
    container: str | None = None,
    resource_version: str | None = None,
    kind: str = "Pod",
) -> Doc:
    """What an event is about: a pod, or one container of it (``fieldPath``)."""
    return _present(
        {
            "apiVersion": "v1",
            "fieldPath": f"spec.containers{{{container}}}" if container else None,
            "kind": kind,
            "name": name,
            "namespace": namespace,
            "resourceVersion": resource_version,
            "uid": uid,
        }
    )


def event_metadata(
    name: str, *, namespace: str, uid: str, created: datetime | None = None, resource_version: str | None = None
) -> Doc:
    return _present(
        {
            "creationTimestamp": format_time(created) if created else None,
            "name": name,
            "namespace": namespace,
            "resourceVersion": resource_version,
            "uid": uid,
        }
    )


def core_event(
    metadata: Doc,
    regarding: Doc,
    reason: str,
    message: str,
    *,
    first: datetime | None = None,
    last: datetime | None = None,
    event_time: datetime | None = None,
    count: int | None = 1,
    component: str = "kubelet",
    host: str | None = None,
    instance: str | None = None,
    etype: str = "Normal",
    action: str | None = None,
    series: Doc | None = None,
) -> Doc:
    """A core/v1 Event; one recorded through events.k8s.io (``action`` set) has no source or timestamps."""
    doc: Doc = {"apiVersion": "v1"}
    if count is not None:
        doc["count"] = count
    doc |= {
        "eventTime": format_micro_time(event_time) if event_time else None,
        "firstTimestamp": format_time(first) if first else None,
        "involvedObject": regarding,
        "kind": "Event",
        "lastTimestamp": format_time(last or first) if first else None,
        "message": message,
        "metadata": metadata,
        "reason": reason,
        "reportingComponent": component,
        "reportingInstance": instance if instance is not None else host or "",
        "source": {"component": component, "host": host} if host is not None else {},
        "type": etype,
    }
    return doc | _present({"action": action, "series": series})


def k8sio_event(
    metadata: Doc,
    regarding: Doc,
    reason: str,
    note: str,
    *,
    first: datetime | None = None,
    last: datetime | None = None,
    event_time: datetime | None = None,
    count: int = 1,
    controller: str = "kubelet",
    host: str | None = None,
    instance: str | None = None,
    etype: str = "Normal",
    action: str | None = None,
    series: Doc | None = None,
) -> Doc:
    """An events.k8s.io/v1 Event; kubelet's still fill the ``deprecated*`` fields, an ``action`` does not."""
    doc: Doc = {
        "apiVersion": "events.k8s.io/v1",
        "kind": "Event",
        "metadata": metadata,
        "note": note,
        "reason": reason,
        "regarding": regarding,
        "reportingController": controller,
        "reportingInstance": instance if instance is not None else host or "",
        "type": etype,
    }
    micro = format_micro_time(event_time) if event_time else None
    if action is not None:
        doc |= {"action": action, "eventTime": micro}
    else:
        doc |= {
            "eventTime": micro,
            "deprecatedCount": count,
            "deprecatedFirstTimestamp": format_time(first) if first else None,
            "deprecatedLastTimestamp": format_time(last or first) if first else None,
            "deprecatedSource": {"component": controller, "host": host},
        }
    if series is not None:
        doc["series"] = series
    return doc


# --- what kubelet and the scheduler say ---------------------------------------------------------------


def pulling_message(image: str) -> str:
    return f'Pulling image "{image}"'


def streaming_enabled_message(image: str, digest: str, started: str = "5s") -> str:
    """AKS's acr-nodemon "Pulling" event text (as the issue quotes it; a live node must confirm the wording)."""
    return (
        f'Streaming enabled for "{image}", upgraded to streaming artifact with digest "{digest}", '
        f"container started in {started}"
    )


def pulled_message(image: str, took: str, waiting: str | None = None, size: int | None = None) -> str:
    """kubelet's pull line in its three generations: plain, with waiting time (1.27+), with image size."""
    text = f'Successfully pulled image "{image}" in {took}'
    if waiting is not None:
        text += f" ({waiting} including waiting)"
    if size is not None:
        text += f". Image size: {size} bytes."
    return text


def present_message(image: str, *, accessible: bool = False) -> str:
    return f'Container image "{image}" already present on machine' + (
        " and can be accessed by the pod" if accessible else ""
    )


def failed_pull_message(image: str, cause: str) -> str:
    return f'Failed to pull image "{image}": {cause}'


def backoff_message(image: str) -> str:
    return f'Back-off pulling image "{image}"'


def assigned_message(namespace: str, pod: str, node: str) -> str:
    return f"Successfully assigned {namespace}/{pod} to {node}"


# --- nodes and lists ----------------------------------------------------------------------------------


def node_object(
    name: str, uid: str, labels: dict[str, str], *, ready: bool, images: Iterable[str], node_info: Doc | None = None
) -> Doc:
    """A Node as the timing evidence reads it: labels, Ready condition, the images kubelet lists, ``nodeInfo``."""
    status = {
        "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
        "images": [{"names": [image], "sizeBytes": 1} for image in images],
    }
    return {
        "metadata": {"name": name, "uid": uid, "labels": labels},
        "status": _present(status | {"nodeInfo": node_info}),
    }


def aks_node_info(kubelet: str = "v1.33.2", containerd: str = "containerd://1.7.27-1") -> Doc:
    """``status.nodeInfo`` the way an AKS Ubuntu node reports it."""
    return {
        "containerRuntimeVersion": containerd,
        "kernelVersion": "5.15.0-1089-azure",
        "kubeletVersion": kubelet,
        "osImage": "Ubuntu 22.04.5 LTS",
    }


def kubectl_list(items: list[Doc]) -> Doc:
    return {"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}}


def write_list(path: Path, items: list[Doc]) -> None:
    """``kubectl get ... -o json`` as kubectl writes it (4-space indent)."""
    path.write_text(json.dumps(kubectl_list(items), indent=4, ensure_ascii=False) + "\n")


class ListWriter:
    """Writes the same kubectl List one item at a time, for dumps too large to hold in memory."""

    ITEM_INDENT = " " * 8  # items sit two levels deep: List object, items array

    def __init__(self, path: Path):
        self.fh = open(path, "w")  # noqa: SIM115 - closed by close(), written item by item
        self.fh.write('{\n    "apiVersion": "v1",\n    "items": [\n')
        self.first = True

    def add(self, item: Doc) -> None:
        if not self.first:
            self.fh.write(",\n")
        self.first = False
        # JSON strings hold no raw newline, so every newline is a line break.
        self.fh.write(self.ITEM_INDENT + json.dumps(item, indent=4).replace("\n", "\n" + self.ITEM_INDENT))

    def close(self) -> None:
        self.fh.write('\n    ],\n    "kind": "List",\n    "metadata": {\n        "resourceVersion": ""\n    }\n}\n')
        self.fh.close()
