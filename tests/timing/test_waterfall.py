import numpy as np
import pytest

from timing.rendering.waterfall import (
    BAND_QUANTILES,
    MAX_PODS_AS_BARS,
    axis_rule,
    band_lanes,
    comparison_title,
    trial_rows,
    trial_title,
)


def pod(name, arm, trial, ready, pull=(1.0, 2.0), cls="cold"):
    return {
        "name": name,
        "arm": arm,
        "trial": trial,
        "class": cls,
        "containers": [{"source": "pulled", "pull_start_seconds": pull[0], "pull_end_seconds": pull[1]}],
        "scheduled_seconds": 0.0,
        "started_seconds": ready - 1,
        "ready_seconds": ready,
        "app_ready_seconds": None,
    }


def report(pods_per_arm, ready_std=30.0, ready_art=3.0, trials=("1",)):
    pods = []
    for trial in trials:
        for i in range(pods_per_arm):
            pods.append(pod(f"std-{trial}-{i:05d}", "a-std", trial, ready_std + i % 7, pull=(1.0, ready_std - 2)))
            pods.append(pod(f"art-{trial}-{i:05d}", "a-art", trial, ready_art + i % 3))
    arms = {
        "a-std": {"trials": [{"trial": t} for t in trials]},
        "a-art": {"trials": [{"trial": t} for t in trials]},
    }
    comparison = {"workload": "w", "pair": None, "baseline_arm": "a-std", "streaming_arm": "a-art", "speedup": {}}
    return {"pods": pods, "arms": arms, "comparisons": [comparison]}


def test_up_to_the_limit_one_lane_per_pod_beyond_it_quantile_bands():
    (small,) = trial_rows(report(MAX_PODS_AS_BARS))
    assert not small.baseline.banded and len(small.baseline.lanes) == MAX_PODS_AS_BARS
    (big,) = trial_rows(report(MAX_PODS_AS_BARS + 1))
    assert big.baseline.banded and len(big.baseline.lanes) == len(BAND_QUANTILES)
    assert [lane.label for lane in big.baseline.lanes][:3] == ["min", "p5", "p10"]
    assert big.baseline.lanes[-1].label == "max" and big.baseline.pods == MAX_PODS_AS_BARS + 1


def test_a_band_lane_is_each_phase_end_at_that_quantile():
    pods = [pod(f"p{i}", "a", "1", ready=float(r)) for i, r in enumerate(range(10, 110))]
    lanes = band_lanes(pods)
    median = next(lane for lane in lanes if lane.label == "median")
    ready_end = median.segments[-1][0] + median.segments[-1][1]
    assert ready_end == pytest.approx(float(np.percentile(np.arange(10, 110), 50)))
    for lane in lanes:  # contiguous from creation, never backwards
        ends = [left + width for left, width, _c in lane.segments]
        assert ends == sorted(ends) and lane.segments[0][0] == 0.0


def test_quantile_bands_keep_100k_pods_to_a_fixed_number_of_lanes():
    rows = trial_rows(report(50_000, trials=("1", "2")))
    assert len(rows) == 2
    assert all(len(p.lanes) == len(BAND_QUANTILES) for r in rows for p in (r.baseline, r.streaming))


def test_one_axis_rule_for_every_panel():
    rows = trial_rows(report(5, trials=("1", "2", "3")))
    rule = axis_rule(rows)
    assert rule.scale == "symlog"  # 34 s against 3 s anywhere in the picture: all panels symlog
    assert rule.right == pytest.approx(34.0 * 1.05)  # the latest end of any panel (30 + 4)
    close = trial_rows(report(5, ready_std=6.0, ready_art=3.0))
    assert axis_rule(close).scale == "linear"


def test_titles_never_hold_a_bare_dash():
    assert comparison_title({"workload": "vote", "pair": None}) == "vote (no pair label)"
    assert comparison_title({"workload": "vote", "pair": "v1"}) == "vote, pair v1"
    assert trial_title(None) == "pods without a trial label" and trial_title("3") == "trial 3"
