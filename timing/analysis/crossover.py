"""The report's `crossover` section: the speed-up against a declared factor, and where it crosses 1x.

A comparison belongs to a factor when its pods carry `streaming-ab/factor` and `-factor-value`. The
crossing is interpolated linearly in the factor on the log of the speed-up between the two measured
points around 1x. Beside it, a physical limit from published throughput (docs/timing.md "Crossover").
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from contract import (
    LABEL_ARM,
    LABEL_FACTOR,
    LABEL_FACTOR_VALUE,
    LABEL_FILL,
    LABEL_OS_DISK,
    LABEL_PAYLOAD_MB,
    LABEL_READ_MB,
    LABEL_VM_SIZE,
)
from timing.model.pods import PodInfo
from timing.model.throughput import node_throughput

NO_CROSSING = "does not cross 1x in the measured range"
LIMIT_FORMULA = (
    "standard = compressed MB / network + unpacked MB / disk write; streaming = setup + read MB / network; "
    "limit = standard / streaming"
)
_LABELS = (LABEL_FACTOR, LABEL_FACTOR_VALUE, LABEL_PAYLOAD_MB, LABEL_READ_MB, LABEL_FILL, LABEL_VM_SIZE, LABEL_OS_DISK)
_FACTORS = frozenset(_LABELS)


def arm_labels(pods: Sequence[PodInfo]) -> dict[str, dict[str, str]]:
    """Per arm, the most common value of each factor label among its pods."""
    counts: dict[str, dict[str, Counter]] = {}
    for pod in pods:
        arm = pod.labels.get(LABEL_ARM)
        if not arm:
            continue
        per_label = counts.setdefault(arm, {})
        if _FACTORS.isdisjoint(pod.labels):
            continue  # most runs carry no factor label: one set operation tells, not a lookup per label
        for key in _LABELS:
            if key in pod.labels:
                per_label.setdefault(key, Counter())[pod.labels[key]] += 1
    return {
        arm: {key: sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))[0][0] for key, c in per_label.items()}
        for arm, per_label in counts.items()
    }


def _number(text: str | None) -> float | None:
    try:
        value = float(text) if text is not None else None
    except ValueError:
        return None
    return value if value is not None and math.isfinite(value) else None


def _sign_after(logs: list[tuple[float, float]], i: int) -> float:
    """The sign of the curve after point i: the next non-zero log, else the opposite of the last one."""
    later = [y for _, y in logs[i + 1 :] if y != 0]
    earlier = [y for _, y in logs[:i] if y != 0]
    return later[0] if later else (-earlier[-1] if earlier else 0.0)


def crossing(points: Sequence[tuple[float, float]]) -> dict:
    """Where the speed-up crosses 1x: (value, speed-up) points, interpolated on the log speed-up."""
    logs = [(x, math.log(r)) for x, r in sorted(points)]
    found = [(x, x, x, _sign_after(logs, i)) for i, (x, y) in enumerate(logs) if y == 0]
    for (x0, y0), (x1, y1) in zip(logs, logs[1:], strict=False):
        if y0 * y1 < 0:
            found.append((x0 + (x1 - x0) * (-y0) / (y1 - y0), x0, x1, y1))
    found.sort()
    if not found:
        return _no_crossing(NO_CROSSING)
    value, low, high, after = found[0]
    direction = "streaming stops helping" if after < 0 else "streaming starts helping" if after > 0 else None
    text = f"crosses 1x at {value:.3g} (between {low:g} and {high:g})" + (
        f": {direction} beyond it" if direction else ""
    )
    if len(found) > 1:
        text += f"; crosses {len(found)} times in the measured range"
    return {"value": value, "between": [low, high], "direction": direction, "text": text, "count": len(found)}


def _limit_point(labels: Mapping[str, str], setup_seconds: float | None) -> dict | None:
    node = node_throughput(labels.get(LABEL_VM_SIZE), labels.get(LABEL_OS_DISK))
    payload, read = _number(labels.get(LABEL_PAYLOAD_MB)), _number(labels.get(LABEL_READ_MB))
    fill = labels.get(LABEL_FILL)
    if node is None or payload is None or read is None or fill not in ("random", "zero"):
        return None
    # Zero-filled layers compress about a thousandfold: the model takes their transfer as nothing.
    compressed = payload if fill == "random" else 0.0
    setup = setup_seconds or 0.0
    standard = compressed / node.network_mb_s + payload / node.disk_write_mb_s
    streaming = setup + read / node.network_mb_s
    return {
        "standard_seconds": standard,
        "streaming_seconds": streaming,
        "setup_seconds": setup,
        "speedup": standard / streaming if streaming > 0 else None,
        "node": node.to_json(),
    }


def _point(comparison: dict, labels: Mapping[str, str], arms: Mapping[str, dict]) -> dict:
    speedup = comparison["speedup"]
    streaming_arm = arms.get(comparison["streaming_arm"]) or {}
    setup = ((streaming_arm.get("pull_seconds") or {}).get("p50")) if streaming_arm else None
    return {
        "value": labels[LABEL_FACTOR_VALUE],
        "workload": comparison["workload"],
        "pair": comparison["pair"],
        "estimate": speedup["estimate"],
        "ci95": speedup["ci95"],
        "n_trials": speedup["n_trials"],
        # The comparison's own checks, as they are: a point is no better verified than its comparison.
        "verified": comparison.get("verified"),
        "limit": _limit_point(labels, setup),
    }


def crossover_section(
    comparisons: Iterable[Any], arms: Mapping[str, dict], labels: Mapping[str, Mapping[str, str]]
) -> dict | None:
    """None when no comparison carries a factor; else {factor, points, crossing, limit_model}."""
    factored = []
    for c in comparisons:
        own = labels.get(c["streaming_arm"]) or {}
        if LABEL_FACTOR in own and LABEL_FACTOR_VALUE in own:
            factored.append((c, own))
    if not factored:
        return None
    factors = sorted({own[LABEL_FACTOR] for _, own in factored})
    if len(factors) > 1:
        return {
            "factor": None,
            "points": [],
            "crossing": _no_crossing(
                f"comparisons differ in several factors ({', '.join(factors)}); select one with "
                f"--selector {LABEL_FACTOR}=<factor>"
            ),
            "limit_model": None,
        }
    points = [_point(c, own, arms) for c, own in factored]
    numeric = [_number(p["value"]) for p in points]
    if all(v is not None for v in numeric):
        for p, v in zip(points, numeric, strict=True):
            p["value"] = v
        points.sort(key=lambda p: p["value"])
    return {
        "factor": factors[0],
        "points": points,
        "crossing": _section_crossing(points, numeric),
        "limit_model": _limit_model(points),
    }


def _no_crossing(text: str) -> dict:
    return {"value": None, "between": None, "direction": None, "count": 0, "text": text}


def _section_crossing(points: list[dict], numeric: list[float | None]) -> dict:
    if any(v is None for v in numeric):
        return _no_crossing("the factor is not numeric: no crossing is interpolated")
    values = [p["value"] for p in points]
    if len(set(values)) < len(values):
        return _no_crossing("more than one comparison per value (several pairs): no single curve to cross")
    measured = [(p["value"], p["estimate"]) for p in points if p["estimate"] is not None and p["estimate"] > 0]
    if len(measured) < 2:
        return _no_crossing("fewer than two measured points: no crossing can be placed")
    return crossing(measured)


def _limit_model(points: list[dict]) -> dict:
    drawn = [p for p in points if p["limit"] is not None]
    missing = [str(p["value"]) for p in points if p["limit"] is None]
    return {
        "formula": LIMIT_FORMULA,
        "setup": "the streaming arm's median cold pull seconds (0 when not measured)",
        "points": len(drawn),
        "missing": (
            f"no published throughput or image facts for value(s) {', '.join(missing)} "
            "(labels streaming-ab/vm-size, os-disk, payload-mb, read-mb, fill)"
            if missing
            else None
        ),
    }
