from timing.analysis.gating import evaluate_gates

OK = {"streaming": True, "cold": True}


def comparison(ci95, verified=OK, n_trials=5, workload="vote", estimate=4.0):
    return {
        "workload": workload,
        "pair": "v1",
        "baseline_arm": f"{workload}-standard",
        "streaming_arm": f"{workload}-streaming",
        "speedup": {"n_trials": n_trials, "estimate": estimate, "ci95": ci95},
        "verified": verified,
    }


def test_no_gate_never_fails():
    assert not evaluate_gates({"comparisons": [comparison(None, verified={})]}, None, False).failed


def test_fail_below_on_the_lower_bound_of_a_verified_speedup():
    report = {"comparisons": [comparison([2.5, 6.0]), comparison([1.4, 3.0], workload="big")]}
    assert not evaluate_gates(report, 1.3, False).failed
    result = evaluate_gates(report, 2.0, False)
    assert result.failed and len(result.failures) == 1
    assert "big/v1" in result.failures[0] and "1.40x is below 2x" in result.failures[0]


def test_the_lower_bound_is_written_with_digits_enough_to_read_below_the_threshold():
    def failure(bound, threshold):
        (line,) = evaluate_gates({"comparisons": [comparison([bound, 6.0])]}, threshold, False).failures
        return line[line.index("lower bound ") :]

    assert failure(3.72681, 3.727) == "lower bound 3.7268x is below 3.727x"  # 2 decimals would say 3.73x
    assert failure(3.72681, 3.73) == "lower bound 3.727x is below 3.73x"
    assert failure(3.72681, 4.0) == "lower bound 3.73x is below 4x"
    assert failure(1.0, 1.0000001) == "lower bound 1.00x is below 1.0000001x"  # the threshold unrounded too


def test_fail_below_leaves_unverified_ones_to_require_verified_and_says_so():
    report = {
        "comparisons": [
            comparison([3.0, 5.0]),
            comparison([0.5, 0.9], verified={"streaming": None, "cold": True}, workload="big"),
        ]
    }
    result = evaluate_gates(report, 2.0, False)
    assert not result.failed
    assert any("big/v1" in n and "not verified (streaming ?, cold ok)" in n for n in result.notes)
    both = evaluate_gates(report, 2.0, True)
    assert both.failed and "--require-verified: big/v1" in both.failures[0]


def test_fail_below_with_nothing_verified_or_no_interval_fails():
    nothing = evaluate_gates({"comparisons": [comparison([3.0, 5.0], verified={"streaming": True})]}, 1.0, False)
    assert nothing.failures == ["--fail-below 1: no counted, verified speed-up to hold against it"]
    one_trial = evaluate_gates({"comparisons": [comparison(None, n_trials=1, estimate=None)]}, 1.0, False)
    assert one_trial.failed and "no interval (one trial)" in one_trial.failures[0]
    uncounted = evaluate_gates({"comparisons": [comparison(None, n_trials=0, estimate=None)]}, 1.0, False)
    assert "no counted trial" in uncounted.notes[0] and uncounted.failed


def test_require_verified_needs_both_checks_true_and_a_headline():
    contradicted = {"streaming": False, "cold": True}
    result = evaluate_gates(
        {"comparisons": [comparison([3, 4]), comparison([3, 4], verified=contradicted)]}, None, True
    )
    assert len(result.failures) == 1 and "(streaming NO, cold ok)" in result.failures[0]
    assert evaluate_gates({"comparisons": []}, None, True).failed
    assert not evaluate_gates({"comparisons": [comparison([3, 4])]}, None, True).failed
