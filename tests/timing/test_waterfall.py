import numpy as np
import pytest

from tests.timing.conftest import waterfall_pod as pod
from tests.timing.conftest import waterfall_report as report
from timing.rendering.waterfall import (
    BAND_QUANTILES,
    MAX_PODS_AS_BARS,
    axis_rule,
    band_lanes,
    comparison_title,
    drawn_words,
    trial_rows,
    trial_title,
)


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


def test_a_trial_row_gives_its_own_ratio_or_why_it_is_left_out():
    rep = report(2, trials=("1", "2", "3"))
    rep["comparisons"][0]["speedup"] = {
        "estimate": 7.6,
        "ci95": [6.1, 9.5],
        "n_trials": 2,
        "per_trial": [
            {"trial": "1", "baseline": 40.0, "streaming": 5.0, "ratio": 8.0},
            {"trial": "3", "baseline": 36.0, "streaming": 5.0, "ratio": 7.2, "flags": ["warm_up"]},
        ],
        "left_out_trials": [{"trial": "2", "reasons": ["unknown", "warm"]}],
    }
    words = [row.words for row in trial_rows(rep)]
    assert words == [
        "arm-ready 40.0 s standard / 5.0 s streaming = 8.0x",
        "left out: unknown, warm",
        "arm-ready 36.0 s standard / 5.0 s streaming = 7.2x, counted with flag(s) warm_up",
    ]
    assert not any("7.6x" in w for w in words)  # never the comparison's headline
    del rep["comparisons"][0]["speedup"]["left_out_trials"]  # a report that does not name them
    assert trial_rows(rep)[1].words == "left out: reason not recorded"


def test_the_first_trials_are_drawn_and_the_rest_counted():
    rep = report(1, trials=tuple(str(i) for i in range(1, 10)))
    rep["arms"]["a-art"]["trials"].append({"trial": "only-streaming"})
    rows = trial_rows(rep)
    assert [r.trial for r in rows] == ["1", "2", "3", "4", "5", "6"]
    assert [r.note for r in rows[:-1]] == [""] * 5
    assert rows[-1].note == "w (no pair label): first 6 of 10 trials drawn (at most 6 per comparison)"
    few = trial_rows(report(1, trials=("1", "2")))
    assert [r.note for r in few] == ["", ""]
    assert drawn_words(2, 2) == "all 2 trials drawn" and drawn_words(1, 1) == "all 1 trial drawn"


def test_a_trial_only_the_streaming_arm_ran_is_drawn_too():
    rep = report(1, trials=("1",))
    rep["arms"]["a-art"]["trials"].append({"trial": "2"})
    rep["pods"].append(pod("art-2", "a-art", "2", 3.0))
    rows = trial_rows(rep)
    assert [r.trial for r in rows] == ["1", "2"]
    assert rows[1].baseline.pods == 0 and rows[1].streaming.pods == 1


def test_a_symlog_axis_has_ticks_to_read_a_bar_off():
    from timing.rendering.waterfall import symlog_ticks

    assert symlog_ticks(76.65) == [0, 1, 2, 5, 10, 20, 50]
    assert symlog_ticks(120) == [0, 1, 2, 5, 10, 20, 50, 100]
    assert symlog_ticks(0.5) == [0]


def test_the_legend_lists_only_phases_drawn():
    from timing.rendering.waterfall import drawn_phases

    rows = trial_rows(report(3))
    assert [label for label, _c in drawn_phases(rows)] == [
        "waiting",
        "pull",
        "start",
        "to Ready",
    ]  # no app line, scheduled at 0
    assert drawn_phases([]) == []
