"""Was a trial run as the protocol says?  Per trial and comparison, the flags that leave it out of the headline.

Each flag is a reason code counted in ``excluded_trials`` (docs/timing.md, "Flagged trials"):
``unequal_pods``, ``missing_pods``, ``start_skew``, ``off_pool``, ``pull_always``; and from a results
folder's manifest ``warm_up``, ``contradicted``, ``reset_failed``, the manifest's own ``flags``
(``node_image_mismatch``, ...) and ``flagged_no_reason`` when it gives none of these.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from contract import LABEL_ARM, LABEL_POOL
from timing.analysis.classify import PodResult
from timing.model.evidence import Evidence

START_SKEW_SECONDS = 5.0  # both arms' Deployments scale up in the same step: their first pods are this close

UNEQUAL_PODS = "unequal_pods"
MISSING_PODS = "missing_pods"
START_SKEW = "start_skew"
OFF_POOL = "off_pool"
PULL_ALWAYS = "pull_always"
WARM_UP = "warm_up"
CONTRADICTED = "contradicted"
RESET_FAILED = "reset_failed"
FLAGGED_NO_REASON = "flagged_no_reason"
DRIFT = "drift"


def manifest_flags(trial: Mapping) -> list[str]:
    """Why ``measure`` flagged a trial of a results folder, as reason codes."""
    if not trial.get("flagged"):
        return []
    codes = []
    # Protocol flags measure raised itself (node_image_mismatch, reset_failed, ...): their own codes.
    own = [str(f) for f in trial.get("flags") or ()]
    if trial.get("verdict") == "reset-failed":
        codes.append(RESET_FAILED)
    elif own:
        # A manifest flag makes measure mark the trial unexpected too: only a verdict off the mode contradicts.
        if trial.get("verdict") != ("warm" if trial.get("mode") == "warm" else "cold"):
            codes.append(CONTRADICTED)
    elif trial.get("unexpected", trial.get("verdict") not in ("cold", "warm")):
        codes.append(CONTRADICTED)
    # The first cold trial is flagged on purpose (registry warming); a warm run's first trial is not.
    if trial.get("first_trial", trial.get("index") == 1) and trial.get("mode") != "warm":
        codes.append(WARM_UP)
    codes += [f for f in own if f not in codes]
    # Flagged with nothing to say why: claiming a contradicted verdict would invent a reason.
    return codes or [FLAGGED_NO_REASON]


def node_pools(nodes: Sequence[Mapping] | None, evidence: Mapping[object, Evidence | None]) -> dict[str, str]:
    """Node name -> its ``streaming-ab/pool`` label, from raw Node objects and the evidence read with trials."""
    pools: dict[str, str] = {}
    # A live read holds one Evidence for every trial (timing.sources.inputs.SameForEveryTrial).
    shared = getattr(evidence, "evidence", None)
    for ev in [shared] if shared is not None else list(evidence.values()):
        for name, labels in (ev.node_labels if ev else {}).items():
            if LABEL_POOL in labels:
                pools[name] = labels[LABEL_POOL]
    for node in nodes or ():
        meta = node.get("metadata") or {}
        labels = meta.get("labels") or {}
        if meta.get("name") and LABEL_POOL in labels:
            pools[meta["name"]] = labels[LABEL_POOL]
    return pools


def _first_created(results: Sequence[PodResult]):
    times = [r.pod.created for r in results if r.pod.created is not None]
    return min(times) if times else None


def _off_pool(results: Sequence[PodResult], pools: Mapping[str, str]) -> bool:
    if not pools:
        return False  # no node's pool known (most dumps): nothing to check the pods against
    for r in results:
        want, node = r.pod.pool, r.pod.node
        if want and node and node in pools and pools[node] != want:
            return True
    return False


def _pull_always_unproven(results: Sequence[PodResult], evidence: Evidence | None) -> bool:
    """``imagePullPolicy: Always`` makes kubelet pull on a warm node too: only node images read before
    the trial can show such a pod cold."""
    before = evidence.node_images_before if evidence else None
    for r in results:
        for c in r.pod.containers:
            if not c.pull_always:
                continue
            names = (before or {}).get(r.pod.node or "")
            if names is None or c.image in names:
                return True
    return False


def protocol_flags(
    baseline: Sequence[PodResult],
    streaming: Sequence[PodResult],
    *,
    expected: Mapping[str, int],
    pools: Mapping[str, str],
    evidence: Evidence | None,
) -> list[str]:
    """The protocol flags of one trial of a comparison; ``expected``: arm name -> replicas asked, when known."""
    flags = []
    if len(baseline) != len(streaming):
        flags.append(UNEQUAL_PODS)
    for results in (baseline, streaming):
        arm = results[0].pod.labels.get(LABEL_ARM) if results else None
        if arm is not None and arm in expected and len(results) < expected[arm]:
            flags.append(MISSING_PODS)
            break
    b0, s0 = _first_created(baseline), _first_created(streaming)
    if b0 is not None and s0 is not None and abs((b0 - s0).total_seconds()) > START_SKEW_SECONDS:
        flags.append(START_SKEW)
    if _off_pool([*baseline, *streaming], pools):
        flags.append(OFF_POOL)
    if _pull_always_unproven([*baseline, *streaming], evidence):
        flags.append(PULL_ALWAYS)
    return flags
