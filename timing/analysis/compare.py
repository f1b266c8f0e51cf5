"""Two runs side by side: per comparison present in both, the ratio of their speed-ups.

The ratio is exp(mean ln r_B − mean ln r_A) over the per-trial ratios of each run, with Welch's
t interval (Welch–Satterthwaite degrees of freedom) on the log scale, each run's variance widened
for its clocks exactly as its own headline is (``stats.widened_log_variance``); the runs differ when
that 95 % interval leaves out 1. Below two counted trials in either run there is no estimate.
Definitions: docs/timing.md ("Comparing two runs").
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TypeGuard

from timing.analysis.stats import clock_log_variance, t975, widened_log_variance

COMPARE_SCHEMA = "streaming-ab/timing-compare@1"
READABLE_REPORT = "streaming-ab/timing-report@3"
OLDER_REPORTS = ("streaming-ab/timing-report@1", "streaming-ab/timing-report@2")
KEY_FIELDS = ("workload", "pair", "baseline_arm", "streaming_arm")
HEADLINE_METRIC = "arm_ready"
# No arm-ready ratio comes near a million-fold either way; the bound keeps every exp() below finite.
RATIO_BOUNDS = (1e-6, 1e6)


def comparison_key(c: Mapping) -> tuple:
    return tuple(c.get(k) for k in KEY_FIELDS)


def counted_trials(speedup: Mapping | None) -> tuple[list[float], list[float]]:
    """ln of the per-trial ratios the headline counted (an entry marked ``counted: false`` is not), and
    per ratio the variance its clocks' rounding adds (``clock_log_variance`` at the report's resolution)."""
    speedup = speedup or {}
    resolution = speedup.get("clock_resolution_seconds") or 0.0
    logs, clock = [], []
    for t in speedup.get("per_trial") or ():
        r = t.get("ratio")
        if t.get("counted", True) is not False and isinstance(r, (int, float)) and r > 0:
            logs.append(math.log(r))
            clock.append(clock_log_variance(t.get("baseline") or 0.0, t.get("streaming") or 0.0, resolution))
    return logs, clock


def welch_log_difference(
    logs_a: Sequence[float],
    logs_b: Sequence[float],
    clock_a: Sequence[float] | None = None,
    clock_b: Sequence[float] | None = None,
) -> dict:
    """Difference of log means (B − A), its Welch 95 % interval and degrees of freedom.

    Each run's variance is ``widened_log_variance`` (spread plus clock rounding, 0 when ``clock_*`` is
    not given). All null below two trials in either run (one trial is no estimate); the interval is
    null when neither variance is above zero (the spread is then unknown, not zero).
    """
    na, nb = len(logs_a), len(logs_b)
    if na < 2 or nb < 2:
        return {"difference": None, "ci95": None, "df": None}
    diff = math.fsum(logs_b) / nb - math.fsum(logs_a) / na
    va_n = widened_log_variance(logs_a, clock_a if clock_a is not None else [0.0] * na) / na
    vb_n = widened_log_variance(logs_b, clock_b if clock_b is not None else [0.0] * nb) / nb
    se2 = va_n + vb_n
    if se2 == 0:
        return {"difference": diff, "ci95": None, "df": None}
    df = se2**2 / (va_n**2 / (na - 1) + vb_n**2 / (nb - 1))
    half = float(t975(df)) * math.sqrt(se2)
    return {"difference": diff, "ci95": [diff - half, diff + half], "df": df}


def _side(c: Mapping) -> dict:
    sp = c.get("speedup") or {}
    verified = c.get("verified") or {}
    return {
        "estimate": sp.get("estimate"),
        "ci95": sp.get("ci95"),
        "n_trials": len(counted_trials(sp)[0]),
        "verified": verified.get("streaming") is True and verified.get("cold") is True,
    }


def compare_one(a: Mapping, b: Mapping) -> dict:
    (logs_a, clock_a), (logs_b, clock_b) = counted_trials(a.get("speedup")), counted_trials(b.get("speedup"))
    w = welch_log_difference(logs_a, logs_b, clock_a, clock_b)
    ci = [math.exp(w["ci95"][0]), math.exp(w["ci95"][1])] if w["ci95"] else None
    return {
        **{k: a.get(k) for k in KEY_FIELDS},
        "a": _side(a),
        "b": _side(b),
        "ratio": math.exp(w["difference"]) if w["difference"] is not None else None,
        "ci95": ci,
        "df": w["df"],
        # None: no interval, so the data cannot say either way.
        "differ": None if ci is None else not (ci[0] <= 1.0 <= ci[1]),
    }


def compare_reports(a: Mapping, b: Mapping) -> dict:
    """Comparisons present in both reports (matched by workload, pair and arm names), and the rest named."""
    by_a = {comparison_key(c): c for c in a.get("comparisons") or ()}
    by_b = {comparison_key(c): c for c in b.get("comparisons") or ()}
    both = [k for k in by_a if k in by_b]
    return {
        "schema": COMPARE_SCHEMA,
        "comparisons": [compare_one(by_a[k], by_b[k]) for k in both],
        "only_in_a": [dict(zip(KEY_FIELDS, k, strict=True)) for k in by_a if k not in by_b],
        "only_in_b": [dict(zip(KEY_FIELDS, k, strict=True)) for k in by_b if k not in by_a],
    }


def _shown(x: object) -> str:
    """A value as the message quotes it: its repr, cut short (a message is one line)."""
    text = repr(x)
    return text if len(text) <= 40 else text[:37] + "..."


def _number(x: object) -> TypeGuard[float]:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _positive(x: object) -> TypeGuard[float]:
    return _number(x) and x > 0


def _trial_problem(t: object, resolution: float) -> str | None:
    if not isinstance(t, dict):
        return ": not an object"
    r = t.get("ratio")
    if r is None:
        return None  # a trial without a ratio is not counted
    if not _number(r) or not RATIO_BOUNDS[0] <= r <= RATIO_BOUNDS[1]:
        return f".ratio: {_shown(r)} is not a number from {RATIO_BOUNDS[0]:g} to {RATIO_BOUNDS[1]:g}"
    for key in ("baseline", "streaming"):
        # A figure read on a clock of that resolution is 0 (then no ratio) or at least one tick.
        if not _positive(t.get(key)) or t[key] < resolution:
            return f".{key}: {_shown(t.get(key))} is not a number of seconds of at least the clock resolution {resolution:g}"
    if not math.isclose(r, t["baseline"] / t["streaming"], rel_tol=1e-9):
        return f".ratio: {_shown(r)} is not baseline / streaming"
    if not isinstance(t.get("counted", True), bool):
        return f".counted: {_shown(t.get('counted'))} is not true or false"
    return None


def _speedup_problem(sp: object) -> str | None:
    if not isinstance(sp, dict):
        return f": {_shown(sp)} is not an object"
    if sp.get("metric") != HEADLINE_METRIC:
        return f".metric: {_shown(sp.get('metric'))}, not {_shown(HEADLINE_METRIC)} (compare reads the arm-ready headline only)"
    resolution = sp.get("clock_resolution_seconds")
    if not _number(resolution) or resolution < 0:
        return f".clock_resolution_seconds: {_shown(resolution)} is not a number of seconds"
    if sp.get("estimate") is not None and not _positive(sp["estimate"]):
        return f".estimate: {_shown(sp['estimate'])} is not a positive number or null"
    ci = sp.get("ci95")
    if ci is not None and not (isinstance(ci, list) and len(ci) == 2 and all(map(_positive, ci)) and ci[0] <= ci[1]):
        return f".ci95: {_shown(ci)} is not [low, high] of positive numbers or null"
    trials = sp.get("per_trial")
    if not isinstance(trials, list):
        return f".per_trial: {_shown(trials)} is not a list"
    for j, t in enumerate(trials):
        problem = _trial_problem(t, resolution)
        if problem:
            return f".per_trial[{j}]{problem}"
    return None


def _comparison_problem(c: object) -> str | None:
    if not isinstance(c, dict):
        return ": not an object"
    for key in KEY_FIELDS:
        if not isinstance(c.get(key), str) and not (key == "pair" and c.get(key) is None):
            return f".{key}: {_shown(c.get(key))} is not a string" + (" or null" if key == "pair" else "")
    problem = _speedup_problem(c.get("speedup"))
    if problem:
        return f".speedup{problem}"
    verified = c.get("verified")
    if not isinstance(verified, dict):
        return f".verified: {_shown(verified)} is not an object"
    for key in ("streaming", "cold"):
        if verified.get(key) not in (True, False, None):
            return f".verified.{key}: {_shown(verified.get(key))} is not true, false or null"
    return None


def report_problem(doc: object) -> str | None:
    """Why ``doc`` is not a report compare can read (with the key path of the first bad field), or None."""
    if not isinstance(doc, dict):
        return "not a JSON object"
    schema = doc.get("schema")
    if schema in OLDER_REPORTS:
        return (
            f"schema {_shown(schema)} is older than this version reads ({READABLE_REPORT}: verified.streaming from "
            "node evidence, clock resolutions); re-run `report --json` with this version, or give the results folder"
        )
    if schema != READABLE_REPORT:
        return f"schema {_shown(schema)} is not a timing report; allowed: {READABLE_REPORT}"
    comparisons = doc.get("comparisons")
    if not isinstance(comparisons, list):
        return f"comparisons: {_shown(comparisons)} is not a list"
    seen: dict[tuple, int] = {}
    for i, c in enumerate(comparisons):
        problem = _comparison_problem(c)
        if problem:
            return f"comparisons[{i}]{problem}"
        first = seen.setdefault(comparison_key(c), i)
        if first != i:
            return f"comparisons[{i}]: the same workload, pair and arms as comparisons[{first}]"
    return None
