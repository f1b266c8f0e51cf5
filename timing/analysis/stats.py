"""Summary statistics and the bootstrap CI of a ratio of medians.

Percentiles use linear interpolation between closest ranks (Hyndman & Fan
type 7, numpy's default): for sorted x[0..n-1], p-th percentile is at rank
h = (n-1)*p/100, value x[floor h] + (h - floor h) * (x[floor h + 1] - x[floor h]).
p50 is therefore the ordinary median.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np

BOOTSTRAP_SEED = 20240501
BOOTSTRAP_RESAMPLES = 2000
STAT_KEYS = ("n", "min", "p50", "p90", "p99", "max", "mean")


def percentile(sorted_values: Sequence[float], p: float) -> float | None:
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
    xs: list[float] = sorted(float(v) for v in values)
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


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or denominator is None or denominator <= 0:
        return None
    return numerator / denominator


def bootstrap_ratio_of_medians(
    baseline: Sequence[float],
    streaming: Sequence[float],
    seed: int = BOOTSTRAP_SEED,
    resamples: int = BOOTSTRAP_RESAMPLES,
    confidence: float = 0.95,
) -> tuple[float | None, float | None]:
    """Percentile-bootstrap CI of median(baseline) / median(streaming).

    Pods are resampled with replacement within each arm independently (the
    arms are independent samples); each call uses a fresh generator seeded
    with ``seed`` so a comparison's CI does not depend on which other
    comparisons were computed before it.  Fewer than 2 pods on either side
    gives ``(None, None)``: a single pod has no spread to resample.
    """
    if len(baseline) < 2 or len(streaming) < 2 or resamples <= 0:
        return (None, None)
    if type(seed) is int and type(resamples) is int:
        b_lo, b_hi, s_lo, s_hi = _median_ranks_cached(len(baseline), len(streaming), seed, resamples)
    else:
        # Anything but a plain int seed (None = fresh entropy, a SeedSequence)
        # must draw anew on every call, so it is never cached.
        b_lo, b_hi, s_lo, s_hi = _median_ranks(len(baseline), len(streaming), seed, resamples)
    b_med = _medians_at(baseline, b_lo, b_hi)
    s_med = _medians_at(streaming, s_lo, s_hi)
    valid = s_med > 0
    if not valid.any():
        return (None, None)
    ratios = np.sort(b_med[valid] / s_med[valid])
    alpha = (1.0 - confidence) / 2.0
    values = ratios.tolist()
    return (percentile(values, 100 * alpha), percentile(values, 100 * (1 - alpha)))


def _median_ranks(n_baseline: int, n_streaming: int, seed, resamples: int):
    """For each resample, the ranks (in the sorted sample) of the two middle
    resampled values: baseline first, then streaming, both drawn from one
    generator seeded with ``seed``.

    The draws depend only on the sample sizes, the seed and the number of
    resamples, never on the values.
    """
    rng = np.random.default_rng(seed)
    b_lo, b_hi = _resample_median_ranks(n_baseline, resamples, rng)
    s_lo, s_hi = _resample_median_ranks(n_streaming, resamples, rng)
    return b_lo, b_hi, s_lo, s_hi


_RANKS_CACHE: dict = {}
_RANKS_CACHE_SIZE = 64


def _median_ranks_cached(n_baseline: int, n_streaming: int, seed: int, resamples: int):
    # Every comparison starts a fresh generator from the same seed, so arms
    # (and components) with the same cold-pod counts draw the very same
    # resamples: an A/B experiment usually runs every arm with the same
    # replica count, and drawing and sorting resamples x n indices is the
    # whole cost of the bootstrap.  Only the 4 x resamples middle ranks are
    # kept, read-only.
    key = (n_baseline, n_streaming, seed, resamples)
    hit = _RANKS_CACHE.get(key)
    if hit is None:
        if len(_RANKS_CACHE) >= _RANKS_CACHE_SIZE:
            _RANKS_CACHE.clear()
        hit = _median_ranks(n_baseline, n_streaming, seed, resamples)
        for a in hit:
            a.setflags(write=False)
        _RANKS_CACHE[key] = hit
    return hit


def _resample_median_ranks(n: int, resamples: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """Ranks of the lower and upper middle values of ``resamples`` resamples
    (with replacement) of ``n`` sorted values.

    With the values sorted, the k-th smallest resampled value is the value at
    the k-th smallest resampled index, so it is enough to sort small integer
    index arrays, which is an order of magnitude faster than taking medians of
    float resamples and gives the same numbers.
    """
    dtype = np.int16 if n <= np.iinfo(np.int16).max else np.int32
    idx = np.sort(rng.integers(0, n, size=(resamples, n), dtype=dtype), axis=1)
    lo, hi = (n - 1) // 2, n // 2
    return idx[:, lo].copy(), idx[:, hi].copy()


def _medians_at(values: Sequence[float], lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    v = np.sort(np.asarray(values, dtype=float))
    return (v[lo] + v[hi]) / 2.0


def _bootstrap_medians(values: Sequence[float], resamples: int, rng) -> np.ndarray:
    """Medians of ``resamples`` resamples (with replacement) of ``values``."""
    lo, hi = _resample_median_ranks(len(values), resamples, rng)
    return _medians_at(values, lo, hi)
