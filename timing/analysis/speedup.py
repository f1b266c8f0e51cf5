"""A comparison's per-trial speed-ups: which trials count, the estimate, and what the headline depends on.

Every trial is counted: used, or left out under a reason (pod classes, protocol flags, flags of
``measure``). Estimands and rules: docs/timing.md ("The trial is the unit of evidence").
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from statistics import median

from timing.analysis.classify import COLD, KUBE_TIME_RESOLUTION
from timing.analysis.protocol import DRIFT
from timing.analysis.stats import clock_log_variance, drift, ratio, trial_speedup
from timing.model.applog import APP_LOG_RESOLUTION

# metric -> (figure of an arm's trial, the coarsest clock behind it)
SPEEDUP_METRICS = {
    "arm_ready": ("arm_ready_seconds", KUBE_TIME_RESOLUTION),
    "arm_app_ready": ("arm_app_ready_seconds", max(KUBE_TIME_RESOLUTION, APP_LOG_RESOLUTION)),
    "median_pod_ready": ("median_pod_ready_seconds", KUBE_TIME_RESOLUTION),
}


# Reasons a trial is left out besides pod classes and flags (docs/timing.md, "The trial is the unit of evidence").
ARM_MISSING = "arm-missing"
NOT_STREAMED = "not_streamed"
NOT_READY = "not-ready"
NO_APP_SIGNAL = "no-app-signal"


def trial_ids(b_trials: Sequence[Mapping], s_trials: Sequence[Mapping]) -> list:
    """A comparison's trials: the standard arm's in its order, then those only the streaming arm ran."""
    b_ids = [t["trial"] for t in b_trials]
    known = set(b_ids)
    return b_ids + [t["trial"] for t in s_trials if t["trial"] not in known]


def _left_out(metric: str, bt: dict | None, st: dict | None, trial_flags: list[str], include_flagged: bool) -> list:
    """Why the trial is left out of the ``metric`` speed-up (reason codes), or [] when it is counted."""
    if bt is None or st is None:
        return [ARM_MISSING]
    # A streaming-arm pod the node shows did not stream leaves the trial out (not_streamed).
    if st.get("not_streamed_pods"):
        return [NOT_STREAMED]
    bad = sorted({c for t in (bt, st) for c in t["classes"] if c != COLD})
    if bad:
        return bad
    if trial_flags and not include_flagged:
        return trial_flags
    key = SPEEDUP_METRICS[metric][0]
    if bt[key] is None or st[key] is None:
        return [NOT_READY if metric != "arm_app_ready" else NO_APP_SIGNAL]
    return []


def speedup(
    metric: str,
    b_trials: list[dict],
    s_trials: list[dict],
    flags: Mapping[object, Sequence[str]] | None = None,
    include_flagged: bool = False,
) -> dict:
    """Per-trial ratios of ``metric`` and their estimate; ``flags``: trial -> reason codes that leave it out.

    ``left_out_trials`` names each trial left out with its reasons; ``excluded_trials`` counts them by reason.
    """
    key, resolution = SPEEDUP_METRICS[metric]
    b_by, s_by = {t["trial"]: t for t in b_trials}, {t["trial"]: t for t in s_trials}
    flags = flags or {}
    excluded: Counter = Counter()
    per_trial, left_out = [], []
    for trial in trial_ids(b_trials, s_trials):
        bt, st = b_by.get(trial), s_by.get(trial)
        trial_flags = sorted(flags.get(trial) or ())
        reasons = _left_out(metric, bt, st, trial_flags, include_flagged)
        if reasons:
            excluded.update(reasons)
            left_out.append({"trial": trial, "reasons": reasons})
            continue
        b, s = b_by[trial][key], s_by[trial][key]  # both arms ran: _left_out said arm-missing otherwise
        entry = {"trial": trial, "baseline": b, "streaming": s, "ratio": ratio(b, s)}
        if trial_flags:
            entry["flags"] = trial_flags
        per_trial.append(entry)
    variances = [clock_log_variance(t["baseline"], t["streaming"], resolution) for t in per_trial]
    result = trial_speedup([t["ratio"] for t in per_trial], variances)
    result["clock_resolution_seconds"] = resolution
    logs = [math.log(t["ratio"]) for t in per_trial if t["ratio"]]
    result["drift"] = drift(logs)
    return {
        "metric": metric,
        "per_trial": per_trial,
        **result,
        "excluded_trials": dict(sorted(excluded.items())),
        "left_out_trials": left_out,
    }


def _median(values) -> float | None:
    vals = [v for v in values if v is not None]
    return float(median(vals)) if vals else None


def layout(b_trials: list[dict], s_trials: list[dict], used: Sequence) -> tuple[dict, dict]:
    """Replicas per arm and pods per node (medians over the trials used): the headline depends on both."""
    chosen = set(used) or {t["trial"] for t in (*b_trials, *s_trials)}
    replicas, density = {}, {}
    for side, trials in (("baseline", b_trials), ("streaming", s_trials)):
        mine = [t for t in trials if t["trial"] in chosen]
        replicas[side] = _median(t["pods"] for t in mine)
        density[side] = _median(t["pods"] / len(t["nodes"]) if t["nodes"] else None for t in mine)
    return replicas, density


def warnings_for(sp: dict, median_pod: dict) -> list[str]:
    """What a reader of the headline must know: one trial, a wide interval, drift."""
    out = []
    n = sp["n_trials"]
    if n == 1:
        only = sp["per_trial"][0]
        out.append(
            f"one trial: no estimate and no interval (its ratio {only['ratio']:.1f}x is one observation); "
            "run more trials (measure --trials N)"
        )
    elif n == 2 and sp["ci95"]:
        lo, hi = sp["ci95"]
        out.append(f"two trials: the 95% interval spans {lo:.1f}x to {hi:.1f}x ({hi / lo:.0f}-fold); run more trials")
    if sp.get("clock_widened"):
        out.append(
            f"interval widened by the {sp['clock_resolution_seconds']:g} s resolution of the clocks behind arm-ready"
        )
    for estimand in (sp, median_pod):
        d = estimand.get("drift")
        if d and d["flagged"]:
            out.append(
                f"{DRIFT}: the {estimand['metric']} ratio trends over the trials "
                f"({d['slope_log_per_trial']:+.3f} log per trial, p={d['p_value']:.3f}); trials are not exchangeable"
            )
    return out
