"""Build the ``streaming-ab/timing-report@1`` document from pods and events."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from operator import methodcaller

from contract import LABEL_ARM, LABEL_PAIR, LABEL_STREAMING, LABEL_WORKLOAD
from timing import SCHEMA
from timing.analysis.classify import COLD, FAILED_POD, UNKNOWN, WARM, PodResult, classify_pods
from timing.analysis.stats import BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED, bootstrap_ratio_of_medians, ratio, summarize
from timing.model.events import PullEvent
from timing.model.pods import PodInfo, parse_bool_label

COMPONENT_LABEL = "app.kubernetes.io/name"


def _majority(values: Iterable):
    # Counting everything and then dropping None keeps the first-seen order
    # of the other values (which settles full ties) and counts in C.
    counts = Counter(values)
    counts.pop(None, None)
    if not counts:
        return None
    # Most common; ties broken by value so the output is deterministic.
    return sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))[0][0]


def _pod_json(r: PodResult) -> dict:
    p = r.pod
    # The label lookups of PodInfo's arm/workload/pair/streaming properties,
    # spelled out: this runs once per pod of the dump.
    labels = p.labels
    out = {
        "namespace": p.namespace,
        "name": p.name,
        "uid": p.uid,
        "arm": labels.get(LABEL_ARM),
        "workload": labels.get(LABEL_WORKLOAD),
        "pair": labels.get(LABEL_PAIR),
        "streaming": parse_bool_label(labels.get(LABEL_STREAMING)),
        "node": p.node,
        "phase": p.phase,
        "class": r.pod_class,
        "ready": r.ready_seconds is not None,
        "containers": [c.to_json() for c in r.containers],
        "pull_seconds": r.pull_seconds,
        "started_seconds": r.started_seconds,
        "ready_seconds": r.ready_seconds,
    }
    if p.trial is not None:
        out["trial"] = p.trial
    return out


_CLASS_COUNT_KEYS = ("pods", "cold_pods", "warm_pods", "failed_pods", "unknown_pods", "not_ready_pods")


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


def _waiting_samples(results: Sequence[PodResult]) -> list[float]:
    """Per cold pod, pull time including the wait behind other pulls (kubelet 1.27+ only).

    With serialized pulls, replicas queued behind the first pull report a
    tiny "in" time but a long "including waiting" time; this keeps that
    visible instead of letting it pass as a fast pull.
    """
    out = []
    for r in results:
        if r.pod_class != COLD:
            continue
        waits = [
            c.pull_including_waiting_seconds
            for c in r.containers
            if c.cold and c.pull_including_waiting_seconds is not None
        ]
        if waits:
            out.append(sum(waits))
    return out


def _images(results: Sequence[PodResult], image_info: dict[str, dict]) -> list[dict]:
    images: dict[str, dict] = {}
    for r in results:
        for c in r.containers:
            entry = images.get(c.image)
            if entry is None:
                entry = images[c.image] = {"image": c.image, "size_bytes": None, "layers": None}
            if c.image_size_bytes is not None:
                entry["size_bytes"] = max(entry["size_bytes"] or 0, c.image_size_bytes)
    for image, entry in images.items():
        info = image_info.get(image) or {}
        if entry["size_bytes"] is None and info.get("size_bytes") is not None:
            entry["size_bytes"] = int(info["size_bytes"])
        if info.get("layers") is not None:
            entry["layers"] = int(info["layers"])
    return sorted(images.values(), key=lambda e: e["image"])


def _arm_json(results: Sequence[PodResult], image_info: dict[str, dict]) -> dict:
    labels = [r.pod.labels for r in results]
    pulls, readies = _cold_samples(results)
    components = defaultdict(list)
    for r, lb in zip(results, labels, strict=False):
        components[lb.get(COMPONENT_LABEL) or ""].append(r)
    warm_ready = [r.ready_seconds for r in results if r.pod_class == WARM and r.ready_seconds is not None]
    arm = {
        # PodInfo.workload / .pair / .streaming, read from the labels directly.
        "workload": _majority(map(methodcaller("get", LABEL_WORKLOAD), labels)),
        "pair": _majority(map(methodcaller("get", LABEL_PAIR), labels)),
        "streaming": _majority(map(parse_bool_label, map(methodcaller("get", LABEL_STREAMING), labels))),
        **_class_counts(results),
        "pull_seconds": summarize(pulls),
        "ready_seconds": summarize(readies),
        "pull_including_waiting_seconds": summarize(_waiting_samples(results)),
        "warm_ready_seconds": summarize(warm_ready),
        "images": _images(results, image_info),
        "components": {},
    }
    if len(components) == 1:
        # One component holds every pod of the arm, in the same order, so its
        # figures are the arm's: copy them rather than compute them again.
        (name,) = components
        arm["components"][name] = {
            **{k: arm[k] for k in _CLASS_COUNT_KEYS},
            "pull_seconds": dict(arm["pull_seconds"]),
            "ready_seconds": dict(arm["ready_seconds"]),
            "pull_including_waiting_seconds": dict(arm["pull_including_waiting_seconds"]),
            "images": [dict(e) for e in arm["images"]],
        }
        return arm
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


def _comparisons(arms: dict[str, dict], by_arm: dict[str, list[PodResult]], seed: int, resamples: int) -> list[dict]:
    groups: dict[tuple, list[str]] = defaultdict(list)
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
                    **_speedups(
                        arms[b], arms[s], _cold_samples(by_arm[b])[1], _cold_samples(by_arm[s])[1], seed, resamples
                    ),
                    "bootstrap": {
                        "method": "percentile",
                        "statistic": "median(baseline)/median(streaming)",
                        "seed": seed,
                        "resamples": resamples,
                    },
                    "components": {},
                }
                # Per component (e.g. azure-vote front vs back redis), so a big
                # image's speed-up is not averaged away by a small sidecar's.
                shared = sorted(set(arms[b]["components"]) & set(arms[s]["components"]))
                if len(shared) == 1 and len(arms[b]["components"]) == len(arms[s]["components"]) == 1:
                    # One component: its pods are the arm's pods, same numbers.
                    entry["components"][shared[0]] = {
                        k: entry[k] for k in ("ready_p50_speedup", "ready_p50_speedup_ci95", "pull_p50_speedup")
                    }
                    shared = []
                for comp in shared:
                    bres = [r for r in by_arm[b] if (r.pod.labels.get(COMPONENT_LABEL) or "") == comp]
                    sres = [r for r in by_arm[s] if (r.pod.labels.get(COMPONENT_LABEL) or "") == comp]
                    entry["components"][comp] = _speedups(
                        arms[b]["components"][comp],
                        arms[s]["components"][comp],
                        _cold_samples(bres)[1],
                        _cold_samples(sres)[1],
                        seed,
                        resamples,
                    )
                out.append(entry)
    return out


def _result_order(r: PodResult):
    p = r.pod
    return (p.labels.get(LABEL_ARM), p.namespace, p.trial or "", p.name)


def build_report(
    pods: Sequence[PodInfo],
    events: Sequence[PullEvent],
    *,
    seed: int = BOOTSTRAP_SEED,
    resamples: int = BOOTSTRAP_RESAMPLES,
    image_info: dict[str, dict] | None = None,
    trials: list[dict] | None = None,
) -> dict:
    """Pods without the ``streaming-ab/arm`` label are not part of any arm and are left out."""
    image_info = image_info or {}
    armed = [p for p in pods if p.labels.get(LABEL_ARM)]
    results = classify_pods(armed, events)
    results.sort(key=_result_order)
    by_arm: dict[str, list[PodResult]] = defaultdict(list)
    for r in results:
        by_arm[r.pod.labels.get(LABEL_ARM) or ""].append(r)
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
