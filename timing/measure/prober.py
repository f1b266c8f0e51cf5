"""Runs the node probe DaemonSet (``timing.measure.probe``) once and takes its output back, node by node.

The DaemonSet is deleted whatever happens (Ctrl-C included); ``close`` removes its namespace.
A node whose probe failed or did not finish has no output: its evidence is missing, never guessed.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from contract import LABEL_POOL
from timing.measure.cleanup import delete_daemonset
from timing.measure.probe import (
    PROBE_CONTAINER,
    PROBE_LABEL,
    PROBE_NAMESPACE,
    daemonset_manifest,
    daemonset_name,
    namespace_manifest,
)
from timing.measure.purge import pod_purge_state
from timing.model.probe import NodeProbe, parse_probe_output
from timing.sources.cluster import Clock, Cluster

PROBE_LOG_BYTES = 256 * 1024


@dataclass
class ProbeRun:
    """Raw output per node, and what kept a node's output away."""

    outputs: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


class NodeProber:
    def __init__(
        self,
        cluster: Cluster,
        clock: Clock,
        image: str,
        timeout: float,
        poll: float,
        id_factory: Callable[[], str] = lambda: uuid.uuid4().hex[:8],
    ):
        self.cluster, self.clock, self.image = cluster, clock, image
        self.timeout, self.poll, self.id_factory = timeout, poll, id_factory
        self._namespace_ready = False

    def probe(self, pools: list[str], containers: Iterable[str], status: Callable[[str], None]) -> ProbeRun:
        """Every node of ``pools``: its probe output, or the problem that kept it away."""
        selector = f"{LABEL_POOL} in ({','.join(sorted(pools))})" if pools else LABEL_POOL
        nodes = sorted(str((n.get("metadata") or {}).get("name")) for n in self.cluster.list_nodes(selector))
        run = ProbeRun()
        if not nodes:
            run.problems.append("no node to probe")
            return run
        run_id = self.id_factory()
        name = daemonset_name(run_id)
        interrupted: BaseException | None = None
        try:
            if not self._namespace_ready:
                self.cluster.create_namespace(namespace_manifest(PROBE_NAMESPACE))
                self._namespace_ready = True
            manifest = daemonset_manifest(run_id, PROBE_NAMESPACE, self.image, pools, containers)
            self.cluster.create_daemonset(PROBE_NAMESPACE, manifest)
            self._collect(run, run_id, nodes, status)
        except Exception as error:  # noqa: BLE001 - an API error costs this trial its node evidence, not the run
            run.problems.append(f"node probe failed: {error}")
        except BaseException as error:  # Ctrl-C: the DaemonSet must go, then the interrupt goes on
            interrupted = error
            raise
        finally:
            # A DaemonSet that cannot be deleted stops the run (ResetError), unless an interrupt is under way.
            delete_daemonset(self.cluster, self.clock, PROBE_NAMESPACE, name, interrupted, "probe")
        return run

    def _collect(self, run: ProbeRun, run_id: str, nodes: list[str], status: Callable[[str], None]) -> None:
        deadline = self.clock.monotonic() + self.timeout
        while True:
            pods = self.cluster.list_pods(PROBE_NAMESPACE, f"{PROBE_LABEL}={run_id}")
            by_node = {str((p.get("spec") or {}).get("nodeName")): p for p in pods}
            states = {n: pod_purge_state(p, PROBE_CONTAINER) for n, p in by_node.items()}
            waiting = sorted(n for n in nodes if states.get(n, "running") == "running")
            if not waiting or self.clock.monotonic() >= deadline:
                break
            status(f"probing nodes: {len(nodes) - len(waiting)}/{len(nodes)} done")
            self.clock.sleep(self.poll)
        for node in nodes:
            state = states.get(node, "running")
            if state != "done":
                what = "failed" if state == "failed" else f"did not finish within {self.timeout:.0f} s"
                run.problems.append(f"node probe on {node} {what}")
                continue
            meta = by_node[node].get("metadata") or {}
            text = self.cluster.read_pod_log(PROBE_NAMESPACE, meta.get("name", ""), PROBE_CONTAINER, PROBE_LOG_BYTES)
            if text is None:
                run.problems.append(f"node probe on {node}: its output could not be read")
            else:
                run.outputs[node] = text

    def close(self) -> None:
        if self._namespace_ready:
            self.cluster.delete_namespace(PROBE_NAMESPACE)
            self._namespace_ready = False


def parse_run(run: ProbeRun) -> dict[str, NodeProbe]:
    return {node: parse_probe_output(node, text) for node, text in sorted(run.outputs.items())}


def reset_leftovers(probes: dict[str, NodeProbe]) -> str | None:
    """Why a reset did not leave the nodes cold (backstores or cached blocks still there), else None."""
    left = []
    for node, probe in sorted(probes.items()):
        if probe.backstores:
            left.append(f"{node} {probe.backstores} overlaybd backstore(s)")
        if probe.cache_files:
            left.append(f"{node} {probe.cache_files} cached overlaybd block file(s)")
    return f"reset_failed: after the reset the probe still found {', '.join(left)}" if left else None


def pod_container_ids(pods: Iterable[dict]) -> list[str]:
    """Runtime ids (without the ``containerd://`` scheme) of the pods' containers, to look their rootfs up."""
    out = set()
    for p in pods:
        status = p.get("status") or {}
        for cs in (*(status.get("initContainerStatuses") or ()), *(status.get("containerStatuses") or ())):
            cid = cs.get("containerID") or ""
            if cid:
                out.add(cid.partition("://")[2] or cid)
    return sorted(out)
