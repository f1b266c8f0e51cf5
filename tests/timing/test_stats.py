import pytest

from timing.analysis.stats import bootstrap_ratio_of_medians, percentile, ratio, summarize


def test_summary_by_hand():
    # sorted: 1 2 3 4 10; n-1 = 4
    s = summarize([10, 2, 4, 1, 3])
    assert s["n"] == 5 and s["min"] == 1 and s["max"] == 10
    assert s["p50"] == 3  # median
    assert s["p90"] == pytest.approx(7.6)  # rank 3.6: 4 + 0.6 * (10 - 4)
    assert s["p99"] == pytest.approx(9.76)  # rank 3.96: 4 + 0.96 * 6
    assert s["mean"] == 4


def test_even_count_median_is_midpoint():
    s = summarize([34.7, 8.0, 31.7, 1.9])
    assert s["p50"] == pytest.approx((8.0 + 31.7) / 2)
    # rank 2.7 of [1.9, 8.0, 31.7, 34.7]
    assert s["p90"] == pytest.approx(31.7 + 0.7 * 3.0)


def test_single_and_empty():
    assert summarize([5.0]) == {"n": 1, "min": 5.0, "p50": 5.0, "p90": 5.0, "p99": 5.0, "max": 5.0, "mean": 5.0}
    assert summarize([]) == {"n": 0, "min": None, "p50": None, "p90": None, "p99": None, "max": None, "mean": None}


def test_percentile_matches_numpy_linear():
    import numpy as np

    xs = sorted([0.3, 11.2, 0.41, 0.38, 0.5, 2.2, 0.9, 13.1, 1.7, 0.33])
    for p in (0, 10, 25, 50, 90, 99, 100):
        assert percentile(xs, p) == pytest.approx(float(np.percentile(xs, p)))


def test_ratio_guards():
    assert ratio(34.7, 8.0) == pytest.approx(4.3375)
    assert ratio(None, 1) is None and ratio(1, None) is None and ratio(1, 0) is None


def test_bootstrap_is_seeded_and_brackets_the_point_estimate():
    base = [60.1, 64.0, 62.5, 66.3, 61.0, 63.2, 65.5, 59.8]
    stream = [3.1, 2.9, 3.4, 3.0, 3.6, 2.8, 3.3, 3.2]
    lo, hi = bootstrap_ratio_of_medians(base, stream, seed=20240501, resamples=2000)
    again = bootstrap_ratio_of_medians(base, stream, seed=20240501, resamples=2000)
    other = bootstrap_ratio_of_medians(base, stream, seed=7, resamples=2000)
    point = (sorted(base)[3] + sorted(base)[4]) / 2 / ((sorted(stream)[3] + sorted(stream)[4]) / 2)
    assert (lo, hi) == again
    assert other != (lo, hi)
    assert lo < point < hi
    # The ratio can never leave [min(base)/max(stream), max(base)/min(stream)].
    assert min(base) / max(stream) <= lo and hi <= max(base) / min(stream)


def test_bootstrap_identical_samples_has_zero_width():
    lo, hi = bootstrap_ratio_of_medians([10.0] * 5, [2.0] * 5)
    assert lo == hi == pytest.approx(5.0)


def test_bootstrap_needs_two_pods_per_arm():
    assert bootstrap_ratio_of_medians([1.0], [1.0, 2.0]) == (None, None)
    assert bootstrap_ratio_of_medians([1.0, 2.0], []) == (None, None)


@pytest.mark.parametrize("values", [[5.0, 1.0, 9.5, 3.3, 7.1, 2.2, 8.8], [5.0, 1.0, 9.5, 3.3, 7.1, 2.2]])
def test_fast_bootstrap_medians_equal_plain_medians_of_the_same_resamples(values):
    import numpy as np

    from timing.analysis.stats import _bootstrap_medians

    fast = _bootstrap_medians(values, 500, np.random.default_rng(3))
    v = np.sort(values)
    idx = np.random.default_rng(3).integers(0, len(v), size=(500, len(v)), dtype=np.int16)
    plain = np.median(v[idx], axis=1)
    assert np.allclose(fast, plain)
