"""Figures published in the seed documents, to print beside measured ones.

Sources are the seed files under ``shared/seeds``: 000/001 (Project
Teleport walkthroughs, kubelet "Successfully pulled" times) and 004 (the
artifact-streaming blog post, time to Running read from ``kubectl get pods -w``).
Teleport was the predecessor of artifact streaming; its numbers are kept as
the historical baseline the seeds quote, not as a claim about streaming.
"""

from __future__ import annotations

from typing import Any

MB = 1000 * 1000

REFERENCE: list[dict[str, Any]] = [
    {
        "source": "000/001 Project Teleport walkthrough",
        "scenario": "azure-vote-front:v1",
        "image_size_bytes": 944 * MB,
        # The walkthrough's table says 28 layers while its prose counts the
        # 29 RootFS entries of `docker inspect`; the table figure is quoted.
        "layers": 28,
        "metric": "pull",
        "standard_seconds": 34.7,
        "streaming_seconds": 8.0,
        "streaming_kind": "Teleport",
        "replicas": 1,
    },
    {
        "source": "000/001 Project Teleport walkthrough",
        "scenario": "azure-vote-front:squashed",
        "image_size_bytes": 929 * MB,
        "layers": 1,
        "metric": "pull",
        "standard_seconds": 31.7,
        "streaming_seconds": 1.9,
        "streaming_kind": "Teleport",
        "replicas": 1,
    },
    {
        "source": "004 artifact streaming blog",
        "scenario": "5 GiB image, slow storage (Standard_D2_v5, no local disk)",
        "image_size_bytes": None,
        "layers": None,
        "metric": "running",
        "standard_seconds": 64.0,
        "streaming_seconds": 3.0,
        "streaming_kind": "artifact streaming",
        "replicas": 1,
    },
    {
        "source": "004 artifact streaming blog",
        "scenario": "5 GiB image, fast storage (Standard_D4ds_v5, local disk)",
        "image_size_bytes": None,
        "layers": None,
        "metric": "running",
        "standard_seconds": 14.0,
        "streaming_seconds": 3.0,
        "streaming_kind": "artifact streaming",
        "replicas": 1,
    },
    {
        "source": "004 artifact streaming blog",
        "scenario": "5 GiB image, fast storage, 10 replicas on one node (last pod Running)",
        "image_size_bytes": None,
        "layers": None,
        "metric": "running",
        "standard_seconds": 14.0,
        "streaming_seconds": 9.0,
        "streaming_kind": "artifact streaming",
        "replicas": 10,
    },
]


def reference_rows() -> list:
    rows = []
    for r in REFERENCE:
        row = dict(r)
        row["speedup"] = round(r["standard_seconds"] / r["streaming_seconds"], 2)
        rows.append(row)
    return rows


def _including_waiting(c: dict) -> float | None:
    """A pull's time including its wait in kubelet's queue: ``including waiting`` (kubelet >= 1.27),
    else the kubelet's own ``in X`` when it includes the wait (up to 1.26, see ``pull_seconds_includes_waiting``)."""
    if c.get("pull_including_waiting_seconds") is not None:
        return c["pull_including_waiting_seconds"]
    return c.get("pull_seconds") if c.get("pull_seconds_includes_waiting") else None


def _single_pod_pulls(pods: list[dict], arm: str, trials: set, image_suffix: str) -> dict[str, list[float]]:
    """Per component, pulls of an image ending in ``image_suffix`` that waited behind no other pull of it:
    the only pod of the arm pulling it on its node, or the first to start pulling it there."""
    per_node: dict[tuple, list[tuple[dict, dict]]] = {}
    for p in pods:
        if p["arm"] != arm or p["class"] != "cold" or p["trial"] not in trials:
            continue
        for c in p["containers"]:
            if c["source"] == "pulled" and c["image"].endswith("/" + image_suffix):
                per_node.setdefault((p["trial"], p["node"], c["image"]), []).append((p, c))
    out: dict[str, list[float]] = {}
    for pulls in per_node.values():
        chosen = pulls if len(pulls) == 1 else [pc for pc in pulls if pc[1].get("first_puller")]
        for p, c in chosen:
            if (v := _including_waiting(c)) is not None:
                out.setdefault(p.get("component") or "-", []).append(v)
    return out


def _median(values: list[float]) -> float | None:
    from statistics import median

    return float(median(values)) if values else None


def measured_rows(report: dict) -> list[dict]:
    """Measured figures that are the same metric on the same kind of run as a seed figure, or why there is none.

    Pull (Teleport, one pod): single-pod (or first-puller) pulls including waiting, per component and
    image, over the trials the headline counts. Running (blog): first created to last container started, the median
    over counted trials only, labelled with replicas and pods per node.
    """
    rows: list[dict] = []
    arms, pods = report["arms"], report.get("pods") or []
    for seed in (r for r in REFERENCE if r["metric"] == "pull"):
        found = False
        for c in report["comparisons"]:
            counted = {t["trial"] for t in c["speedup"]["per_trial"]}
            b = _single_pod_pulls(pods, c["baseline_arm"], counted, seed["scenario"])
            s = _single_pod_pulls(pods, c["streaming_arm"], counted, seed["scenario"])
            for comp in sorted(set(b) & set(s)):
                found = True
                label = f"{c['workload']}/{c['pair'] or '-'} {comp} {seed['scenario']}"
                rows.append(
                    {"metric": "pull", "label": label, "standard": _median(b[comp]), "streaming": _median(s[comp])}
                )
        if not found:
            why = f"no single-pod pull of {seed['scenario']} in a counted trial of both arms"
            rows.append({"metric": "pull", "label": seed["scenario"], "standard": None, "streaming": None, "why": why})
    for c in report["comparisons"]:
        b_arm, s_arm = arms[c["baseline_arm"]], arms[c["streaming_arm"]]
        counted = {t["trial"] for t in c["speedup"]["per_trial"]}
        replicas = (c.get("replicas") or {}).get("baseline")
        label = f"{c['workload']}/{c['pair'] or '-'} ({'?' if replicas is None else f'{replicas:g}'} replicas)"
        b_run = _median(
            [
                t["arm_started_seconds"]
                for t in b_arm["trials"]
                if t["trial"] in counted and t["arm_started_seconds"] is not None
            ]
        )
        s_run = _median(
            [
                t["arm_started_seconds"]
                for t in s_arm["trials"]
                if t["trial"] in counted and t["arm_started_seconds"] is not None
            ]
        )
        row = {"metric": "running", "label": label, "standard": b_run, "streaming": s_run}
        if not counted:
            row["why"] = "no counted trial (see the trials left out of the speed-up)"
        elif b_run is None or s_run is None:
            row["why"] = "a container of a counted trial never started"
        if "why" in row:
            row["standard"] = row["streaming"] = None  # a row without a comparable figure prints none
        rows.append(row)
    return rows
