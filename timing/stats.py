"""Summary statistics and the bootstrap CI of a ratio of medians.

Percentiles use linear interpolation between closest ranks (Hyndman & Fan
type 7, numpy's default): for sorted x[0..n-1], p-th percentile is at rank
h = (n-1)*p/100, value x[floor h] + (h - floor h) * (x[floor h + 1] - x[floor h]).
p50 is therefore the ordinary median.
"""

from __future__ import annotations

import math
from typing import Iterable, List, Optional, Sequence, Tuple

import numpy as np

BOOTSTRAP_SEED = 20240501
BOOTSTRAP_RESAMPLES = 2000
STAT_KEYS = ("n", "min", "p50", "p90", "p99", "max", "mean")


def percentile(sorted_values: Sequence[float], p: float) -> Optional[float]:
    n = len(sorted_values)
    if n == 0:
        return None
    if n == 1:
        return float(sorted_values[0])
    h = (n - 1) * p / 100.0
    lo = math.floor(h)
    hi = min(lo + 1, n - 1)
    return float(sorted_values[lo] + (h - lo) * (sorted_values[hi] - sorted_values[lo]))


def summarize(values: Iterable[float]) -> dict:
    xs: List[float] = sorted(float(v) for v in values)
    if not xs:
        return {"n": 0, "min": None, "p50": None, "p90": None, "p99": None, "max": None, "mean": None}
    return {
        "n": len(xs),
        "min": xs[0],
        "p50": percentile(xs, 50),
        "p90": percentile(xs, 90),
        "p99": percentile(xs, 99),
        "max": xs[-1],
        "mean": math.fsum(xs) / len(xs),
    }


def ratio(numerator: Optional[float], denominator: Optional[float]) -> Optional[float]:
    if numerator is None or denominator is None or denominator <= 0:
        return None
    return numerator / denominator


def bootstrap_ratio_of_medians(
    baseline: Sequence[float],
    streaming: Sequence[float],
    seed: int = BOOTSTRAP_SEED,
    resamples: int = BOOTSTRAP_RESAMPLES,
    confidence: float = 0.95,
) -> Tuple[Optional[float], Optional[float]]:
    """Percentile-bootstrap CI of median(baseline) / median(streaming).

    Pods are resampled with replacement within each arm independently (the
    arms are independent samples); each call uses a fresh generator seeded
    with ``seed`` so a comparison's CI does not depend on which other
    comparisons were computed before it.  Fewer than 2 pods on either side
    gives ``(None, None)``: a single pod has no spread to resample.
    """
    if len(baseline) < 2 or len(streaming) < 2 or resamples <= 0:
        return (None, None)
    rng = np.random.default_rng(seed)
    b_med = _bootstrap_medians(baseline, resamples, rng)
    s_med = _bootstrap_medians(streaming, resamples, rng)
    valid = s_med > 0
    if not valid.any():
        return (None, None)
    ratios = np.sort(b_med[valid] / s_med[valid])
    alpha = (1.0 - confidence) / 2.0
    return (percentile(ratios, 100 * alpha), percentile(ratios, 100 * (1 - alpha)))


def _bootstrap_medians(values: Sequence[float], resamples: int, rng) -> np.ndarray:
    """Medians of ``resamples`` resamples (with replacement) of ``values``.

    With the values sorted, the k-th smallest resampled value is the value at
    the k-th smallest resampled index, so it is enough to sort small integer
    index arrays (numpy radix-sorts 16-bit integers), which is an order of
    magnitude faster than taking medians of float resamples and gives the
    same numbers.
    """
    v = np.sort(np.asarray(values, dtype=float))
    n = len(v)
    dtype = np.int16 if n <= np.iinfo(np.int16).max else np.int32
    idx = np.sort(rng.integers(0, n, size=(resamples, n), dtype=dtype), axis=1)
    lo, hi = (n - 1) // 2, n // 2
    return (v[idx[:, lo]] + v[idx[:, hi]]) / 2.0
