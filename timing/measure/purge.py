"""The ``--reset purge`` DaemonSet: removes experiment images from every experiment node.

Design notes: docs/timing.md ("timing/measure/purge.py").
"""

from __future__ import annotations

from collections.abc import Iterable

from contract import LABEL_PART_OF, LABEL_POOL, PART_OF_VALUE

PURGE_LABEL = "streaming-ab/purge"
# The purge pods are privileged (hostPID, the host's root): they run in a namespace of their own whose
# Pod Security level allows that, so the workloads' namespace keeps enforcing baseline.
PURGE_NAMESPACE = "streaming-ab-purge"
PURGE_NAMESPACE_LABELS = {
    LABEL_PART_OF: PART_OF_VALUE,
    "pod-security.kubernetes.io/enforce": "privileged",
    "pod-security.kubernetes.io/warn": "privileged",
    "pod-security.kubernetes.io/audit": "privileged",
}
# AKS's documented node-debugging image (`kubectl debug node/... --image=...`).
# Its busybox may lack the nsenter applet; the wrapper then falls back to
# chroot into the host root, which reaches the same crictl and files.
DEFAULT_PURGE_IMAGE = "mcr.microsoft.com/cbl-mariner/busybox:2.0"

HOST_SCRIPT = r"""
set -u
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/opt/bin
node=$(hostname)
rc=0
if ! command -v crictl >/dev/null 2>&1; then
  echo "$node: crictl not found on the host" >&2
  exit 2
fi
for ref in $PURGE_IMAGES; do
  for id in $(crictl images -q "$ref" 2>/dev/null); do
    crictl rmi "$id" >/dev/null 2>&1 && echo "$node: removed $ref ($id)" || { echo "$node: rmi failed for $ref ($id)" >&2; rc=1; }
  done
  if [ -n "$(crictl images -q "$ref" 2>/dev/null)" ]; then
    echo "$node: $ref is still present" >&2
    rc=1
  fi
done
conf=/etc/overlaybd/overlaybd.json
if [ -f "$conf" ]; then
  dirs=$(grep -o '"cacheDir"[[:space:]]*:[[:space:]]*"[^"]*"' "$conf" | sed 's/.*"\([^"]*\)"$/\1/')
  [ -n "$dirs" ] || dirs="/opt/overlaybd/registry_cache /opt/overlaybd/gzip_cache"
  for d in $dirs; do
    case "$d" in
      /?*) ;;
      *) echo "$node: refusing to empty cache dir '$d'" >&2; rc=1; continue ;;
    esac
    if [ -d "$d" ]; then
      find "$d" -mindepth 1 -delete && echo "$node: emptied overlaybd cache $d" || { echo "$node: could not empty $d" >&2; rc=1; }
    fi
  done
else
  echo "$node: no $conf (not an artifact-streaming node)"
fi
exit $rc
""".strip()

WRAPPER = (
    "if command -v nsenter >/dev/null 2>&1; then "
    'exec nsenter --target 1 --mount --uts --ipc --net --pid -- /bin/sh -c "$PURGE_SCRIPT"; '
    'else exec chroot /host /bin/sh -c "$PURGE_SCRIPT"; fi'
)


def daemonset_name(run_id: str) -> str:
    return f"streaming-ab-purge-{run_id}"[:63].rstrip("-")


def node_placement(pools: Iterable[str] | None) -> tuple[dict, list[dict]]:
    """Affinity and tolerations for one pod per node of `pools` (every experiment pool when none)."""
    chosen = sorted(set(pools or ()))
    match = (
        {"key": LABEL_POOL, "operator": "In", "values": chosen} if chosen else {"key": LABEL_POOL, "operator": "Exists"}
    )
    tolerations = (
        [{"key": LABEL_POOL, "operator": "Equal", "value": p, "effect": "NoSchedule"} for p in chosen]
        if chosen
        else [{"key": LABEL_POOL, "operator": "Exists", "effect": "NoSchedule"}]
    )
    affinity = {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": [match]}]}
        }
    }
    return affinity, tolerations


def namespace_manifest(name: str = PURGE_NAMESPACE) -> dict:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": dict(PURGE_NAMESPACE_LABELS)}}


# The "done" container of the purge and probe DaemonSets: marks the node finished, needs nothing of the host.
DONE_CONTAINER_SECURITY = {
    "runAsNonRoot": True,
    "runAsUser": 65532,
    "runAsGroup": 65532,
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}


def done_container(image: str) -> dict:
    return {
        "name": "done",
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "command": ["/bin/sh", "-c", "while true; do sleep 3600; done"],
        "resources": {"requests": {"cpu": "1m", "memory": "4Mi"}, "limits": {"memory": "16Mi"}},
        "securityContext": dict(DONE_CONTAINER_SECURITY),
    }


def daemonset_manifest(
    run_id: str,
    namespace: str,
    images: Iterable[str],
    image: str = DEFAULT_PURGE_IMAGE,
    pools: Iterable[str] | None = None,
) -> dict:
    """The purge DaemonSet; with `pools`, only on the nodes of those pools (the ones being measured)."""
    affinity, tolerations = node_placement(pools)
    labels = {
        LABEL_PART_OF: PART_OF_VALUE,
        "app.kubernetes.io/name": "streaming-ab-purge",
        PURGE_LABEL: run_id,
    }
    env = [
        {"name": "PURGE_IMAGES", "value": "\n".join(sorted(set(images)))},
        {"name": "PURGE_SCRIPT", "value": HOST_SCRIPT},
    ]
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": daemonset_name(run_id), "namespace": namespace, "labels": labels},
        "spec": {
            "selector": {"matchLabels": {PURGE_LABEL: run_id}},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "hostPID": True,
                    "automountServiceAccountToken": False,
                    "terminationGracePeriodSeconds": 1,
                    "affinity": affinity,
                    "tolerations": tolerations,
                    "initContainers": [
                        {
                            "name": "purge",
                            "image": image,
                            "imagePullPolicy": "IfNotPresent",
                            "command": ["/bin/sh", "-c", WRAPPER],
                            "env": env,
                            "securityContext": {"privileged": True},
                            "volumeMounts": [{"name": "host-root", "mountPath": "/host"}],
                        }
                    ],
                    # Only the init container needs the host; this one just marks the node done.
                    "containers": [done_container(image)],
                    "volumes": [{"name": "host-root", "hostPath": {"path": "/"}}],
                },
            },
        },
    }


def pod_purge_state(pod: dict, container: str = "purge") -> str:
    """``done``, ``failed`` or ``running`` from the purge (or probe) init container's status."""
    for cs in (pod.get("status") or {}).get("initContainerStatuses") or ():
        if cs.get("name") != container:
            continue
        for state in (cs.get("state") or {}, cs.get("lastState") or {}):
            term = state.get("terminated")
            if term is not None and term.get("exitCode", 0) != 0:
                return "failed"
        term = (cs.get("state") or {}).get("terminated")
        if term is not None and term.get("exitCode") == 0:
            return "done"
    return "running"
