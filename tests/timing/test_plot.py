from timing.rendering.plot import _panel_title
from timing.rendering.waterfall import ArmPanel


def test_panel_titles_count_pods_in_words_a_reader_expects():
    def title(pods, banded=False, not_cold=0):
        return _panel_title(ArmPanel("vote-standard", "standard", pods, [], banded, not_cold))

    assert title(1) == "vote-standard (standard): 1 pod"
    assert title(2) == "vote-standard (standard): 2 pods"
    assert title(500, banded=True, not_cold=3) == "vote-standard (standard): quantiles of 500 pods, 3 not cold"


def test_each_row_of_the_picture_is_titled_with_its_trial_and_cut_trials_are_said(tmp_path):
    import matplotlib.text

    from tests.timing.conftest import waterfall_report as report
    from timing.rendering.plot import waterfall_figure
    from timing.rendering.waterfall import axis_rule, trial_rows

    rep = report(1, trials=tuple(str(i) for i in range(1, 9)))
    rep["comparisons"][0]["speedup"] = {
        "estimate": 7.6,
        "ci95": [6.1, 9.5],
        "n_trials": 8,
        "per_trial": [{"trial": "1", "baseline": 40.0, "streaming": 5.0, "ratio": 8.0}],
        "left_out_trials": [{"trial": str(i), "reasons": ["warm"]} for i in range(2, 9)],
    }
    rows = trial_rows(rep)
    fig = waterfall_figure(rows, axis_rule(rows))
    texts = [t.get_text() for t in fig.findobj(matplotlib.text.Text)]
    assert "w (no pair label), trial 1: arm-ready 40.0 s standard / 5.0 s streaming = 8.0x" in texts
    assert "w (no pair label), trial 2: left out: warm" in texts
    assert "w (no pair label): first 6 of 8 trials drawn (at most 6 per comparison)" in texts
    assert not any("7.6x" in t or "n=8" in t for t in texts)  # the headline is the forest plot's


def test_the_picture_has_readable_symlog_ticks_and_a_legend_of_drawn_phases():
    import matplotlib.legend

    from tests.timing.conftest import waterfall_report as report
    from timing.rendering.plot import waterfall_figure
    from timing.rendering.waterfall import axis_rule, trial_rows

    rows = trial_rows(report(3))
    rule = axis_rule(rows)
    assert rule.scale == "symlog"
    fig = waterfall_figure(rows, rule)
    panel = fig.axes[0]
    assert [t.get_text() for t in panel.get_xticklabels()] == ["0", "1", "2", "5", "10", "20"]
    (legend,) = fig.findobj(matplotlib.legend.Legend)
    assert [t.get_text() for t in legend.get_texts()] == ["waiting", "pull", "start", "to Ready"]


def test_the_axis_label_says_the_scale_it_is_drawn_on():
    from tests.timing.conftest import waterfall_report as report
    from timing.rendering.plot import waterfall_figure
    from timing.rendering.waterfall import axis_rule, trial_rows

    spread = trial_rows(report(3))  # 34 s against 3 s: symmetric-log
    fig = waterfall_figure(spread, axis_rule(spread))
    assert {ax.get_xscale() for ax in fig.axes} == {"symlog"}
    assert {ax.get_xlabel() for ax in fig.axes} == {"seconds from pod creation (linear to 1 s, log beyond)"}
    close = trial_rows(report(3, ready_std=30.0, ready_art=29.0))
    fig = waterfall_figure(close, axis_rule(close))
    assert {ax.get_xscale() for ax in fig.axes} == {"linear"}
    assert {ax.get_xlabel() for ax in fig.axes} == {"seconds from pod creation"}
