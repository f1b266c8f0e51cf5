"""Build the ``streaming-ab/timing-report@1`` document from pods and events."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Dict, Iterable, List, Optional, Sequence

from . import SCHEMA
from .classify import COLD, FAILED_POD, UNKNOWN, WARM, PodResult, classify_pods
from .events import PullEvent
from .pods import PodInfo
from .stats import BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED, bootstrap_ratio_of_medians, ratio, summarize

COMPONENT_LABEL = "app.kubernetes.io/name"


def _majority(values: Iterable):
    counts = Counter(v for v in values if v is not None)
    if not counts:
        return None
    # Most common; ties broken by value so the output is deterministic.
    return sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))[0][0]


def _pod_json(r: PodResult) -> dict:
    p = r.pod
    out = {
        "namespace": p.namespace,
        "name": p.name,
        "uid": p.uid,
        "arm": p.arm,
        "workload": p.workload,
        "pair": p.pair,
        "streaming": p.streaming,
        "node": p.node,
        "phase": p.phase,
        "class": r.pod_class,
        "ready": r.ready,
        "containers": [c.to_json() for c in r.containers],
        "pull_seconds": r.pull_seconds,
        "started_seconds": r.started_seconds,
        "ready_seconds": r.ready_seconds,
    }
    if p.trial is not None:
        out["trial"] = p.trial
    return out


def _class_counts(results: Sequence[PodResult]) -> dict:
    c = Counter(r.pod_class for r in results)
    return {
        "pods": len(results),
        "cold_pods": c[COLD],
        "warm_pods": c[WARM],
        "failed_pods": c[FAILED_POD],
        "unknown_pods": c[UNKNOWN],
        "not_ready_pods": sum(1 for r in results if not r.ready),
    }


def _cold_samples(results: Sequence[PodResult]):
    cold = [r for r in results if r.pod_class == COLD]
    pulls = [r.pull_seconds for r in cold if r.pull_seconds is not None]
    readies = [r.ready_seconds for r in cold if r.ready_seconds is not None]
    return pulls, readies


def _waiting_samples(results: Sequence[PodResult]) -> List[float]:
    """Per cold pod, pull time including the wait behind other pulls (kubelet 1.27+ only).

    With serialized pulls, replicas queued behind the first pull report a
    tiny "in" time but a long "including waiting" time; this keeps that
    visible instead of letting it pass as a fast pull.
    """
    out = []
    for r in results:
        if r.pod_class != COLD:
            continue
        waits = [c.pull_including_waiting_seconds for c in r.containers if c.cold and c.pull_including_waiting_seconds is not None]
        if waits:
            out.append(sum(waits))
    return out


def _images(results: Sequence[PodResult], image_info: Dict[str, dict]) -> List[dict]:
    images: Dict[str, dict] = {}
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


def _arm_json(results: Sequence[PodResult], image_info: Dict[str, dict]) -> dict:
    pods = [r.pod for r in results]
    pulls, readies = _cold_samples(results)
    components = defaultdict(list)
    for r in results:
        components[r.pod.labels.get(COMPONENT_LABEL) or ""].append(r)
    warm_ready = [r.ready_seconds for r in results if r.pod_class == WARM and r.ready_seconds is not None]
    arm = {
        "workload": _majority(p.workload for p in pods),
        "pair": _majority(p.pair for p in pods),
        "streaming": _majority(p.streaming for p in pods),
        **_class_counts(results),
        "pull_seconds": summarize(pulls),
        "ready_seconds": summarize(readies),
        "pull_including_waiting_seconds": summarize(_waiting_samples(results)),
        "warm_ready_seconds": summarize(warm_ready),
        "images": _images(results, image_info),
        "components": {},
    }
    for name in sorted(components):
        cres = components[name]
        cp, cr = _cold_samples(cres)
        arm["components"][name] = {
            **_class_counts(cres),
            "pull_seconds": summarize(cp),
            "ready_seconds": summarize(cr),
            "pull_including_waiting_seconds": summarize(_waiting_samples(cres)),
            "images": _images(cres, image_info),
        }
    return arm


def _speedups(b_arm: dict, s_arm: dict, b_ready, s_ready, seed: int, resamples: int) -> dict:
    lo, hi = bootstrap_ratio_of_medians(b_ready, s_ready, seed=seed, resamples=resamples)
    return {
        "ready_p50_speedup": ratio(b_arm["ready_seconds"]["p50"], s_arm["ready_seconds"]["p50"]),
        "ready_p50_speedup_ci95": [lo, hi],
        "pull_p50_speedup": ratio(b_arm["pull_seconds"]["p50"], s_arm["pull_seconds"]["p50"]),
    }


def _comparisons(arms: Dict[str, dict], by_arm: Dict[str, List[PodResult]], seed: int, resamples: int) -> List[dict]:
    groups: Dict[tuple, List[str]] = defaultdict(list)
    for name, arm in arms.items():
        if arm["workload"] is None or arm["streaming"] is None:
            continue
        groups[(arm["workload"], arm["pair"])].append(name)
    out = []
    for (workload, pair), names in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
        baselines = sorted(n for n in names if arms[n]["streaming"] is False)
        streams = sorted(n for n in names if arms[n]["streaming"] is True)
        for b in baselines:
            for s in streams:
                entry = {
                    "workload": workload,
                    "pair": pair,
                    "baseline_arm": b,
                    "streaming_arm": s,
                    **_speedups(arms[b], arms[s], _cold_samples(by_arm[b])[1], _cold_samples(by_arm[s])[1], seed, resamples),
                    "bootstrap": {"method": "percentile", "statistic": "median(baseline)/median(streaming)",
                                  "seed": seed, "resamples": resamples},
                    "components": {},
                }
                # Per component (e.g. azure-vote front vs back redis), so a big
                # image's speed-up is not averaged away by a small sidecar's.
                shared = sorted(set(arms[b]["components"]) & set(arms[s]["components"]))
                if len(shared) == 1 and len(arms[b]["components"]) == len(arms[s]["components"]) == 1:
                    # One component: its pods are the arm's pods, same numbers.
                    entry["components"][shared[0]] = {k: entry[k] for k in
                                                      ("ready_p50_speedup", "ready_p50_speedup_ci95", "pull_p50_speedup")}
                    shared = []
                for comp in shared:
                    bres = [r for r in by_arm[b] if (r.pod.labels.get(COMPONENT_LABEL) or "") == comp]
                    sres = [r for r in by_arm[s] if (r.pod.labels.get(COMPONENT_LABEL) or "") == comp]
                    entry["components"][comp] = _speedups(
                        arms[b]["components"][comp], arms[s]["components"][comp],
                        _cold_samples(bres)[1], _cold_samples(sres)[1], seed, resamples,
                    )
                out.append(entry)
    return out


def build_report(
    pods: Sequence[PodInfo],
    events: Sequence[PullEvent],
    *,
    seed: int = BOOTSTRAP_SEED,
    resamples: int = BOOTSTRAP_RESAMPLES,
    image_info: Optional[Dict[str, dict]] = None,
    trials: Optional[List[dict]] = None,
) -> dict:
    """Pods without the ``streaming-ab/arm`` label are not part of any arm and are left out."""
    image_info = image_info or {}
    armed = [p for p in pods if p.arm]
    results = classify_pods(armed, events)
    results.sort(key=lambda r: (r.pod.arm, r.pod.namespace, r.pod.trial or "", r.pod.name))
    by_arm: Dict[str, List[PodResult]] = defaultdict(list)
    for r in results:
        by_arm[r.pod.arm].append(r)
    arms = {name: _arm_json(by_arm[name], image_info) for name in sorted(by_arm)}
    doc = {
        "schema": SCHEMA,
        "pods": [_pod_json(r) for r in results],
        "arms": arms,
        "comparisons": _comparisons(arms, by_arm, seed, resamples),
    }
    if trials is not None:
        doc["trials"] = trials
    return doc
