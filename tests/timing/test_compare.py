import copy
import io
import math

import numpy as np
import pytest
from rich.console import Console
from scipy import stats as scipy_stats

from timing.analysis.compare import compare_reports, counted_trials, report_problem, welch_log_difference
from timing.analysis.stats import t975
from timing.rendering.compare import print_compare

VERIFIED = {"streaming": True, "cold": True}


def comparison(ratios, workload="vote", pair="v1", verified=None, resolution=0.0, **extra):
    """A report's comparison whose per-trial ratios are ``ratios`` (streaming arm-ready 10 s each)."""
    per_trial = [{"trial": str(i), "baseline": 10.0 * r, "streaming": 10.0, "ratio": r} for i, r in enumerate(ratios)]
    return {
        "workload": workload,
        "pair": pair,
        "baseline_arm": f"{workload}-standard",
        "streaming_arm": f"{workload}-streaming",
        "speedup": {"metric": "arm_ready", "per_trial": per_trial, "clock_resolution_seconds": resolution, **extra},
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


@pytest.mark.parametrize("width", [60, 80, 100, 120])
def test_the_footer_is_notes_that_wrap_at_words_never_a_centred_caption(width):
    result = compare_reports(report(comparison([4.0, 5.0, 6.0])), report(comparison([4.5, 5.2, 5.6])))
    out = io.StringIO()
    print_compare(result, "/tmp/results-a", "/tmp/results-b", Console(file=out, width=width))
    lines = out.getvalue().splitlines()
    footer = lines[next(i for i, line in enumerate(lines) if line.startswith("- B / A")) :]
    assert not any(line.startswith(" ") for line in footer)  # left-aligned, as report's notes
    words = " ".join(" ".join(footer).split())
    assert "- differ: yes when that interval leaves out 1, no when it holds 1." in words
    assert "Welch's interval on the per-trial log ratios, widened for the clocks as each headline is." in words
    if width >= 80:
        assert "- differ: yes when that interval leaves out 1, no when it holds 1." in lines  # a phrase, one line


def test_one_trial_gives_no_estimate_not_a_point_ratio():
    """As `report` refuses an estimate at n=1, compare gives no ratio, no interval and no verdict."""
    one = compare_reports(report(comparison([4.0])), report(comparison([2.0, 3.0])))["comparisons"][0]
    assert one["ratio"] is None and one["ci95"] is None and one["differ"] is None
    assert one["a"]["n_trials"] == 1 and one["b"]["n_trials"] == 2


def test_no_spread_and_no_clock_gives_no_interval_but_a_clock_gives_one():
    flat = compare_reports(report(comparison([4.0, 4.0])), report(comparison([2.0, 2.0])))["comparisons"][0]
    assert flat["ci95"] is None and flat["differ"] is None  # zero spread: variance unknown, not zero
    a, b = comparison([4.0, 4.0], resolution=1.0), comparison([2.0, 2.0], resolution=1.0)
    timed = compare_reports(report(a), report(b))["comparisons"][0]
    assert timed["ci95"][0] < 0.5 < timed["ci95"][1]  # the clocks' rounding is a variance: never zero width


def test_the_interval_is_widened_for_the_clocks_by_the_headlines_rule(make_report):
    """Compared with itself, a run's log interval is its headline's (already clock-widened) half-width
    scaled from n−1 to the Welch 2n−2 degrees of freedom and by √2 (two runs' variances)."""
    rep = make_report()
    sp = rep["comparisons"][0]["speedup"]
    assert sp["clock_widened"] is True
    n = sp["n_trials"]
    headline_half = math.log(sp["ci95"][1] / sp["estimate"])
    (c,) = compare_reports(rep, rep)["comparisons"]
    assert c["df"] == pytest.approx(2 * n - 2)
    expected = headline_half / float(t975(n - 1)) * math.sqrt(2) * float(t975(2 * n - 2))
    assert math.log(c["ci95"][1]) == pytest.approx(expected)


def test_only_comparisons_present_in_both_are_compared_and_the_rest_named():
    a = report(comparison([4, 5]), comparison([3, 3.5], workload="big"))
    b = report(comparison([4, 5]), comparison([9, 8], workload="small"))
    out = compare_reports(a, b)
    assert [c["workload"] for c in out["comparisons"]] == ["vote"]
    assert [c["workload"] for c in out["only_in_a"]] == ["big"]
    assert [c["workload"] for c in out["only_in_b"]] == ["small"]


def test_trials_marked_not_counted_stay_out():
    sp = {
        "clock_resolution_seconds": 1.0,
        "per_trial": [
            {"baseline": 40.0, "streaming": 10.0, "ratio": 4.0},
            {"baseline": 90.0, "streaming": 10.0, "ratio": 9.0, "counted": False},
            {"baseline": 40.0, "streaming": 0.0, "ratio": None},
            {"baseline": 50.0, "streaming": 10.0, "ratio": 5.0},
        ],
    }
    logs, clock = counted_trials(sp)
    assert logs == pytest.approx([math.log(4.0), math.log(5.0)])
    assert clock == pytest.approx([(1 / 40**2 + 1 / 10**2) / 6, (1 / 50**2 + 1 / 10**2) / 6])
    assert counted_trials(None) == ([], [])


def test_what_is_not_a_report_is_named():
    assert report_problem([]) == "not a JSON object"
    assert "timing-report@3" in report_problem({"schema": "something@1"})
    assert report_problem({"schema": "streaming-ab/timing-report@3", "comparisons": {}}) is not None
    assert report_problem(report(comparison([2.0]))) is None


def test_a_report_2_is_refused_with_what_to_do():
    """@2's verified.streaming held config checks only (now verified.configured): not read as verified."""
    problem = report_problem(report(comparison([2.0], verified=VERIFIED), schema="streaming-ab/timing-report@2"))
    assert "older than this version reads" in problem and "re-run `report --json` with this version" in problem


def _set(doc, path, value):
    *parents, last = path
    for key in parents:
        doc = doc[key]
    doc[last] = value


@pytest.mark.parametrize(
    ("path", "value", "words"),
    [
        (("comparisons", 0, "speedup"), 5, "comparisons[0].speedup: 5 is not an object"),
        (("comparisons", 0, "workload"), ["x"], "comparisons[0].workload: ['x'] is not a string"),
        (("comparisons", 0, "pair"), 3, "comparisons[0].pair: 3 is not a string or null"),
        (("comparisons", 0, "speedup", "estimate"), "8", "comparisons[0].speedup.estimate: '8' is not a positive"),
        (("comparisons", 0, "speedup", "ci95"), [1], "comparisons[0].speedup.ci95: [1] is not [low, high]"),
        (("comparisons", 0, "speedup", "ci95"), [2, 1], "comparisons[0].speedup.ci95: [2, 1] is not"),
        (("comparisons", 0, "speedup", "metric"), "median_pod_ready", "speedup.metric: 'median_pod_ready', not"),
        (("comparisons", 0, "speedup", "clock_resolution_seconds"), None, "speedup.clock_resolution_seconds: None"),
        (("comparisons", 0, "speedup", "per_trial"), {}, "comparisons[0].speedup.per_trial: {} is not a list"),
        (("comparisons", 0, "speedup", "per_trial", 1), 7, "comparisons[0].speedup.per_trial[1]: not an object"),
        (("comparisons", 0, "speedup", "per_trial", 1, "ratio"), 1e300, "per_trial[1].ratio: 1e+300 is not a"),
        (("comparisons", 0, "speedup", "per_trial", 1, "ratio"), -2, "per_trial[1].ratio: -2 is not a"),
        (("comparisons", 0, "speedup", "per_trial", 1, "ratio"), True, "per_trial[1].ratio: True is not a"),
        (("comparisons", 0, "speedup", "per_trial", 1, "ratio"), float("nan"), "per_trial[1].ratio: nan is not"),
        (("comparisons", 0, "speedup", "per_trial", 1, "streaming"), 1e-300, "per_trial[1].streaming: 1e-300 is"),
        (("comparisons", 0, "speedup", "per_trial", 1, "counted"), "no", "per_trial[1].counted: 'no' is not"),
        (("comparisons", 0, "speedup", "per_trial", 1, "baseline"), 1.0, "per_trial[1].ratio: 5.0 is not baseline /"),
        (("comparisons", 0, "verified"), [], "comparisons[0].verified: [] is not an object"),
        (("comparisons", 0, "verified", "cold"), "yes", "comparisons[0].verified.cold: 'yes' is not true"),
        (("comparisons", 1), 3, "comparisons[1]: not an object"),
    ],
)
def test_a_malformed_report_is_refused_naming_the_key_path(path, value, words):
    doc = report(comparison([4.0, 5.0, 6.0], resolution=1.0), comparison([2.0, 3.0], workload="big"))
    _set(doc, path, value)
    assert words in report_problem(doc)


def test_the_same_comparison_twice_is_refused():
    doc = report(comparison([4.0, 5.0]), comparison([2.0, 3.0]))
    assert report_problem(doc) == "comparisons[1]: the same workload, pair and arms as comparisons[0]"


def test_whatever_passes_the_check_compares_without_an_error(make_report):
    """Every field compare reads, set to each of a row of odd values: refused, or compared and printed."""
    odd = [None, True, 0, -1, 1e-7, 0.5, 1e6, 1e7, 1e300, "8", [1], [1, 2], {}, float("inf")]
    base = make_report()
    paths = [("schema",), ("comparisons",)]
    for i, c in enumerate(base["comparisons"]):
        at = ("comparisons", i)
        paths += [(*at, k) for k in ("workload", "pair", "baseline_arm", "streaming_arm", "speedup", "verified")]
        paths += [(*at, "verified", k) for k in ("streaming", "cold")]
        paths += [(*at, "speedup", k) for k in ("metric", "per_trial", "estimate", "ci95", "clock_resolution_seconds")]
        for j in range(len(c["speedup"]["per_trial"])):
            t = (*at, "speedup", "per_trial", j)
            paths += [t, *((*t, k) for k in ("ratio", "baseline", "streaming", "counted"))]
    for path in paths:
        for value in odd:
            doc = copy.deepcopy(base)
            _set(doc, path, value)
            if report_problem(doc) is None:
                result = compare_reports(doc, base)
                print_compare(result, "A", "B", Console(file=io.StringIO(), width=120))
                for c in result["comparisons"]:
                    assert c["ratio"] is None or 0 < c["ratio"] < math.inf
