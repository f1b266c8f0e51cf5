"""Summary statistics of pod figures and the per-trial speed-up with its t interval.

Percentiles use linear interpolation between closest ranks (Hyndman & Fan type 7, numpy's
default); p90 needs at least 10 values, p95 at least 20 and p99 at least 100, else they are null
(docs/timing.md).
The speed-up is estimated from trials, the unit of evidence: pods of one trial share nodes, a
registry and a moment, so they are not independent samples.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np

STAT_KEYS = ("n", "min", "p50", "p90", "p95", "p99", "max", "mean")
MIN_N_FOR = {"p90": 10, "p95": 20, "p99": 100}
TARGET_HALF_WIDTH = 0.10  # trials_needed aims at a 95 % interval within about ±10 % of the estimate
_MAX_TRIALS_NEEDED = 10_000


def t975(df):
    """The 0.975 quantile of Student's t with ``df`` degrees of freedom (scalar or array).

    scipy.special's ``stdtrit`` (what ``scipy.stats.t.ppf`` computes), imported on first use: the
    whole of scipy.stats would add about 0.7 s to every report.
    """
    from scipy.special import stdtrit

    return stdtrit(df, 0.975)


def percentile(sorted_values: Sequence[float], p: float) -> float | None:
    if not len(sorted_values):
        return None
    return float(np.percentile(np.asarray(sorted_values, dtype=float), p))


def summarize(values: Iterable[float]) -> dict:
    xs = np.sort(np.fromiter((float(v) for v in values), dtype=float))
    n = int(xs.size)
    if n == 0:
        return dict.fromkeys(STAT_KEYS, None) | {"n": 0}
    p50, p90, p95, p99 = (float(v) for v in np.percentile(xs, [50, 90, 95, 99]))
    return {
        "n": n,
        "min": float(xs[0]),
        "p50": p50,
        "p90": p90 if n >= MIN_N_FOR["p90"] else None,
        "p95": p95 if n >= MIN_N_FOR["p95"] else None,
        "p99": p99 if n >= MIN_N_FOR["p99"] else None,
        "max": float(xs[-1]),
        "mean": math.fsum(xs.tolist()) / n,
    }


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or denominator is None or denominator <= 0:
        return None
    return numerator / denominator


def trial_speedup(ratios: Sequence[float]) -> dict:
    """Geometric mean of per-trial ratios, the t-based 95 % interval on their logs, and trials needed.

    ``ci95`` = exp(mean(ln r) ± t(0.975, n−1)·sd(ln r)/√n), null below 2 trials; ``trials_needed``
    is the smallest n with t(0.975, n−1)·sd/√n ≤ ln(1.1) at the observed sd (null below 2 trials).
    """
    logs = np.log(np.asarray([r for r in ratios if r is not None and r > 0], dtype=float))
    n = int(logs.size)
    if n == 0:
        return {"n_trials": 0, "estimate": None, "ci95": None, "trials_needed": None}
    mean = float(logs.mean())
    out: dict = {"n_trials": n, "estimate": math.exp(mean), "ci95": None, "trials_needed": None}
    if n < 2:
        return out
    sd = float(logs.std(ddof=1))
    half = float(t975(n - 1)) * sd / math.sqrt(n)
    out["ci95"] = [math.exp(mean - half), math.exp(mean + half)]
    out["trials_needed"] = trials_needed(sd)
    return out


def trials_needed(sd_log: float, target: float = TARGET_HALF_WIDTH) -> int | None:
    limit = math.log1p(target)
    if sd_log == 0:
        return 2
    # t(0.975, n-1) < 2.6 from n = 8 on, so the answer lies below this bound: search only up to it.
    bound = min(_MAX_TRIALS_NEEDED, int((2.6 * sd_log / limit) ** 2) + 10)
    ns = np.arange(2, bound + 1)
    ok = np.nonzero(t975(ns - 1) * sd_log / np.sqrt(ns) <= limit)[0]
    # None: more than _MAX_TRIALS_NEEDED, the spread swamps any practical experiment.
    return int(ns[ok[0]]) if ok.size else None
