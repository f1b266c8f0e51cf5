"""Did a pod's pull stream?  Decided from node evidence only: the probe, acr-nodemon events, AKS conditions.

``true``: evidence for (overlaybd backstores or an overlaybd rootfs while it ran, an acr-nodemon event
for its image); ``false``: evidence against (zero backstores or an overlayfs rootfs, AKS's
``UpgradeIfStreamableDisabled`` True, a baseline pod with nothing for); ``null``: no evidence.  Evidence
against wins.  Configuration alone never makes a pod ``true`` (docs/timing.md, "Node evidence").
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from timing.model.events import PullEvent
from timing.model.evidence import Evidence
from timing.model.kubelet import STREAMED
from timing.model.pods import PodInfo
from timing.model.probe import OVERLAYBD, OVERLAYFS

# An AKS pod condition that, when True, says the pull was not upgraded to the streaming artifact.
UPGRADE_DISABLED = "UpgradeIfStreamableDisabled"
BASELINE_POOL = "baseline pod: its pool has no artifact streaming"


@dataclass
class Streamed:
    streamed: bool | None
    evidence: list[str] = field(default_factory=list)  # the lines the verdict rests on, for and against
    bytes_fetched: int | None = None


def node_bytes_fetched(evidence: Evidence | None, node: str | None) -> int | None:
    """Bytes the node's overlaybd exporter counted between the post-reset probe and the probe while pods ran."""
    if evidence is None or not node:
        return None
    during, before = evidence.probes.get(node), evidence.probes_after_reset.get(node)
    if during is None or before is None or during.bytes_fetched is None or before.bytes_fetched is None:
        return None
    return max(0, during.bytes_fetched - before.bytes_fetched)


def any_probed(evidence: Mapping[object, Evidence | None], trials: Iterable) -> bool:
    """Was a node probed in any of these trials?  If not, no node has a reading (most dumps have none)."""
    return any((ev := evidence.get(trial)) is not None and ev.probes for trial in trials)


def _probe_lines(pod: PodInfo, evidence: Evidence | None) -> tuple[list[str], list[str]]:
    probe = evidence.probes.get(pod.node or "") if evidence else None
    if probe is None:
        return [], []
    for_, against = [], []
    for name, cid in sorted(pod.container_ids.items()):
        where = probe.rootfs.get(cid)
        if where == OVERLAYBD:
            for_.append(f"node {pod.node}: container {name}'s rootfs is on the overlaybd snapshotter")
        elif where == OVERLAYFS:
            against.append(f"node {pod.node}: container {name}'s rootfs is on the overlayfs snapshotter")
    if probe.backstores is not None and probe.backstores > 0:
        for_.append(f"node {pod.node}: {probe.backstores} overlaybd TCMU backstore(s) while the pod ran")
    elif probe.backstores == 0:
        against.append(f"node {pod.node}: zero overlaybd TCMU backstores while the pod ran (overlayfs fallback)")
    return for_, against


def pod_streamed(
    pod: PodInfo,
    streaming: bool | None,
    events: Sequence[PullEvent],
    evidence: Evidence | None,
    alone_on_node: bool = False,
) -> Streamed:
    """The verdict for one pod; ``streaming``: its streaming label, as the classification read it;
    ``alone_on_node``: its node's fetched bytes are this pod's alone."""
    if not events and not pod.aks_conditions and (evidence is None or not evidence.probes):
        # Nothing from the node at all (dumps, a live read): only a baseline pod has a verdict.
        return Streamed(False, [BASELINE_POOL]) if streaming is False else Streamed(None)
    images = {c.image for c in pod.containers}
    for_, against = _probe_lines(pod, evidence)
    for ev in events:
        if ev.pull.kind == STREAMED and ev.pull.image in images:
            for_.append(f"acr-nodemon: {ev.pull.text}")
    if pod.aks_conditions.get(UPGRADE_DISABLED) == "True":
        against.append(f"pod condition {UPGRADE_DISABLED}=True: AKS did not upgrade the pull to streaming")
    if streaming is False and not for_:
        against.append(BASELINE_POOL)
    verdict = False if against else (True if for_ else None)
    fetched = node_bytes_fetched(evidence, pod.node) if alone_on_node else None
    return Streamed(verdict, for_ + against, fetched)


def arm_bytes_fetched(readings: Sequence[int], image_sizes: Sequence[int | None]) -> dict[str, int | float | None]:
    """Median bytes fetched per (trial, node) of an arm, against the size of the arm's images when known."""
    fetched = int(statistics.median(readings)) if readings else None
    size = sum(s for s in image_sizes if s is not None) if image_sizes and None not in image_sizes else None
    fraction = round(fetched / size, 4) if fetched is not None and size else None
    return {"bytes": fetched, "image_size_bytes": size, "fraction": fraction, "readings": len(readings)}


def streaming_verdict(
    baseline: Sequence[tuple[str, bool | None]], streaming: Sequence[tuple[str, bool | None]]
) -> tuple[bool | None, list[tuple[bool | None, str]]]:
    """``verified.streaming``: every streaming-arm pod streamed and no baseline pod did."""
    reasons: list[tuple[bool | None, str]] = []
    for name, value in streaming:
        if value is False:
            reasons.append((False, f"streaming pod {name} did not stream (pods[].streaming_evidence)"))
    unknown = [name for name, value in streaming if value is None]
    if unknown:
        shown = ", ".join(unknown[:3]) + (f" and {len(unknown) - 3} more" if len(unknown) > 3 else "")
        reasons.append((None, f"{len(unknown)} streaming pod(s) without node evidence that they streamed: {shown}"))
    for name, value in baseline:
        if value is True:
            reasons.append((False, f"baseline pod {name} streamed (pods[].streaming_evidence)"))
    if any(ok is False for ok, _ in reasons):
        return False, reasons
    if reasons or not streaming:
        return None, reasons or [(None, "no streaming-arm pod to check")]
    return True, reasons
