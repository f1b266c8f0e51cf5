"""Was the streaming arm really streaming, and were the nodes really cold?  Checked, not assumed.

A comparison's ``verified`` is ``{"streaming", "configured", "cold": true|false|null, "reasons": [...]}``:
``streaming`` from each pod's node evidence (timing.analysis.streamed), ``configured`` from the
configuration (ARM flag, node label, artifact, by-tag reference), which alone never makes ``streaming``
true; false when evidence contradicts, null when it was not available, true only when every check
passed; ``contradicted`` lists the reasons that are evidence against, the rest is evidence missing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from contract import LABEL_POOL, NODE_STREAMING_LABEL
from timing.analysis.streamed import streaming_verdict
from timing.model.evidence import Evidence
from timing.model.pods import PodInfo

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


def _images(pods: Sequence[PodInfo]) -> list[str]:
    return sorted({c.image for p in pods for c in p.containers})


def _streaming_checks(
    baseline: Sequence[PodInfo], streaming: Sequence[PodInfo], evidence: Sequence[Evidence]
) -> tuple[list[bool | None], list[tuple[bool | None, str]]]:
    results: list[bool | None] = []
    reasons: list[tuple[bool | None, str]] = []

    def note(ok: bool | None, why: str) -> None:
        results.append(ok)
        if ok is not True:
            reasons.append((ok, why))

    by_digest = sorted({c.image for p in streaming for c in p.containers if "@" in c.image})
    note(
        not by_digest,
        f"streaming arm references {', '.join(by_digest)} by digest: artifact streaming works only for pulls by tag",
    )
    for side, pods, want in (("streaming", streaming, True), ("baseline", baseline, False)):
        for pool in sorted({p.labels.get(LABEL_POOL) or "" for p in pods}):
            flags = {ev.pool_streaming.get(pool) for ev in evidence} or {None}
            if None in flags:
                note(None, f"{side} pool {pool or '?'}: artifactStreamingProfile not read back from ARM")
            elif flags != {want}:
                note(False, f"{side} pool {pool}: ARM says artifactStreamingProfile.enabled is {not want}")
            else:
                note(True, "")
        for node in sorted({p.node for p in pods if p.node}):
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
    for image in _images(streaming):
        known = {ev.streaming_artifacts[image] for ev in evidence if image in ev.streaming_artifacts}
        if not known:
            note(None, f"{image}: streaming artifact not confirmed (read from the stack's images output: give --stack)")
        elif False in known:
            note(False, f"{image}: the registry has no streaming artifact for it")
        else:
            note(True, "")
    return results, reasons


def _cold_checks(
    pods_by_trial: Mapping[object, Sequence[PodInfo]], evidence_by_trial: Mapping[object, Evidence | None]
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
        for node in sorted({p.node for p in pods if p.node}):
            names = before.get(node)
            wanted = sorted({c.image for p in pods if p.node == node for c in p.containers})
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
    baseline: Sequence[PodInfo],
    streaming: Sequence[PodInfo],
    trials: Sequence[object],
    evidence_by_trial: Mapping[object, Evidence | None],
    streamed: Mapping[int, bool | None] | None = None,
) -> dict:
    """``verified`` for one comparison, over the trials its speed-up uses (all trials if none is usable).

    ``streamed``: each pod's evidence-based verdict by ``id()`` of its PodInfo (absent: no evidence).
    """
    chosen = set(trials) or {p.trial for p in (*baseline, *streaming)}
    b = [p for p in baseline if p.trial in chosen]
    s = [p for p in streaming if p.trial in chosen]
    evidence = [e for t in sorted(chosen, key=str) if (e := evidence_by_trial.get(t)) is not None]
    streaming_results, streaming_reasons = _streaming_checks(b, s, evidence)
    by_trial: dict[object, list[PodInfo]] = {}
    for p in (*b, *s):
        by_trial.setdefault(p.trial, []).append(p)
    cold_results, cold_reasons = _cold_checks(by_trial, evidence_by_trial)
    verdicts = streamed or {}
    streamed_ok, streamed_reasons = streaming_verdict(
        [(p.name, verdicts.get(id(p))) for p in b], [(p.name, verdicts.get(id(p))) for p in s]
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
