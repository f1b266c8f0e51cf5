"""The node probe DaemonSet: reads, never changes, what each experiment node shows of streaming.

One pod per node of the measured pools, in a namespace of its own, with the host's root mounted
read-only; its init container prints one fact per line (parsed by ``timing.model.probe``).
Design notes and what a live node must confirm: docs/timing.md ("Node evidence").
"""

from __future__ import annotations

from collections.abc import Iterable

from contract import LABEL_PART_OF, PART_OF_VALUE
from timing.measure.purge import PURGE_NAMESPACE_LABELS, done_container, node_placement

PROBE_LABEL = "streaming-ab/probe"
PROBE_CONTAINER = "probe"
# Host mounts and hostPID/hostNetwork need the Pod Security level "privileged" on the namespace,
# though the probe itself is not a privileged container: the workloads' namespace stays baseline.
PROBE_NAMESPACE = "streaming-ab-probe"
PROBE_NAMESPACE_LABELS = dict(PURGE_NAMESPACE_LABELS)

# Paths from Azure/AgentBaker e2e/artifact_streaming.go (backstores, exporter, acr-mirror unit) and
# containerd's snapshotter layout; docs/timing.md says which of them a live node must confirm.
PROBE_SCRIPT = r"""
set -u
H=${PROBE_HOST:-/host}  # the host root as mounted; a test points it at a folder
echo "node $(cat $H/etc/hostname 2>/dev/null || hostname)"
if [ ! -r /proc/1/mounts ]; then
  echo "error /proc/1/mounts not readable: no backstore count, no rootfs snapshotter"
elif grep -q ' /sys/kernel/config configfs ' /proc/1/mounts; then
  echo "backstores $(ls -d $H/sys/kernel/config/target/core/user_*/*/ 2>/dev/null | wc -l)"
else
  echo "error configfs is not mounted at /sys/kernel/config: no backstore count"
fi
for id in $PROBE_CONTAINERS; do
  line=$(grep -F "/k8s.io/$id/rootfs " /proc/1/mounts 2>/dev/null | head -n 1)
  [ -n "$line" ] && echo "mount $id $line"
done
conf=$H/etc/overlaybd/overlaybd.json
if [ -f "$conf" ]; then
  dirs=$(grep -o '"cacheDir"[[:space:]]*:[[:space:]]*"[^"]*"' "$conf" | sed 's/.*"\([^"]*\)"$/\1/')
  [ -n "$dirs" ] || dirs="/opt/overlaybd/registry_cache /opt/overlaybd/gzip_cache"
  total=0
  for d in $dirs; do
    [ -d "$H$d" ] && total=$((total + $(find "$H$d" -type f 2>/dev/null | wc -l)))
  done
  echo "cache-files $total"
else
  echo "cache-files 0"
fi
if out=$(wget -q -T 5 -O - http://127.0.0.1:9863/metrics 2>/dev/null); then
  printf '%s\n' "$out" | grep -v '^#' | grep -iE 'overlaybd|obd|bytes' | head -n 400 | sed 's/^/metric /'
else
  echo "error overlaybd exporter 127.0.0.1:9863 not reachable"
fi
if command -v journalctl >/dev/null 2>&1 && [ -d $H/var/log/journal ]; then
  journalctl -D $H/var/log/journal -u acr-mirror --no-pager -n 40 -o cat 2>/dev/null | sed 's/^/mirror /'
else
  echo "error acr-mirror journal not read (no journalctl in the probe image, or no /var/log/journal)"
fi
[ -r $H/var/log/overlaybd.log ] && tail -n 50 $H/var/log/overlaybd.log | sed 's/^/overlaybd-log /'
for pkg in acr-mirror overlaybd overlaybd-snapshotter; do
  v=$(awk -v p="$pkg" '$1=="Package:"{on=($2==p)} on&&$1=="Version:"{print $2; exit}' $H/var/lib/dpkg/status 2>/dev/null)
  [ -n "$v" ] && echo "version $pkg $v"
done
exit 0
""".strip()


def daemonset_name(run_id: str) -> str:
    return f"streaming-ab-probe-{run_id}"[:63].rstrip("-")


def namespace_manifest(name: str = PROBE_NAMESPACE) -> dict:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": dict(PROBE_NAMESPACE_LABELS)}}


def _probe_container(image: str, containers: Iterable[str]) -> dict:
    return {
        "name": PROBE_CONTAINER,
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "command": ["/bin/sh", "-c", PROBE_SCRIPT],
        "env": [{"name": "PROBE_CONTAINERS", "value": " ".join(sorted(set(containers)))}],
        "securityContext": {
            "privileged": False,
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsUser": 0,
            # SYS_PTRACE: read PID 1's mount table; DAC_READ_SEARCH: read root-only files. Nothing else.
            "capabilities": {"drop": ["ALL"], "add": ["SYS_PTRACE", "DAC_READ_SEARCH"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "volumeMounts": [
            {"name": "host-root", "mountPath": "/host", "readOnly": True, "mountPropagation": "HostToContainer"}
        ],
    }


def daemonset_manifest(
    run_id: str, namespace: str, image: str, pools: Iterable[str] | None, containers: Iterable[str] = ()
) -> dict:
    """The probe DaemonSet on the nodes of ``pools``; ``containers``: runtime ids whose rootfs it looks up."""
    affinity, tolerations = node_placement(pools)
    labels = {LABEL_PART_OF: PART_OF_VALUE, "app.kubernetes.io/name": "streaming-ab-probe", PROBE_LABEL: run_id}
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": daemonset_name(run_id), "namespace": namespace, "labels": labels},
        "spec": {
            "selector": {"matchLabels": {PROBE_LABEL: run_id}},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "hostPID": True,  # PID 1's mount table: the containers' rootfs mounts
                    "hostNetwork": True,  # the overlaybd exporter listens on the node's localhost
                    "dnsPolicy": "ClusterFirstWithHostNet",
                    "automountServiceAccountToken": False,
                    "terminationGracePeriodSeconds": 1,
                    "affinity": affinity,
                    "tolerations": tolerations,
                    "initContainers": [_probe_container(image, containers)],
                    "containers": [done_container(image)],
                    "volumes": [{"name": "host-root", "hostPath": {"path": "/"}}],
                },
            },
        },
    }
