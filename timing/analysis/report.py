"""Build the ``streaming-ab/timing-report@3`` document from pods, events and verification evidence.

Every figure is defined in docs/timing.md; the trial is the unit of the speed-up.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from contract import LABEL_ARM
from timing import SCHEMA
from timing.analysis.arms import arm_json, in_trials
from timing.analysis.classify import KUBE_TIME_RESOLUTION, PodResult, classify_pods, resolution_of
from timing.analysis.crossover import arm_labels, crossover_section
from timing.analysis.protocol import DRIFT, manifest_flags, node_pools, protocol_flags
from timing.analysis.speedup import layout, speedup, warnings_for
from timing.analysis.stats import ratio
from timing.analysis.streamed import any_probed, pod_streamed
from timing.analysis.trials import assign_rollout_trials
from timing.analysis.verify import verify
from timing.model.events import PullEvent
from timing.model.evidence import Evidence
from timing.model.kubelet import STREAMED
from timing.model.nodes import facts_by_name
from timing.model.pods import PodInfo


def kubelet_versions(nodes: Sequence[Mapping] | None) -> dict[str, tuple[int, int]]:
    """Node name -> its kubelet's (major, minor), from raw Node objects (``status.nodeInfo.kubeletVersion``)."""
    out = {}
    for node in nodes or ():
        name = (node.get("metadata") or {}).get("name")
        version = ((node.get("status") or {}).get("nodeInfo") or {}).get("kubeletVersion") or ""
        m = re.match(r"v?(\d+)\.(\d+)", version)
        if name and m:
            out[name] = (int(m.group(1)), int(m.group(2)))
    return out


def _pod_json(r: PodResult, kubelet: Mapping[str, tuple[int, int]], usual_resolution: dict) -> dict:
    """One pod of the report; ``usual_resolution``: the ``resolution_seconds`` of a pod whose pulls' clocks
    are no coarser than Kubernetes' own, shared: nearly every pod has it, and 100 000 copies took 36 MB."""
    p = r.pod
    created = p.created
    version = kubelet.get(p.node or "") if kubelet and r.containers else None
    start, end = r.pull_resolutions()
    usual = start is KUBE_TIME_RESOLUTION and end is KUBE_TIME_RESOLUTION  # left as they began
    resolution = usual_resolution if usual else resolution_of(start, end)
    return {
        "namespace": p.namespace,
        "name": p.name,
        "uid": p.uid,
        "arm": r.arm,
        "workload": r.workload,
        "pair": r.pair,
        "streaming": r.streaming,
        "component": r.component,
        "trial": p.trial,
        "node": p.node,
        "phase": p.phase,
        "class": r.pod_class,
        "ready": r.ready_seconds is not None,
        "restart_count": p.restart_count,
        "containers": [c.to_json(created, version) for c in r.containers],
        "pull_seconds": r.pull_seconds,
        "scheduled_seconds": r.scheduled_seconds,
        "started_seconds": r.started_seconds,
        "ready_seconds": r.ready_seconds,
        "app_ready_seconds": r.app_ready_seconds,
        "resolution_seconds": resolution,
        "streamed": r.streamed,
        "streaming_evidence": r.streaming_evidence,
        "bytes_fetched": r.bytes_fetched,
        "aks_conditions": dict(sorted(p.aks_conditions.items())) if p.aks_conditions else {},
    }


def _places(read: Sequence[PodResult], by_arm: Mapping[str, list[PodResult]]) -> list[int]:
    """Where each pod of ``read`` stands in the report's order (that of ``by_arm``)."""
    place = {id(r): i for i, r in enumerate(r for rs in by_arm.values() for r in rs)}
    return [place[id(r)] for r in read]


def _pods_json(read: list[PodResult], places: list[int], kubelet: Mapping[str, tuple[int, int]]) -> list[dict]:
    """The report's pods, ``read[i]`` at ``places[i]``.

    Made in the order the pods were read, so their memory is read in order (100 000 pods: 0.3 s less
    than in the report's order); ``read`` is emptied, each classification let go once its entry is made.
    """
    usual = resolution_of(KUBE_TIME_RESOLUTION, KUBE_TIME_RESOLUTION)
    out: list = [None] * len(read)
    read.reverse()
    places.reverse()
    while read:
        out[places.pop()] = _pod_json(read.pop(), kubelet, usual)
    return out


def _trial_order(results: Sequence[PodResult]) -> list:
    first: dict = {}
    for r in results:
        t = r.pod.created
        key = r.pod.trial
        if key not in first or (t is not None and (first[key] is None or t < first[key])):
            first[key] = t
    return sorted(first, key=lambda k: (first[k] is None, first[k] or datetime.min, str(k)))


def _trial_flags(
    b_by: Mapping[object, list[PodResult]],
    s_by: Mapping[object, list[PodResult]],
    context: Mapping,
    trial_ids: Sequence,
) -> dict[object, list[str]]:
    """Per trial of one comparison (each arm's pods by trial), the protocol flags and the flags ``measure``
    wrote in its manifest."""
    out: dict[object, list[str]] = {}
    for trial in trial_ids:
        bt, st = b_by.get(trial, []), s_by.get(trial, [])
        manifest = context["manifests"].get(trial) or {}
        if not bt or not st:
            out[trial] = manifest_flags(manifest)  # one arm missing: counted as arm-missing, no protocol to check
            continue
        flags = protocol_flags(
            bt,
            st,
            expected=manifest.get("replicas") or {},
            pools=context["pools"],
            evidence=context["evidence"].get(trial),
        )
        out[trial] = sorted(set(flags + manifest_flags(manifest)))
    return out


def _comparison(b: str, s: str, arms: dict[str, dict], by_arm: dict[str, list[PodResult]], context: Mapping) -> dict:
    ba, sa = arms[b], arms[s]
    trial_ids = [t["trial"] for t in ba["trials"]] + [t["trial"] for t in sa["trials"]]
    in_trials = context["in_trials"]
    flags = _trial_flags(in_trials[b], in_trials[s], context, list(dict.fromkeys(trial_ids)))
    include = context["include_flagged"]
    sp = speedup("arm_ready", ba["trials"], sa["trials"], flags, include)
    median_pod = speedup("median_pod_ready", ba["trials"], sa["trials"], flags, include)
    has_app = any(t["arm_app_ready_seconds"] is not None for t in ba["trials"] + sa["trials"])
    app = speedup("arm_app_ready", ba["trials"], sa["trials"], flags, include) if has_app else None
    used = [t["trial"] for t in sp["per_trial"]]
    replicas, density = layout(ba["trials"], sa["trials"], used)
    comp_flags = [DRIFT] if any((e.get("drift") or {}).get("flagged") for e in (sp, median_pod)) else []
    return {
        "workload": ba["workload"],
        "pair": ba["pair"],
        "baseline_arm": b,
        "streaming_arm": s,
        "speedup": sp,
        "speedup_median_pod": median_pod,
        "app_speedup": app,
        "replicas": replicas,
        "pods_per_node": density,
        # JSON keys are text: "-" stands for the pods without a trial id.
        "trial_flags": {("-" if t is None else str(t)): f for t, f in flags.items() if f},
        "flags": comp_flags,
        # Descriptions of the pods, not estimates: pods of a trial are not independent.
        "ready_p50_speedup": ratio(ba["ready_seconds"]["p50"], sa["ready_seconds"]["p50"]),
        "pull_p50_speedup": ratio(ba["pull_seconds"]["p50"], sa["pull_seconds"]["p50"]),
        "verified": verify(by_arm[b], by_arm[s], used, context["evidence"]),
        "warnings": warnings_for(sp, median_pod) + _image_mismatches(ba["trials"], sa["trials"]),
        "components": {
            comp: {
                "ready_p50_speedup": ratio(
                    ba["components"][comp]["ready_seconds"]["p50"], sa["components"][comp]["ready_seconds"]["p50"]
                ),
                "pull_p50_speedup": ratio(
                    ba["components"][comp]["pull_seconds"]["p50"], sa["components"][comp]["pull_seconds"]["p50"]
                ),
            }
            for comp in sorted(set(ba["components"]) & set(sa["components"]))
        },
    }


def _comparisons(arms: dict[str, dict], by_arm: dict[str, list[PodResult]], context: Mapping) -> list[dict]:
    groups: dict[tuple, list[str]] = defaultdict(list)
    for name, arm in arms.items():
        if arm["workload"] is None or arm["streaming"] is None:
            continue
        groups[(arm["workload"], arm["pair"])].append(name)
    out = []
    for (_workload, _pair), names in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
        for b in sorted(n for n in names if arms[n]["streaming"] is False):
            for s in sorted(n for n in names if arms[n]["streaming"] is True):
                out.append(_comparison(b, s, arms, by_arm, context))
    return out


def _once(pods: list[PodInfo]) -> list[PodInfo]:
    """The same pod (uid) given twice, in two dumps or twice in one, counts once: its first reading."""
    seen: set[str] = set()
    out = []
    for p in pods:
        if p.uid:
            if p.uid in seen:
                continue
            seen.add(p.uid)
        out.append(p)
    return out


def _manifests(trials: Sequence[dict] | None) -> dict:
    """Trial id -> what ``measure`` wrote about it (flags, replicas asked per arm)."""
    return {t["id"]: t for t in trials or ()}


def _image_mismatches(b_trials: list[dict], s_trials: list[dict]) -> list[str]:
    s_by = {t["trial"]: t for t in s_trials}
    out = []
    for bt in b_trials:
        st = s_by.get(bt["trial"])
        versions = (bt["node_image_versions"], st["node_image_versions"] if st else [])
        if all(versions) and versions[0] != versions[1]:
            out.append(
                f"node_image_mismatch: trial {bt['trial']} ran the arms on node images "
                f"{'/'.join(versions[0])} vs {'/'.join(versions[1])}"
            )
    return out


def _judge_streaming(
    results: Sequence[PodResult],
    events: Sequence[PullEvent],
    evidence: Mapping[object, Evidence | None],
    trials: Sequence,
) -> None:
    """Each pod's ``streamed`` from node evidence (timing.analysis.streamed); ``trials``: all of them."""
    # Only acr-nodemon events are evidence here; most dumps have none, so they are picked out once.
    notices: dict[object, list[PullEvent]] = defaultdict(list)
    for ev in events:
        if ev.pull.kind == STREAMED:
            notices[ev.pod_uid or (ev.namespace, ev.pod_name)].append(ev)
    # Pods alone on their node, whose fetched bytes are the node's: only where there is a reading.
    probed = any_probed(evidence, trials)
    per_node: Counter | None = Counter([(r.pod.trial, r.pod.node) for r in results if r.pod.node]) if probed else None
    for r in results:
        p = r.pod
        own = [*notices.get(p.uid, ()), *notices.get((p.namespace, p.name), ())] if notices else []
        alone = per_node is not None and per_node[(p.trial, p.node)] == 1
        verdict = pod_streamed(p, r.streaming, own, evidence.get(p.trial), alone)
        r.streamed, r.streaming_evidence, r.bytes_fetched = verdict.streamed, verdict.evidence, verdict.bytes_fetched


class _WithNodes(dict):
    """Evidence per trial, with the labels and facts of the given Node objects where a trial has none."""

    def __init__(self, evidence: Mapping[object, Evidence | None], nodes: Sequence[Mapping]):
        super().__init__()
        self.evidence = evidence
        self.labels = {
            str((n.get("metadata") or {}).get("name")): dict((n.get("metadata") or {}).get("labels") or {})
            for n in nodes
        }
        self.facts = facts_by_name(nodes)
        self._merged: dict = {}

    def get(self, key, default=None):
        if key not in self._merged:
            ev = self.evidence.get(key)
            if ev is None:
                ev = Evidence(node_labels=dict(self.labels), node_facts=dict(self.facts))
            elif not ev.node_labels or not ev.node_facts:
                labels, facts = ev.node_labels or dict(self.labels), ev.node_facts or dict(self.facts)
                ev = replace(ev, node_labels=labels, node_facts=facts)
            self._merged[key] = ev
        return self._merged[key]


def _result_order(r: PodResult):
    p = r.pod
    return (r.arm, p.namespace, str(p.trial or ""), p.name)


def _by_arm(results: Sequence[PodResult]) -> dict[str, list[PodResult]]:
    """Each arm's pods in the report's order (``_result_order``), the arms by name: the pods in that order.

    Every pod here has an arm, so grouping first and sorting each arm's own pods gives the order one
    sort of all of them would, with shorter sorts (the pods were read in their arm's order, arms interleaved).
    """
    by_arm: dict[str, list[PodResult]] = defaultdict(list)
    for r in results:
        by_arm[r.arm or ""].append(r)
    for rs in by_arm.values():
        rs.sort(key=_result_order)
    return {name: by_arm[name] for name in sorted(by_arm)}


def build_report(
    pods: Sequence[PodInfo],
    events: Sequence[PullEvent],
    *,
    image_info: Mapping[str, dict] | None = None,
    trials: list[dict] | None = None,
    evidence: Mapping[object, Evidence | None] | None = None,
    events_given: bool = True,
    nodes: Sequence[Mapping] | None = None,
    include_flagged: bool = False,
) -> dict:
    """Pods without the ``streaming-ab/arm`` label are not part of any arm and are left out.

    ``evidence`` maps a trial id (None for pods without one) to what was read besides pods and events;
    ``nodes`` are raw Node objects (kubectl get nodes -o json, or a live read); flagged trials are left
    out of the speed-ups unless ``include_flagged``.
    """
    image_info = image_info or {}
    raw_evidence = evidence or {}
    # Node objects (live, or report --nodes) stand in for labels and facts where a trial's evidence has none.
    evidence = _WithNodes(raw_evidence, nodes) if nodes else raw_evidence
    armed = _once([p for p in pods if p.labels.get(LABEL_ARM)])
    assign_rollout_trials(armed)
    results = classify_pods(armed, events)
    order = _trial_order(results)
    _judge_streaming(results, events, evidence, order)
    # Not needed past here: a caller that handed them over (Loaded.take_events) sees them freed before the
    # pods' entries are made, the report's largest moment.
    events = ()
    by_arm = _by_arm(results)
    by_trial = {name: in_trials(rs) for name, rs in by_arm.items()}
    arms = {name: arm_json(rs, image_info, order, evidence, by_trial[name]) for name, rs in by_arm.items()}
    context = {
        "in_trials": by_trial,
        "manifests": _manifests(trials),
        "pools": node_pools(nodes, raw_evidence),
        "evidence": evidence,
        "include_flagged": include_flagged,
    }
    doc = {
        "schema": SCHEMA,
        # False when no event source was read at all: then every pod is unknown for that reason alone.
        "inputs": {"events_given": events_given, "include_flagged": include_flagged},
        "pods": [],  # made last, below
        "arms": arms,
        "comparisons": _comparisons(arms, by_arm, context),
    }
    places = _places(results, by_arm)
    del by_arm, by_trial, context  # only ``results`` holds the classifications now: _pods_json lets them go
    doc["pods"] = _pods_json(results, places, kubelet_versions(nodes))
    crossover = crossover_section(doc["comparisons"], arms, arm_labels(armed))
    if crossover is not None:
        doc["crossover"] = crossover
    if trials is not None:
        # An incomplete trial has no pods read: --include-flagged cannot put it back.
        doc["trials"] = [
            dict(t, included=(include_flagged or not t.get("flagged")) and not t.get("incomplete")) for t in trials
        ]
    if nodes:
        doc["nodes"] = facts_by_name(nodes)
    return doc
