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
    xs = np.sort(np.fromiter(values, dtype=float))  # fromiter converts each value as float() does
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


def trial_speedup(ratios: Sequence[float], clock_variances: Sequence[float] | None = None) -> dict:
    """Geometric mean of per-trial ratios, the t-based 95 % interval on their logs, and trials needed.

    ``ci95`` = exp(mean(ln r) ± t(0.975, n−1)·√(sd(ln r)² + q)/√n), null below 2 trials, and so is
    the estimate at one trial (the single ratio stays in ``per_trial``). ``q`` is the mean of
    ``clock_variances`` (per ratio, the variance its clocks' rounding adds to ln r, see
    ``clock_log_variance``; 0 when not given): figures read in whole seconds never give a zero-width
    interval. ``trials_needed`` is the smallest n with t(0.975, n−1)·sd/√n ≤ ln(1.1), and
    ``trials_needed_range`` the same at both ends of the 95 % chi-square interval of sd.
    """
    variances = clock_variances if clock_variances is not None else [0.0] * len(ratios)
    kept = [(r, q) for r, q in zip(ratios, variances, strict=True) if r is not None and r > 0]
    logs = np.log(np.asarray([r for r, _q in kept], dtype=float))
    n = int(logs.size)
    out: dict = {
        "n_trials": n,
        "estimate": None,
        "ci95": None,
        "trials_needed": None,
        "trials_needed_range": None,
        "clock_widened": False,
    }
    if n < 2:
        return out
    mean = float(logs.mean())
    sd = float(logs.std(ddof=1))
    clock = [q for _r, q in kept]
    half = float(t975(n - 1)) * math.sqrt(widened_log_variance(logs.tolist(), clock)) / math.sqrt(n)
    out["estimate"] = math.exp(mean)
    out["ci95"] = [math.exp(mean - half), math.exp(mean + half)]
    out["clock_widened"] = any(q > 0 for q in clock)
    out["trials_needed"] = trials_needed(sd)
    out["trials_needed_range"] = trials_needed_range(sd, n)
    return out


def widened_log_variance(logs: Sequence[float], clock_variances: Sequence[float]) -> float:
    """sd(ln r)² + q, q the mean of the per-trial ``clock_variances``: the one variance every interval
    on trial log ratios uses (the headline's, and each run's side of `compare`). Needs 2 or more logs."""
    sd2 = float(np.var(np.asarray(logs, dtype=float), ddof=1))
    return sd2 + math.fsum(clock_variances) / len(logs)


def clock_log_variance(baseline: float, streaming: float, resolution: float) -> float:
    """What rounding adds to the variance of ln(baseline/streaming) when each figure is the difference
    of two times truncated to ``resolution``: a difference of two uniform errors has variance
    resolution²/6, and ln x moves by about error/x."""
    if baseline <= 0 or streaming <= 0:
        return 0.0
    # Squares of the quotients, not of the figures: a large figure underflows to 0 instead of overflowing.
    return ((resolution / baseline) ** 2 + (resolution / streaming) ** 2) / 6.0


def trials_needed_range(sd_log: float, n: int) -> list[int | None]:
    """``trials_needed`` at the ends of the 95 % chi-square interval of the spread measured on ``n`` trials."""
    from scipy.special import chdtri

    df = n - 1
    low_sd = sd_log * math.sqrt(df / float(chdtri(df, 0.025)))
    high_sd = sd_log * math.sqrt(df / float(chdtri(df, 0.975)))
    return [trials_needed(low_sd), trials_needed(high_sd)]


def drift(log_ratios: Sequence[float]) -> dict | None:
    """Least-squares slope of the log ratio over the trial index and its two-sided p-value (t test).

    Null below 3 trials. A p-value under 0.05 is the ``drift`` flag: trials are not exchangeable,
    and the interval, which assumes they are, undercovers.
    """
    y = np.asarray(log_ratios, dtype=float)
    n = int(y.size)
    if n < 3:
        return None
    x = np.arange(n, dtype=float)
    x -= x.mean()
    slope = float((x * (y - y.mean())).sum() / (x * x).sum())
    resid = y - y.mean() - slope * x
    sse = float((resid * resid).sum())
    if sse == 0.0:
        p = 0.0 if slope != 0.0 else 1.0
    else:
        from scipy.special import stdtr

        se = math.sqrt(sse / (n - 2) / float((x * x).sum()))
        p = float(2 * stdtr(n - 2, -abs(slope / se)))
    return {"slope_log_per_trial": slope, "p_value": p, "flagged": p < 0.05}


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
