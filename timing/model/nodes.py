"""Facts of a Node object that can change a measurement: its image, kubelet, containerd, size, region, zone.

Read from ``kubectl get nodes -o json`` items (live or ``report --nodes``), recorded per trial by
``measure``; docs/timing.md ("Node facts") names each field's source.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

NODE_IMAGE_LABEL = "kubernetes.azure.com/node-image-version"
VM_SIZE_LABEL = "node.kubernetes.io/instance-type"
ZONE_LABEL = "topology.kubernetes.io/zone"
REGION_LABEL = "topology.kubernetes.io/region"


def node_facts(node: Mapping) -> dict:
    """Node image version, kubelet and containerd versions, VM size, region, zone, OS image; None where absent."""
    labels = (node.get("metadata") or {}).get("labels") or {}
    info = (node.get("status") or {}).get("nodeInfo") or {}
    return {
        "node_image_version": labels.get(NODE_IMAGE_LABEL),
        "kubelet_version": info.get("kubeletVersion"),
        "container_runtime_version": info.get("containerRuntimeVersion"),
        "os_image": info.get("osImage"),
        "kernel_version": info.get("kernelVersion"),
        "vm_size": labels.get(VM_SIZE_LABEL),
        "region": labels.get(REGION_LABEL),
        "zone": labels.get(ZONE_LABEL),
    }


def facts_by_name(nodes: Iterable[Mapping]) -> dict[str, dict]:
    return {str((n.get("metadata") or {}).get("name")): node_facts(n) for n in nodes}


def node_image_mismatch(facts: Mapping[str, Mapping], nodes_by_arm: Mapping[str, Iterable[str]]) -> str | None:
    """The reason a trial is flagged when its arms ran on different node image versions, else None.

    A node whose version is not known does not count as different (it is reported as unknown).
    """
    versions = {
        arm: sorted({v for n in nodes if (v := (facts.get(n) or {}).get("node_image_version"))})
        for arm, nodes in nodes_by_arm.items()
    }
    seen = {v for vs in versions.values() for v in vs}
    if len(seen) <= 1:
        return None
    parts = ", ".join(f"{arm} {'/'.join(vs) or '?'}" for arm, vs in sorted(versions.items()))
    return f"node_image_mismatch: the arms ran on different node image versions ({parts})"
