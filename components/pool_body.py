"""Config -> ARM body of one experiment agent pool: the single place both arms are built.

Design notes: docs/providers.md ("components/pool_body.py").
"""

from __future__ import annotations

from typing import Any

from stackconfig.model import PoolConfig


def pool_properties(pool: PoolConfig, kubernetes_version: str | None) -> dict[str, Any]:
    """The `properties` of the agent pool PUT for one configured experiment pool."""
    properties: dict[str, Any] = {
        "count": pool.count,
        "vmSize": pool.vm_size,
        "osType": "Linux",
        "osSKU": pool.os_sku,
        "osDiskType": pool.os_disk_type,
        "type": "VirtualMachineScaleSets",
        "mode": "User",
        # Sorted so that the serialized inputs (and the preview diff) do not move when the config's key
        # order does.
        "nodeLabels": dict(sorted(pool.node_labels.items())),
        "nodeTaints": [pool.taint],
        "workloadRuntime": pool.workload_runtime,
        # Always sent, also when false: a standard arm must be explicitly off, not "whatever the
        # default of the day is".
        "artifactStreamingProfile": {"enabled": pool.artifact_streaming},
    }
    if kubernetes_version is not None:
        # Same minor as the control plane: AKS picks the latest GA patch of that minor, so both arms
        # run the same kubelet/containerd build. Without one, AKS gives the pool the control plane's.
        properties["orchestratorVersion"] = kubernetes_version
    # Managed OS disks keep AKS's default size when the config names none; Ephemeral always has a
    # resolved size (stackconfig/vm_sizes.py) because the default 128 GB may not fit the local disk.
    if pool.os_disk_size_gb is not None:
        properties["osDiskSizeGB"] = pool.os_disk_size_gb
    return properties


def pool_summary(properties: dict[str, Any]) -> dict[str, Any]:
    """The `pools` stack output entry, read from the body the pool resource holds."""
    return {
        "streaming": bool(properties.get("artifactStreamingProfile", {}).get("enabled", False)),
        "vmSize": properties["vmSize"],
        "osDiskType": properties["osDiskType"],
        "osSku": properties["osSKU"],
        # Dynamic resource outputs come back as floats (all Pulumi numbers are).
        "count": int(properties["count"]),
        "labels": dict(properties["nodeLabels"]),
    }
