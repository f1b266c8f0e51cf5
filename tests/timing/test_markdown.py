from timing.rendering.markdown import cell, render_markdown, write_markdown


def test_headline_row_per_comparison_with_interval_replicas_and_verification(make_report):
    report = make_report()
    text = render_markdown(report)
    lo, hi = report["comparisons"][0]["speedup"]["ci95"]
    lines = text.splitlines()
    assert lines[0] == "## ACR artifact streaming A/B: pod start-up"
    header = next(i for i, line in enumerate(lines) if line.startswith("| comparison |"))
    assert lines[header].endswith("| verification | configured (set-up, not evidence) |")
    assert lines[header + 1] == "|---|---|---|---|---|---|"
    row = lines[header + 2]
    assert row.startswith("| vote, pair v1 | standard 2, streaming 2") and "| 6.6x [" in row
    assert f"| 6.6x [{lo:.1f} to {hi:.1f}], n=3 |" in row
    assert row.endswith("| **unverified**: streaming: no evidence, cold: no evidence | no evidence |")
    assert "Nothing was left out." in text
    assert "<details><summary>Environment</summary>" in text and "| region | not recorded |" in text
    assert "- **speed-up**: exp(mean(ln r)), the geometric mean" in text


def test_gate_failures_and_exclusions_are_listed(make_report):
    report = make_report()
    report["comparisons"][0]["speedup"]["excluded_trials"] = {"warm": 2}
    text = render_markdown(report, ["--fail-below 8: vote/v1 lower bound 6.07x is below 8x"])
    assert "**CI gate failed:**\n- --fail-below 8: vote/v1 lower bound 6.07x is below 8x" in text
    assert "- vote, pair v1: trials left out of the speed-up: warm 2." in text


def test_a_pipe_in_a_name_cannot_break_the_table(make_report, tmp_path):
    assert cell("a|b\nc") == "a\\|b c"
    report = make_report()
    report["comparisons"][0]["workload"] = "odd|name"
    path = tmp_path / "summary.md"
    path.write_text("old content\n")
    assert write_markdown(report, str(path)) == 1
    text = path.read_text()
    assert "old content" not in text  # the file is written, not appended to
    row = next(line for line in text.splitlines() if "odd" in line)
    assert row.startswith("| odd\\|name, pair v1 |") and row.count(" | ") == 5


def test_a_report_without_configured_has_no_configured_column(make_report):
    report = make_report()
    del report["comparisons"][0]["verified"]["configured"]
    text = render_markdown(report)
    assert "configured (set-up" not in text
    assert "| **unverified**: streaming: no evidence, cold: no evidence |" in text


def test_replicas_and_pods_per_node_as_the_report_gives_them(make_report):
    report = make_report()
    report["comparisons"][0]["replicas"] = {"baseline": 10.0, "streaming": 10.0}
    report["comparisons"][0]["pods_per_node"] = {"baseline": 2.5, "streaming": None}
    row = next(line for line in render_markdown(report).splitlines() if line.startswith("| vote"))
    assert row.startswith("| vote, pair v1 | standard 10, streaming 10 | standard 2.5, streaming ? |")


def test_the_reports_warnings_follow_the_headlines(make_report):
    report = make_report()
    report["comparisons"][0]["warnings"] = ["two trials: the 95% interval spans 2.0x to 9.0x (4-fold); run more trials"]
    text = render_markdown(report)
    assert "\n- vote, pair v1: two trials: the 95% interval spans 2.0x to 9.0x (4-fold); run more trials.\n" in text
    assert text.index("two trials") < text.index("Nothing was left out.")


def test_every_code_the_summary_shows_is_defined_in_it(make_report):
    report = make_report()
    report["comparisons"][0]["speedup"]["excluded_trials"] = {"arm-missing": 1, "warm": 1}
    report["arms"]["vote-standard"]["excluded"] = {"unknown": 2}
    report["trials"] = [{"id": "t1", "index": 1, "flagged": True, "verdict": "timeout", "reasons": ["slow"]}]
    text = render_markdown(report)
    assert "- trial t1 (#1) flagged, verdict timeout (slow), excluded." in text
    codes = text[text.index("<summary>Codes above</summary>") : text.index("<summary>Environment</summary>")]
    for code in ("arm-missing", "warm", "unknown", "verdict timeout"):
        assert f"- **{code}**: " in codes, code
    assert "- **arm-missing**: one arm of the comparison has no pod in the trial." in codes
    assert "not a code this version" not in codes
    assert "Codes above" not in render_markdown(make_report())  # nothing left out: no code to define


def test_a_flagged_trial_counted_is_not_listed_as_left_out_and_its_flags_are_defined(make_report):
    report = make_report()
    report["trials"] = [
        {"id": "t1", "index": 1, "flagged": True, "included": True, "verdict": "cold", "reasons": ["first trial"]}
    ]
    report["comparisons"][0]["speedup"]["per_trial"][0]["flags"] = ["warm_up"]
    text = render_markdown(report)
    assert "Left out, and why" not in text and "Nothing was left out." in text
    counted = text[text.index("**Flagged trials counted because --include-flagged was given:**") :]
    assert "- trial t1 (#1) flagged, verdict cold (first trial), counted (--include-flagged)." in counted
    codes = text[text.index("<summary>Codes above</summary>") : text.index("<summary>Environment</summary>")]
    assert "- **warm_up**: the first trial of a measure run" in codes
    assert "- **verdict cold**: " in codes


def test_configured_is_defined_where_it_is_shown_and_said_to_be_no_proof(make_report):
    text = render_markdown(make_report())
    row = next(line for line in text.splitlines() if line.startswith("| vote, pair v1 |"))
    assert "configured" not in row.split(" | ")[4]  # not in the verification cell: it is no evidence ...
    assert row.endswith(" | no evidence |")  # ... but in a column of its own, headed as the set-up
    assert "| configured (set-up, not evidence) |" in text
    definitions = text[text.index("<summary>Definitions</summary>") :]
    line = next(x for x in definitions.splitlines() if x.startswith("- **configured**: "))  # ... and defined
    assert "artifactstreaming-enabled=true" in line and "by tag" in line
    assert "no proof that a pod streamed" in line and "not part of verified nor of the CI gates" in line
