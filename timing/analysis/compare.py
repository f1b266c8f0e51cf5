"""Two runs side by side: per comparison present in both, the ratio of their speed-ups.

The ratio is exp(mean ln r_B − mean ln r_A) over the per-trial ratios of each run, with Welch's
t interval (unequal variances, Welch–Satterthwaite degrees of freedom) on the log scale; the runs
differ when that 95 % interval leaves out 1. Definitions: docs/timing.md ("Comparing two runs").
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from timing.analysis.stats import t975

COMPARE_SCHEMA = "streaming-ab/timing-compare@1"
READABLE_REPORTS = ("streaming-ab/timing-report@2", "streaming-ab/timing-report@3")
KEY_FIELDS = ("workload", "pair", "baseline_arm", "streaming_arm")


def comparison_key(c: Mapping) -> tuple:
    return tuple(c.get(k) for k in KEY_FIELDS)


def counted_log_ratios(speedup: Mapping | None) -> list[float]:
    """ln of the per-trial ratios the headline counted (an entry marked ``counted: false`` is not)."""
    out = []
    for t in (speedup or {}).get("per_trial") or ():
        r = t.get("ratio")
        if t.get("counted", True) is not False and isinstance(r, (int, float)) and r > 0:
            out.append(math.log(r))
    return out


def welch_log_difference(logs_a: Sequence[float], logs_b: Sequence[float]) -> dict:
    """Difference of log means (B − A), its Welch 95 % interval and degrees of freedom.

    The interval is null below two trials in either run, and when neither run's ratios vary (the
    variance is then unknown, not zero).
    """
    na, nb = len(logs_a), len(logs_b)
    if na == 0 or nb == 0:
        return {"difference": None, "ci95": None, "df": None}
    diff = float(np.mean(logs_b) - np.mean(logs_a))
    if na < 2 or nb < 2:
        return {"difference": diff, "ci95": None, "df": None}
    va_n = float(np.var(logs_a, ddof=1)) / na
    vb_n = float(np.var(logs_b, ddof=1)) / nb
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
        "n_trials": len(counted_log_ratios(sp)),
        "verified": verified.get("streaming") is True and verified.get("cold") is True,
    }


def compare_one(a: Mapping, b: Mapping) -> dict:
    logs_a, logs_b = counted_log_ratios(a.get("speedup")), counted_log_ratios(b.get("speedup"))
    w = welch_log_difference(logs_a, logs_b)
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


def report_problem(doc: object) -> str | None:
    """Why ``doc`` is not a report compare can read, or None."""
    if not isinstance(doc, dict):
        return "not a JSON object"
    schema = doc.get("schema")
    if schema not in READABLE_REPORTS:
        return f"schema {schema!r} is not a timing report; allowed: {', '.join(READABLE_REPORTS)}"
    if not isinstance(doc.get("comparisons"), list) or not all(isinstance(c, dict) for c in doc["comparisons"]):
        return "its comparisons are not a list of objects"
    return None
