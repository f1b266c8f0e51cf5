"""Was the streaming arm really streaming, and were the nodes really cold?  Checked, not assumed.

A comparison's ``verified`` is ``{"streaming", "configured", "cold": true|false|null, "reasons": [...]}``:
``streaming`` from each pod's node evidence (timing.analysis.streamed), ``configured`` from the
configuration (ARM flag, node label, artifact, by-tag reference), which alone never makes ``streaming``
true; false when evidence contradicts, null when it was not available, true only when every check
passed; ``contradicted`` lists the reasons that are evidence against, the rest is evidence missing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

from contract import NODE_STREAMING_LABEL
from timing.analysis.classify import PodResult
from timing.analysis.streamed import streaming_verdict
from timing.model.evidence import Evidence

# Kubelet reports at most this many images in node status by default (--node-status-max-images):
# a full list does not prove an image absent.
NODE_STATUS_MAX_IMAGES = 50


def _combine(values: Iterable[bool | None]) -> bool | None:
    vals = list(values)
    if any(v is False for v in vals):
        return False
    if not vals or any(v is None for v in vals):
        return None
    return True


def _streaming_checks(
    baseline: Sequence[PodResult], streaming: Sequence[PodResult], evidence: Sequence[Evidence]
) -> tuple[list[bool | None], list[tuple[bool | None, str]]]:
    results: list[bool | None] = []
    reasons: list[tuple[bool | None, str]] = []

    def note(ok: bool | None, why: str) -> None:
        results.append(ok)
        if ok is not True:
            reasons.append((ok, why))

    images = sorted({c.image for r in streaming for c in r.containers})
    by_digest = [image for image in images if "@" in image]
    note(
        not by_digest,
        f"streaming arm references {', '.join(by_digest)} by digest: artifact streaming works only for pulls by tag",
    )
    for side, pods, want in (("streaming", streaming, True), ("baseline", baseline, False)):
        for pool in sorted({r.pool or "" for r in pods}):
            flags = {ev.pool_streaming.get(pool) for ev in evidence} or {None}
            if None in flags:
                note(None, f"{side} pool {pool or '?'}: artifactStreamingProfile not read back from ARM")
            elif flags != {want}:
                note(False, f"{side} pool {pool}: ARM says artifactStreamingProfile.enabled is {not want}")
            else:
                note(True, "")
        for node in sorted({r.pod.node for r in pods if r.pod.node}):
            labels = [ev.node_labels[node] for ev in evidence if node in ev.node_labels]
            if not labels:
                note(None, f"{side} node {node}: labels not read")
                continue
            on = {lb.get(NODE_STREAMING_LABEL) == "true" for lb in labels}
            if on != {want}:
                state = "lacks" if want else "carries"
                note(False, f"{side} node {node} {state} {NODE_STREAMING_LABEL}=true")
            else:
                note(True, "")
    for image in images:
        known = {ev.streaming_artifacts[image] for ev in evidence if image in ev.streaming_artifacts}
        if not known:
            note(None, f"{image}: streaming artifact not confirmed (read from the stack's images output: give --stack)")
        elif False in known:
            note(False, f"{image}: the registry has no streaming artifact for it")
        else:
            note(True, "")
    return results, reasons


def _cold_checks(
    pods_by_trial: Mapping[object, Sequence[PodResult]], evidence_by_trial: Mapping[object, Evidence | None]
) -> tuple[list[bool | None], list[tuple[bool | None, str]]]:
    results: list[bool | None] = []
    reasons: list[tuple[bool | None, str]] = []
    for trial, pods in pods_by_trial.items():
        ev = evidence_by_trial.get(trial)
        before = ev.node_images_before if ev else None
        label = "" if trial is None else f"trial {trial}: "
        if before is None:
            results.append(None)
            reasons.append((None, f"{label}node images were not read before the pods started"))
            continue
        for node in sorted({r.pod.node for r in pods if r.pod.node}):
            names = before.get(node)
            wanted = sorted({c.image for r in pods if r.pod.node == node for c in r.containers})
            if names is None:
                results.append(None)
                reasons.append((None, f"{label}node {node} was not read before the trial"))
            elif any(img in names for img in wanted):
                results.append(False)
                found = ", ".join(i for i in wanted if i in names)
                reasons.append((False, f"{label}node {node} already held {found} before the trial"))
            elif len(names) >= NODE_STATUS_MAX_IMAGES:
                results.append(None)
                reasons.append(
                    (None, f"{label}node {node} lists {len(names)} images (kubelet's cap): absence proves nothing")
                )
            else:
                results.append(True)
    return results, reasons


def verify(
    baseline: Sequence[PodResult],
    streaming: Sequence[PodResult],
    trials: Sequence[object],
    evidence_by_trial: Mapping[object, Evidence | None],
) -> dict:
    """``verified`` for one comparison, over the trials its speed-up uses (all trials if none is usable).

    Each pod's evidence-based verdict is its ``streamed`` (None: no evidence).
    """
    chosen = set(trials) or {r.pod.trial for r in (*baseline, *streaming)}
    b = [r for r in baseline if r.pod.trial in chosen]
    s = [r for r in streaming if r.pod.trial in chosen]
    evidence = [e for t in sorted(chosen, key=str) if (e := evidence_by_trial.get(t)) is not None]
    streaming_results, streaming_reasons = _streaming_checks(b, s, evidence)
    by_trial: dict[object, list[PodResult]] = defaultdict(list)
    for r in (*b, *s):
        by_trial[r.pod.trial].append(r)
    cold_results, cold_reasons = _cold_checks(by_trial, evidence_by_trial)
    streamed_ok, streamed_reasons = streaming_verdict(
        [(r.pod.name, r.streamed) for r in b], [(r.pod.name, r.streamed) for r in s]
    )
    reasons = streaming_reasons + cold_reasons + streamed_reasons
    return {
        "streaming": streamed_ok,
        "configured": _combine(streaming_results),
        "cold": _combine(cold_results),
        "reasons": [why for _ok, why in reasons],
        # The subset that is evidence against (the rest is evidence missing).
        "contradicted": [why for ok, why in reasons if ok is False],
    }
