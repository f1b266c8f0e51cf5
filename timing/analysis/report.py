"""Build the ``streaming-ab/timing-report@3`` document from pods, events and verification evidence.

Every figure is defined in docs/timing.md; the trial is the unit of the speed-up.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from contract import LABEL_APP_NAME, LABEL_ARM, LABEL_PAIR, LABEL_POOL, LABEL_STREAMING, LABEL_WORKLOAD
from timing import SCHEMA
from timing.analysis.classify import (
    CLASSES,
    COLD,
    EXCLUDED_CLASSES,
    FAILED_POD,
    PULLED_BY_POD,
    TERMINATING,
    WARM,
    PodResult,
    classify_pods,
)
from timing.analysis.crossover import arm_labels, crossover_section
from timing.analysis.protocol import DRIFT, manifest_flags, node_pools, protocol_flags
from timing.analysis.speedup import layout, speedup, warnings_for
from timing.analysis.stats import ratio, summarize
from timing.analysis.streamed import arm_bytes_fetched, node_bytes_fetched, pod_streamed
from timing.analysis.trials import assign_rollout_trials
from timing.analysis.verify import verify
from timing.model.events import PullEvent
from timing.model.evidence import Evidence
from timing.model.kube_time import format_time, seconds_between
from timing.model.kubelet import STREAMED
from timing.model.nodes import facts_by_name
from timing.model.pods import PodInfo, parse_bool_label

COMPONENT_LABEL = LABEL_APP_NAME


def _majority(values: Iterable):
    counts = Counter(values)
    counts.pop(None, None)
    if not counts:
        return None
    # Most common; ties broken by value so the output is deterministic.
    return sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))[0][0]


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


def includes_waiting(c: dict, kubelet: tuple[int, int] | None) -> bool | None:
    """Does a container's ``pull_seconds`` include the wait in kubelet's pull queue?

    Kubelets up to 1.26 print only ``in X``, which includes it; from 1.27 ``in X`` excludes it and
    ``(Y including waiting)`` carries it. Without that part and without a known version, the wording
    itself says the kubelet is older than 1.27. Pull times from event times: unknown (null).
    """
    if c["pull_seconds"] is None or c.get("pull_seconds_from") != "kubelet":
        return None
    if c["pull_including_waiting_seconds"] is not None:
        return False
    if kubelet is not None and kubelet >= (1, 27):
        return None  # a 1.27+ kubelet that left the part out: not a wording this reader knows
    return True


def _pod_json(r: PodResult, kubelet: Mapping[str, tuple[int, int]]) -> dict:
    p = r.pod
    labels = p.labels
    containers = [c.to_json(p.created) for c in r.containers]
    for c in containers:
        c["pull_seconds_includes_waiting"] = includes_waiting(c, kubelet.get(p.node or ""))
    return {
        "namespace": p.namespace,
        "name": p.name,
        "uid": p.uid,
        "arm": labels.get(LABEL_ARM),
        "workload": labels.get(LABEL_WORKLOAD),
        "pair": labels.get(LABEL_PAIR),
        "streaming": parse_bool_label(labels.get(LABEL_STREAMING)),
        "component": labels.get(COMPONENT_LABEL),
        "trial": p.trial,
        "node": p.node,
        "phase": p.phase,
        "class": r.pod_class,
        "ready": r.ready_seconds is not None,
        "restart_count": p.restart_count,
        "containers": containers,
        "pull_seconds": r.pull_seconds,
        "scheduled_seconds": r.scheduled_seconds,
        "started_seconds": r.started_seconds,
        "ready_seconds": r.ready_seconds,
        "app_ready_seconds": r.app_ready_seconds,
        "resolution_seconds": r.resolution(),
        "streamed": r.streamed,
        "streaming_evidence": r.streaming_evidence,
        "bytes_fetched": r.bytes_fetched,
        "aks_conditions": dict(sorted(p.aks_conditions.items())) if p.aks_conditions else {},
    }


def _class_counts(results: Sequence[PodResult]) -> dict:
    c = Counter(r.pod_class for r in results)
    out: dict = {"pods": len(results)}
    out.update({f"{k}_pods": c[k] for k in CLASSES})
    out["not_ready_pods"] = sum(1 for r in results if not r.ready)
    out["excluded"] = {k: c[k] for k in EXCLUDED_CLASSES if c[k]}
    out["failure_rate"] = (c[FAILED_POD] / len(results)) if results else None
    return out


def _cold_stats(results: Sequence[PodResult]) -> dict:
    cold = [r for r in results if r.pod_class == COLD]
    waits = []
    for r in cold:
        w = [
            c.pull_including_waiting_seconds
            for c in r.containers
            if c.source == PULLED_BY_POD and c.pull_including_waiting_seconds is not None
        ]
        if w:
            waits.append(sum(w))
    return {
        "pull_seconds": summarize(r.pull_seconds for r in cold if r.pull_seconds is not None),
        "ready_seconds": summarize(r.ready_seconds for r in cold if r.ready_seconds is not None),
        "app_ready_seconds": summarize(r.app_ready_seconds for r in cold if r.app_ready_seconds is not None),
        "pull_including_waiting_seconds": summarize(waits),
    }


def _images(results: Sequence[PodResult], image_info: Mapping[str, dict]) -> list[dict]:
    images: dict[str, dict] = {}
    for r in results:
        for c in r.containers:
            entry = images.setdefault(c.image, {"image": c.image, "size_bytes": None, "layers": None})
            if c.image_size_bytes is not None:
                entry["size_bytes"] = max(entry["size_bytes"] or 0, c.image_size_bytes)
    for image, entry in images.items():
        info = image_info.get(image) or {}
        if entry["size_bytes"] is None and info.get("size_bytes") is not None:
            entry["size_bytes"] = int(info["size_bytes"])
        if info.get("layers") is not None:
            entry["layers"] = int(info["layers"])
    return sorted(images.values(), key=lambda e: e["image"])


def _span(start: Iterable[datetime | None], end: Iterable[datetime | None]) -> float | None:
    """Last end − first start, or null when any pod lacks its end (not every replica got there)."""
    starts, ends = list(start), list(end)
    if not starts or any(t is None for t in starts) or any(t is None for t in ends):
        return None
    return seconds_between(min(starts), max(ends))  # type: ignore[type-var]


def _trial_order(results: Sequence[PodResult]) -> list:
    first: dict = {}
    for r in results:
        t = r.pod.created
        key = r.pod.trial
        if key not in first or (t is not None and (first[key] is None or t < first[key])):
            first[key] = t
    return sorted(first, key=lambda k: (first[k] is None, first[k] or datetime.min, str(k)))


def _node_image_versions(pods: Sequence[PodInfo], evidence: Mapping[object, Evidence | None]) -> list[str]:
    versions = set()
    for p in pods:
        ev = evidence.get(p.trial)
        version = ((ev.node_facts.get(p.node or "") if ev else None) or {}).get("node_image_version")
        if version:
            versions.add(version)
    return sorted(versions)


def _median_ready(results: Sequence[PodResult]) -> float | None:
    """The median pod's Ready time, or null when a pod never got Ready (the median would be of survivors)."""
    ready = [r.ready_seconds for r in results if r.ready_seconds is not None]
    if not ready or len(ready) < len(results):
        return None
    return summarize(ready)["p50"]


def _arm_trials(
    results: Sequence[PodResult], order: Sequence, evidence: Mapping[object, Evidence | None]
) -> list[dict]:
    by_trial: dict = defaultdict(list)
    for r in results:
        # A terminating pod belongs to an earlier rollout: counted among the arm's pods, in no trial.
        if r.pod_class != TERMINATING:
            by_trial[r.pod.trial].append(r)
    out = []
    for trial in order:
        rs = by_trial.get(trial)
        if not rs:
            continue
        pods = [r.pod for r in rs]
        created = [p.created for p in pods]
        out.append(
            {
                "trial": trial,
                "pods": len(rs),
                "classes": dict(sorted(Counter(r.pod_class for r in rs).items())),
                "nodes": sorted({p.node for p in pods if p.node}),
                # When the trial ran, from the pods alone (a dump has no trial manifest).
                "created_at": format_time(min(t for t in created if t)) if any(created) else None,
                "arm_ready_seconds": _span(created, (p.ready_at for p in pods)),
                "arm_started_seconds": _span(created, (p.started_at for p in pods)),
                "arm_app_ready_seconds": _span(created, (p.app_ready_at for p in pods)),
                # A streaming-arm pod the node shows did not stream leaves the trial out (not_streamed).
                "not_streamed_pods": sum(1 for r in rs if r.pod.streaming is True and r.streamed is False),
                "node_image_versions": _node_image_versions(pods, evidence),
                "median_pod_ready_seconds": _median_ready(rs),
            }
        )
    return out


def _bytes_readings(results: Sequence[PodResult], evidence: Mapping[object, Evidence | None]) -> list[int]:
    """One reading per (trial, node) the arm ran on: what that node's exporter counted as fetched."""
    readings = []
    for trial, node in sorted({(r.pod.trial, r.pod.node) for r in results if r.pod.node}, key=str):
        fetched = node_bytes_fetched(evidence.get(trial), node)
        if fetched is not None:
            readings.append(fetched)
    return readings


def _arm_json(
    results: Sequence[PodResult],
    image_info: Mapping[str, dict],
    order: Sequence,
    evidence: Mapping[object, Evidence | None],
) -> dict:
    labels = [r.pod.labels for r in results]
    components: dict[str, list[PodResult]] = defaultdict(list)
    for r in results:
        components[r.pod.labels.get(COMPONENT_LABEL) or ""].append(r)
    warm_ready = [r.ready_seconds for r in results if r.pod_class == WARM and r.ready_seconds is not None]
    counts, images = {**_class_counts(results), **_cold_stats(results)}, _images(results, image_info)
    arm = {
        "workload": _majority(lb.get(LABEL_WORKLOAD) for lb in labels),
        "pair": _majority(lb.get(LABEL_PAIR) for lb in labels),
        "streaming": _majority(parse_bool_label(lb.get(LABEL_STREAMING)) for lb in labels),
        "pool": _majority(lb.get(LABEL_POOL) for lb in labels),
        **counts,
        "warm_ready_seconds": summarize(warm_ready),
        "images": images,
        "bytes_fetched": arm_bytes_fetched(_bytes_readings(results, evidence), [i["size_bytes"] for i in images]),
        "trials": _arm_trials(results, order, evidence),
        # An arm of one component: its figures are the arm's, computed once (100 000 pods: 0.3 s).
        "components": {
            name: {**counts, "images": images}
            if len(rs) == len(results)
            else {**_class_counts(rs), **_cold_stats(rs), "images": _images(rs, image_info)}
            for name, rs in sorted(components.items())
        },
    }
    return arm


def _trial_flags(
    b: Sequence[PodResult], s: Sequence[PodResult], context: Mapping, trial_ids: Sequence
) -> dict[object, list[str]]:
    """Per trial of one comparison, the protocol flags and the flags ``measure`` wrote in its manifest."""
    out: dict[object, list[str]] = {}
    for trial in trial_ids:
        bt = [r for r in b if r.pod.trial == trial and r.pod_class != TERMINATING]
        st = [r for r in s if r.pod.trial == trial and r.pod_class != TERMINATING]
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
    flags = _trial_flags(by_arm[b], by_arm[s], context, list(dict.fromkeys(trial_ids)))
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
        "verified": verify(
            [r.pod for r in by_arm[b]],
            [r.pod for r in by_arm[s]],
            used,
            context["evidence"],
            streamed={id(r.pod): r.streamed for r in (*by_arm[b], *by_arm[s])},
        ),
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
    results: Sequence[PodResult], events: Sequence[PullEvent], evidence: Mapping[object, Evidence | None]
) -> None:
    """Each pod's ``streamed`` from node evidence (timing.analysis.streamed)."""
    # Only acr-nodemon events are evidence here; most dumps have none, so they are picked out once.
    notices: dict[object, list[PullEvent]] = defaultdict(list)
    for ev in events:
        if ev.pull.kind == STREAMED:
            notices[ev.pod_uid or (ev.namespace, ev.pod_name)].append(ev)
    per_node: Counter = Counter((r.pod.trial, r.pod.node) for r in results if r.pod.node)
    for r in results:
        p = r.pod
        own = [*notices.get(p.uid, ()), *notices.get((p.namespace, p.name), ())] if notices else []
        verdict = pod_streamed(p, own, evidence.get(p.trial), per_node[(p.trial, p.node)] == 1)
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
    return (p.labels.get(LABEL_ARM), p.namespace, str(p.trial or ""), p.name)


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
    _judge_streaming(results, events, evidence)
    order = _trial_order(results)
    results.sort(key=_result_order)
    by_arm: dict[str, list[PodResult]] = defaultdict(list)
    for r in results:
        by_arm[r.pod.labels.get(LABEL_ARM) or ""].append(r)
    arms = {name: _arm_json(by_arm[name], image_info, order, evidence) for name in sorted(by_arm)}
    context = {
        "manifests": _manifests(trials),
        "pools": node_pools(nodes, raw_evidence),
        "evidence": evidence,
        "include_flagged": include_flagged,
    }
    doc = {
        "schema": SCHEMA,
        # False when no event source was read at all: then every pod is unknown for that reason alone.
        "inputs": {"events_given": events_given, "include_flagged": include_flagged},
        "pods": [_pod_json(r, kubelet_versions(nodes)) for r in results],
        "arms": arms,
        "comparisons": _comparisons(arms, by_arm, context),
    }
    crossover = crossover_section(doc["comparisons"], arms, arm_labels(armed))
    if crossover is not None:
        doc["crossover"] = crossover
    if trials is not None:
        doc["trials"] = [dict(t, included=include_flagged or not t.get("flagged")) for t in trials]
    if nodes:
        doc["nodes"] = facts_by_name(nodes)
    return doc
