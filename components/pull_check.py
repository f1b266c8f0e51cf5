"""The pull-check Job of one experiment pool, as a plain dict: `az aks check-acr`, done by the kubelet itself.

The Job's only container is `cluster.pullCheckImage` (hello-world: FROM scratch, one static binary),
pulled from the registry by the node's kubelet on the pool it is pinned to. It completes only once
that pull worked, so the Deployments that wait for it never start a measured pull that would fall
back (AcrPull not yet assigned or propagated). Bounded by `activeDeadlineSeconds`; the Pulumi
resource's timeout is a little longer, so Kubernetes' own `DeadlineExceeded` is what gets reported.
"""

from __future__ import annotations

from typing import Any

from components.manifests import PULL_SECRET_NAME
from components.pod_security import POD_SECURITY_CONTEXT
from contract import LABEL_CHECK, LABEL_PART_OF, LABEL_POOL, PULL_CHECK
from contract import PART_OF_VALUE as PART_OF
from stackconfig.model import PoolConfig

# hello-world's /hello (mode 0755 in docker-library/hello-world) needs no privilege: any user, no
# capability, read-only root.
CHECK_USER = 65534
# Lets `pulumi up` re-run a check that failed in an earlier update instead of waiting on it again.
REPLACE_UNREADY_ANNOTATION = "pulumi.com/replaceUnready"


def pull_check_name(pool: PoolConfig) -> str:
    return f"pull-check-{pool.name}"


def pull_check_labels(pool: PoolConfig) -> dict[str, str]:
    """What `timing measure` selects the check of a pool by (contract/)."""
    return {LABEL_PART_OF: PART_OF, LABEL_CHECK: PULL_CHECK, LABEL_POOL: pool.name}


def pull_check_job(
    pool: PoolConfig, *, namespace_name: Any, image: Any, deadline_seconds: int, use_pull_secret: bool = False
) -> dict[str, Any]:
    """A Job that succeeds once the kubelet of a node of `pool` has pulled `image` from the registry."""
    if pool.count == 0:
        raise ValueError(f"pool {pool.name!r} is parked (count 0): no node can run its pull check")
    labels = pull_check_labels(pool)
    container = {
        "name": "pull-check",
        "image": image,
        # Always ask the registry: a copy already on the node proves nothing about today's access.
        "imagePullPolicy": "Always",
        "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"cpu": "100m", "memory": "16Mi"}},
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "runAsUser": CHECK_USER,
            "runAsGroup": CHECK_USER,
            "capabilities": {"drop": ["ALL"]},
        },
    }
    pod_spec: dict[str, Any] = {
        "nodeSelector": {LABEL_POOL: pool.name},
        "tolerations": [{"key": LABEL_POOL, "operator": "Equal", "value": pool.name, "effect": "NoSchedule"}],
        "containers": [container],
        "restartPolicy": "Never",
        "enableServiceLinks": False,
        "automountServiceAccountToken": False,
        "securityContext": dict(POD_SECURITY_CONTEXT),
    }
    if use_pull_secret:
        pod_spec["imagePullSecrets"] = [{"name": PULL_SECRET_NAME}]
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": pull_check_name(pool),
            "namespace": namespace_name,
            "labels": labels,
            "annotations": {REPLACE_UNREADY_ANNOTATION: "true"},
        },
        "spec": {
            # A failed pull leaves the pod waiting (ImagePullBackOff), never failed: the deadline bounds it.
            "activeDeadlineSeconds": deadline_seconds,
            "backoffLimit": 2,
            "template": {"metadata": {"labels": dict(labels)}, "spec": pod_spec},
        },
    }
