"""An arm's figures in the report: its pods by class, cold-pod statistics, images, and per trial.

Every figure is defined in docs/timing.md.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime

from timing.analysis.classify import (
    CLASSES,
    COLD,
    EXCLUDED_CLASSES,
    FAILED_POD,
    TERMINATING,
    WARM,
    PodResult,
)
from timing.analysis.stats import summarize
from timing.analysis.streamed import any_probed, arm_bytes_fetched, node_bytes_fetched
from timing.model.evidence import Evidence
from timing.model.kube_time import format_time, seconds_between
from timing.model.pods import PodInfo


def _majority(counts: Counter):
    """The most common value counted, None left out."""
    known = [(value, n) for value, n in counts.items() if value is not None]
    if not known:
        return None
    # Most common; ties broken by value so the output is deterministic.
    return sorted(known, key=lambda kv: (-kv[1], str(kv[0])))[0][0]


def _class_counts(results: Sequence[PodResult]) -> dict:
    c = Counter([r.pod_class for r in results])
    out: dict = {"pods": len(results)}
    out.update({f"{k}_pods": c[k] for k in CLASSES})
    out["not_ready_pods"] = sum(1 for r in results if r.ready_seconds is None)  # not r.ready
    out["excluded"] = {k: c[k] for k in EXCLUDED_CLASSES if c[k]}
    out["failure_rate"] = (c[FAILED_POD] / len(results)) if results else None
    return out


def _cold_stats(results: Sequence[PodResult]) -> dict:
    cold = [r for r in results if r.pod_class == COLD]
    return {
        "pull_seconds": summarize([r.pull_seconds for r in cold if r.pull_seconds is not None]),
        "ready_seconds": summarize([r.ready_seconds for r in cold if r.ready_seconds is not None]),
        "app_ready_seconds": summarize([r.app_ready_seconds for r in cold if r.app_ready_seconds is not None]),
        "pull_including_waiting_seconds": summarize(
            [r.pull_including_waiting_seconds for r in cold if r.pull_including_waiting_seconds is not None]
        ),
    }


def _images(results: Sequence[PodResult], image_info: Mapping[str, dict]) -> list[dict]:
    # Each distinct (image, size) once: 100 000 containers name a handful of images.
    pairs = {(c.image, c.image_size_bytes) for r in results for c in r.containers}
    images: dict[str, dict] = {}
    for image, size in sorted(pairs, key=lambda pair: pair[0]):
        entry = images.get(image)
        if entry is None:
            entry = images[image] = {"image": image, "size_bytes": None, "layers": None}
        if size is not None:
            entry["size_bytes"] = max(entry["size_bytes"] or 0, size)
    for image, entry in images.items():
        info = image_info.get(image) or {}
        if entry["size_bytes"] is None and info.get("size_bytes") is not None:
            entry["size_bytes"] = int(info["size_bytes"])
        if info.get("layers") is not None:
            entry["layers"] = int(info["layers"])
    return list(images.values())


def _span(starts: list[datetime | None], ends: list[datetime | None]) -> float | None:
    """Last end − first start, or null when any pod lacks its end (not every replica got there)."""
    if not starts or None in starts or None in ends:
        return None
    return seconds_between(min(starts), max(ends))  # type: ignore[type-var]


def _node_image_versions(pods: Sequence[PodInfo], ev: Evidence | None) -> list[str]:
    """The node images the pods of one trial ran on (``ev``: that trial's evidence)."""
    facts = ev.node_facts if ev else None
    if not facts:
        return []
    versions = set()
    for node in {p.node for p in pods}:
        version = (facts.get(node or "") or {}).get("node_image_version")
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
    by_trial: Mapping[object, list[PodResult]], order: Sequence, evidence: Mapping[object, Evidence | None]
) -> list[dict]:
    """Per trial (``by_trial``: the arm's pods from ``_in_trials``), in the order of the trials."""
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
                "classes": dict(sorted(Counter([r.pod_class for r in rs]).items())),
                "nodes": sorted({p.node for p in pods if p.node}),
                # When the trial ran, from the pods alone (a dump has no trial manifest).
                "created_at": format_time(min(t for t in created if t)) if any(created) else None,
                "arm_ready_seconds": _span(created, [p.ready_at for p in pods]),
                "arm_started_seconds": _span(created, [p.started_at for p in pods]),
                "arm_app_ready_seconds": _span(created, [p.app_ready_at for p in pods]),
                # A streaming-arm pod the node shows did not stream leaves the trial out (not_streamed).
                "not_streamed_pods": sum(1 for r in rs if r.streamed is False and r.streaming is True),
                "node_image_versions": _node_image_versions(pods, evidence.get(trial)),
                "median_pod_ready_seconds": _median_ready(rs),
            }
        )
    return out


def _bytes_readings(
    results: Sequence[PodResult], order: Sequence, evidence: Mapping[object, Evidence | None]
) -> list[int]:
    """One reading per (trial, node) the arm ran on: what that node's exporter counted as fetched.

    ``order``: every trial of the report; when none was probed there is no reading to look for.
    """
    if not any_probed(evidence, order):
        return []
    readings = []
    for trial, node in sorted({(r.pod.trial, r.pod.node) for r in results if r.pod.node}, key=str):
        fetched = node_bytes_fetched(evidence.get(trial), node)
        if fetched is not None:
            readings.append(fetched)
    return readings


def arm_json(
    results: Sequence[PodResult],
    image_info: Mapping[str, dict],
    order: Sequence,
    evidence: Mapping[object, Evidence | None],
    by_trial: Mapping[object, list[PodResult]],
) -> dict:
    """One arm's entry of the report's ``arms`` (``by_trial``: its pods from ``in_trials``)."""
    components: dict[str, list[PodResult]] = defaultdict(list)
    for r in results:
        components[r.component or ""].append(r)
    warm_ready = [r.ready_seconds for r in results if r.pod_class == WARM and r.ready_seconds is not None]
    counts, images = {**_class_counts(results), **_cold_stats(results)}, _images(results, image_info)
    arm = {
        "workload": _majority(Counter([r.workload for r in results])),
        "pair": _majority(Counter([r.pair for r in results])),
        "streaming": _majority(Counter([r.streaming for r in results])),
        "pool": _majority(Counter([r.pool for r in results])),
        **counts,
        "warm_ready_seconds": summarize(warm_ready),
        "images": images,
        "bytes_fetched": arm_bytes_fetched(
            _bytes_readings(results, order, evidence), [i["size_bytes"] for i in images]
        ),
        "trials": _arm_trials(by_trial, order, evidence),
        # An arm of one component: its figures are the arm's, computed once (100 000 pods: 0.3 s).
        "components": {
            name: {**counts, "images": images}
            if len(rs) == len(results)
            else {**_class_counts(rs), **_cold_stats(rs), "images": _images(rs, image_info)}
            for name, rs in sorted(components.items())
        },
    }
    return arm


def in_trials(results: Sequence[PodResult]) -> dict[object, list[PodResult]]:
    """An arm's pods by trial, in their order.

    A terminating pod belongs to an earlier rollout: counted among the arm's pods, in no trial.
    """
    by_trial: dict[object, list[PodResult]] = defaultdict(list)
    for r in results:
        if r.pod_class != TERMINATING:
            by_trial[r.pod.trial].append(r)
    return by_trial
