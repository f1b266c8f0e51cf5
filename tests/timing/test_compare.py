import math

import numpy as np
import pytest
from scipy import stats as scipy_stats

from timing.analysis.compare import compare_reports, counted_log_ratios, report_problem, welch_log_difference

VERIFIED = {"streaming": True, "cold": True}


def comparison(ratios, workload="vote", pair="v1", verified=None, **extra):
    return {
        "workload": workload,
        "pair": pair,
        "baseline_arm": f"{workload}-standard",
        "streaming_arm": f"{workload}-streaming",
        "speedup": {"per_trial": [{"trial": str(i), "ratio": r} for i, r in enumerate(ratios)], **extra},
        "verified": verified or {"streaming": None, "cold": None},
    }


def report(*comparisons, schema="streaming-ab/timing-report@3"):
    return {"schema": schema, "comparisons": list(comparisons)}


def test_welch_interval_is_scipys_on_the_log_ratios():
    a, b = [4.0, 5.0, 6.0, 5.5], [2.0, 3.0, 2.4]
    w = welch_log_difference(np.log(a).tolist(), np.log(b).tolist())
    ref = scipy_stats.ttest_ind(np.log(b), np.log(a), equal_var=False)
    assert w["ci95"] == pytest.approx(list(ref.confidence_interval(0.95)))
    assert w["df"] == pytest.approx(ref.df)
    assert w["difference"] == pytest.approx(np.log(b).mean() - np.log(a).mean())


def test_ratio_of_speedups_and_whether_they_differ():
    a = report(comparison([4.0, 5.0, 6.0, 5.5], verified=VERIFIED))
    b = report(comparison([2.0, 3.0, 2.4], verified=VERIFIED))
    out = compare_reports(a, b)
    (c,) = out["comparisons"]
    geo_a, geo_b = math.exp(np.log([4.0, 5.0, 6.0, 5.5]).mean()), math.exp(np.log([2.0, 3.0, 2.4]).mean())
    assert c["ratio"] == pytest.approx(geo_b / geo_a)  # B's speed-up relative to A's
    lo, hi = c["ci95"]
    assert lo < c["ratio"] < hi < 1.0 and c["differ"] is True
    assert c["a"]["n_trials"] == 4 and c["b"]["n_trials"] == 3 and c["a"]["verified"] is True


def test_same_speedup_does_not_differ():
    a = report(comparison([4.0, 5.0, 6.0]))
    b = report(comparison([4.5, 5.2, 5.6]))
    (c,) = compare_reports(a, b)["comparisons"]
    assert c["ci95"][0] < 1.0 < c["ci95"][1] and c["differ"] is False


def test_one_trial_or_no_spread_gives_no_interval_and_no_verdict():
    one = compare_reports(report(comparison([4.0])), report(comparison([2.0, 3.0])))["comparisons"][0]
    assert one["ratio"] == pytest.approx(math.sqrt(6) / 4) and one["ci95"] is None and one["differ"] is None
    flat = compare_reports(report(comparison([4.0, 4.0])), report(comparison([2.0, 2.0])))["comparisons"][0]
    assert flat["ci95"] is None and flat["differ"] is None  # zero spread: variance unknown, not zero


def test_only_comparisons_present_in_both_are_compared_and_the_rest_named():
    a = report(comparison([4, 5]), comparison([3, 3.5], workload="big"))
    b = report(comparison([4, 5]), comparison([9, 8], workload="small"))
    out = compare_reports(a, b)
    assert [c["workload"] for c in out["comparisons"]] == ["vote"]
    assert [c["workload"] for c in out["only_in_a"]] == ["big"]
    assert [c["workload"] for c in out["only_in_b"]] == ["small"]


def test_trials_marked_not_counted_stay_out():
    sp = {"per_trial": [{"ratio": 4.0}, {"ratio": 9.0, "counted": False}, {"ratio": None}, {"ratio": 5.0}]}
    assert counted_log_ratios(sp) == pytest.approx([math.log(4.0), math.log(5.0)])
    assert counted_log_ratios(None) == []


def test_what_is_not_a_report_is_named():
    assert report_problem([]) == "not a JSON object"
    assert "timing-report@3" in report_problem({"schema": "something@1"})
    assert report_problem({"schema": "streaming-ab/timing-report@3", "comparisons": {}}) is not None
    assert report_problem(report(comparison([2.0]))) is None
    assert report_problem(report(comparison([2.0]), schema="streaming-ab/timing-report@2")) is None
