import csv
import json

import pytest
from rich.console import Console

from tests.conftest import TIMING_FIXTURES
from timing.analysis.report import build_report
from timing.rendering.forest import speedup_words
from timing.rendering.plot import write_plot
from timing.rendering.table import (
    IMAGE_MIN_TERMINAL,
    fmt_s,
    fmt_size,
    fmt_verified_short,
    print_report,
    short_image,
    write_csv,
)
from timing.sources.inputs import load_dumps


@pytest.fixture(scope="module")
def report():
    loaded = load_dumps(
        [str(TIMING_FIXTURES / "pods.json")],
        [str(TIMING_FIXTURES / "events.json"), str(TIMING_FIXTURES / "events-k8s-io.json")],
    )
    return build_report(
        loaded.pods, loaded.events, image_info=json.loads((TIMING_FIXTURES / "image-info.json").read_text())
    )


def test_table_per_workload(report):
    console = Console(record=True, width=220)
    print_report(report, console, reference=True)
    text = console.export_text()
    assert "vote: seconds until every pod of the arm is Ready" in text and "largeimage:" in text
    assert "944 MB" in text and "5.24 GB" in text and "azure-vote-front" in text
    assert "3.7x n=1" not in text and "no estimate (n=1)" in text  # one trial is no estimate
    assert "one trial: no estimate and no interval (its ratio 3.7x is one observation)" in text
    assert " standard " in text and " std " not in text  # the arm, not a standard deviation
    assert "pods left out of the pod figures: failed 1 (of 10 pods)" in text
    assert "trials left out of the speed-up: arm-missing 1" in text  # the later warm rollout: its own trial
    assert "UNVERIFIED" in text
    assert "serialized pulls" in text
    # Seed figures sit only beside the same metric: pull beside pull, running beside running.
    assert "34.7" in text and "8.0" in text and "64.0" in text and "21.3x" in text
    assert "bootstrap" not in text


def test_reference_rows_only_beside_the_same_metric(report):
    from timing.rendering.table import METRIC_WORDS, reference_table

    table = reference_table(report)
    cols = {c.header: list(c.cells) for c in table.columns}
    rows = list(zip(cols["source"], cols["metric"], strict=True))
    assert {m for _s, m in rows} == set(METRIC_WORDS.values())  # no "time to Ready" beside a seed figure
    for metric in METRIC_WORDS.values():
        sources = [s for s, m in rows if m == metric]
        assert "measured" in sources and any(s != "measured" for s in sources)
    # Rows are grouped by metric: a seed figure never sits in another metric's block.
    metrics = [m for _s, m in rows]
    assert metrics == sorted(metrics, key=list(METRIC_WORDS.values()).index)


def test_csv_rows(report, tmp_path):
    path = tmp_path / "arms.csv"
    write_csv(report, str(path))
    rows = [r for r in csv.DictReader(path.open()) if r["row"] == "arm"]
    assert len(rows) == 8
    by_arm = {r["arm"]: r for r in rows}
    assert by_arm["vote-streaming"]["baseline_arm"] == "vote-standard"
    assert by_arm["vote-streaming"]["speedup_estimate"] == ""  # one trial: no estimate
    assert by_arm["vote-streaming"]["speedup_n_trials"] == "1"
    assert by_arm["large-slow-standard"]["warm_pods"] == "1"
    assert by_arm["vote-standard"]["baseline_arm"] == ""


def test_plot_written(report, tmp_path):
    path = tmp_path / "plot.png"
    write_plot(report, str(path))
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20000


def test_waterfall_bars_follow_the_pod_phases_and_go_log_when_arms_differ_10x(tmp_path, monkeypatch):
    from offline.timing_dumps import BIG, load, pod, pulled
    from timing.rendering import plot
    from timing.rendering.waterfall import phase_ends, segments

    std = pod("s0", arm="a-std", created=0, scheduled=0, started=118, ready=120, trial=1)
    art = pod("a0", arm="a-art", streaming=True, created=0, scheduled=0, started=4, ready=5, trial=1)
    pods, events = load([std, art], pulled(std, BIG, 1, 117) + pulled(art, BIG, 1, 3))
    rep = build_report(pods, events)
    bars = segments(phase_ends(next(p for p in rep["pods"] if p["name"] == "s0")))
    # scheduling 0 s, waiting 1 s, pull 116 s, start 1 s, to Ready 2 s: contiguous from creation.
    assert [(left, width) for left, width, _c in bars] == [(0, 0), (0, 1), (1, 116), (117, 1), (118, 2)]
    scales = []

    import matplotlib.axes

    real = matplotlib.axes.Axes.set_xscale
    monkeypatch.setattr(
        matplotlib.axes.Axes, "set_xscale", lambda self, v, **kw: scales.append(v) or real(self, v, **kw)
    )
    plot.write_plot(rep, str(tmp_path / "w.png"))
    # The forest plot's log axis, then one rule for both waterfall panels: 120 s against 5 s, both readable.
    assert scales == ["log", "symlog", "symlog"]
    assert (tmp_path / "w.png").read_bytes()[:4] == b"\x89PNG"


def test_plot_of_empty_report(tmp_path):
    path = tmp_path / "empty.png"
    write_plot(build_report([], []), str(path))
    assert path.stat().st_size > 0


def test_formatting_helpers():
    assert short_image("myacr.azurecr.io/azure-vote-front:v1") == "azure-vote-front:v1"
    assert short_image("localhost:5000/x:1") == "x:1"
    assert short_image("library/redis:7") == "library/redis:7"
    assert fmt_size(None) == "?" and fmt_size(944_000_000) == "944 MB" and fmt_size(5243924480) == "5.24 GB"


@pytest.mark.parametrize("width", [80, 100, 110, 120])
def test_tables_fit_the_terminal_and_never_cut_a_value(report, width):
    console = Console(record=True, width=width)
    print_report(report, console, reference=True)
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= width
    assert "…" not in text
    for value in (
        "37.0",
        "10.0",
        "no estimate (n=1)",
        "13.0 / 13.1",
        "61.5 / -",
        *(("5.24 GB", "944 MB", "929 MB") if width >= IMAGE_MIN_TERMINAL else ()),
        "21.3x",
        "64.0",
    ):
        assert value in text, value
    lines = text.splitlines()
    headers = ["pair", "standard", "stream", "pods", "/node", "speed-up [95% CI]", "verified"]
    headers += ["image", "size"] if width >= IMAGE_MIN_TERMINAL else []
    for c in report["comparisons"]:  # each row on one line: no name squeezed, no number split
        cells = [c["pair"], fmt_s(c["speedup"]["per_trial"][0]["baseline"]) if c["speedup"]["per_trial"] else "-"]
        cells += [speedup_words(c["speedup"]), fmt_verified_short(c["verified"])]
        assert any(all(cell in line for cell in cells) for line in lines), cells
    for header in headers:  # every header whole on the header line of every comparison table
        assert sum(1 for line in lines if line.lstrip().startswith("pair ") and header in line) == 2, header
    if width >= IMAGE_MIN_TERMINAL:
        assert "largeimage" in text  # a name folds, never below NAME_MIN_WIDTH a line
    else:
        assert f"image and size left out below {IMAGE_MIN_TERMINAL} columns" in " ".join(" ".join(lines).split())


def test_columns_is_honoured_when_piped():
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "timing",
            "report",
            "--pods",
            str(TIMING_FIXTURES / "pods.json"),
            "--events",
            str(TIMING_FIXTURES / "events.json"),
        ],
        cwd=root,
        env={**os.environ, "COLUMNS": "80"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert max(len(line) for line in out.splitlines()) <= 80 and "no estimate (n=1)" in out


def test_csv_is_ms_rounded_with_lowercase_booleans(report, tmp_path):
    path = tmp_path / "arms.csv"
    write_csv(report, str(path))
    text = path.read_text()
    assert "True" not in text and "False" not in text and "None" not in text
    rows = list(csv.DictReader(path.open()))
    by_arm = {r["arm"]: r for r in rows if r["row"] == "arm"}
    assert by_arm["vote-streaming"]["streaming"] == "true" and by_arm["vote-standard"]["streaming"] == "false"
    pull = by_arm["vote-standard"]["pull_p50"]
    assert pull == "18.825" and len(pull.split(".")[1]) <= 3  # (34.738162 + 2.912437) / 2, to the ms


def test_a_row_never_averages_two_components(report):
    from timing.rendering.table import arms_table

    table = arms_table(report)
    cols = {c.header: list(c.cells) for c in table.columns}
    at = cols["arm"].index("vote-standard")
    rows = list(zip(cols["arm"][at : at + 3], cols["pull s"][at : at + 3], strict=True))
    # front 34.7 and redis 2.9: no midpoint 18.8, each in its own row.
    assert rows == [("vote-standard", "-"), ("  azure-vote-back", "2.9 / -"), ("  azure-vote-front", "34.7 / -")]


def test_reference_sets_only_comparable_figures_beside_seeds(report):
    """Issue 19 Must 7: single-pod pulls including waiting beside Teleport, counted trials beside the blog,
    no measured ratio above 100x on the fixtures, and a reason instead of a number where nothing compares."""
    from timing.rendering.reference import measured_rows

    rows = measured_rows(report)
    ratios = [r["standard"] / r["streaming"] for r in rows if r["standard"] and r["streaming"]]
    assert ratios and max(ratios) < 100
    pulls = [r for r in rows if r["metric"] == "pull"]
    assert {r["label"] for r in pulls} == {
        "vote/v1 azure-vote-front azure-vote-front:v1",
        "vote/squashed azure-vote-front azure-vote-front:squashed",
    }
    v1 = next(r for r in pulls if r["label"].startswith("vote/v1"))
    assert (v1["standard"], v1["streaming"]) == (pytest.approx(34.738162), pytest.approx(8.011045191))
    without = [r for r in rows if r.get("why")]
    assert without and all(r["standard"] is None and r["streaming"] is None for r in without)
    # The 3 h old squashed front pod is another trial: never "10833 vs 3".
    assert all((r["standard"] or 0) < 1000 for r in rows)


def test_csv_per_trial_rows_carry_arm_ready_beside_the_headline(make_report, tmp_path):
    report = make_report()
    sp = report["comparisons"][0]["speedup"]
    left = sp["per_trial"].pop(1)  # as if trial 2 had been left out
    sp["left_out_trials"] = [{"trial": left["trial"], "reasons": ["warm", "warm_up"]}]
    path = tmp_path / "arms.csv"
    assert write_csv(report, str(path)) == 2 + 6  # two arm rows, then one row per arm and trial
    rows = list(csv.DictReader(path.open()))
    assert [r["row"] for r in rows] == ["arm"] * 2 + ["trial"] * 6
    art = [r for r in rows if r["row"] == "trial" and r["arm"] == "vote-streaming"]
    assert [(r["trial"], r["arm_ready_seconds"], r["trial_counted"]) for r in art] == [
        ("1", "6", "true"),
        ("2", "7", "false"),
        ("3", "6", "true"),
    ]
    assert art[0]["trial_ratio"] == "6.833" and art[1]["trial_ratio"] == ""
    assert {r["speedup_estimate"] for r in art} == {"6.585"} and {r["baseline_arm"] for r in art} == {"vote-standard"}
    std = [r for r in rows if r["row"] == "trial" and r["arm"] == "vote-standard"]
    assert [r["arm_ready_seconds"] for r in std] == ["41", "45", "39"]
    for arm in (art, std):  # both arms say whether the trial counted, and if not, why
        assert [r["trial_counted"] for r in arm] == ["true", "false", "true"]
        assert [r["trial_left_out_reasons"] for r in arm] == ["", "warm;warm_up", ""]


def test_csv_marks_a_trial_only_one_arm_ran_as_left_out(make_report, tmp_path):
    report = make_report()
    report["arms"]["vote-standard"]["trials"].append({"trial": 9, "arm_ready_seconds": 50.0})
    report["comparisons"][0]["speedup"]["left_out_trials"] = [{"trial": 9, "reasons": ["arm-missing"]}]
    path = tmp_path / "arms.csv"
    write_csv(report, str(path))
    (row,) = [r for r in csv.DictReader(path.open()) if r["row"] == "trial" and r["trial"] == "9"]
    assert (row["arm"], row["trial_counted"], row["trial_left_out_reasons"]) == (
        "vote-standard",
        "false",
        "arm-missing",
    )


def test_the_terminal_names_the_interval_rule_the_figures_follow(make_report):
    from timing.rendering.table import notes

    text = " ".join(notes(make_report()))
    assert "95% CI from the t distribution on the log ratios, widened for the 1 s clocks" in text


def test_the_terminal_words_a_fact_as_the_markdown_and_the_page_do(make_report):
    from timing.rendering.markdown import render_markdown

    report = make_report()
    c = report["comparisons"][0]
    c["pair"] = None
    c["speedup"] |= {"estimate": 0.274, "ci95": [0.199, 0.379]}
    report["arms"]["vote-standard"]["excluded"] = {"failed": 1}
    console = Console(record=True, width=220)
    print_report(report, console)
    terminal, markdown = console.export_text(), render_markdown(report)
    pods = report["arms"]["vote-standard"]["pods"]
    for words in (
        "vote (no pair label)",
        "0.27x [0.20 to 0.38], n=3",
        f"vote-standard: pods left out of the pod figures: failed 1 (of {pods} pods).",
    ):
        assert words in terminal and words in markdown, words
    c["speedup"] |= {"estimate": None, "ci95": None, "n_trials": 1}
    console = Console(record=True, width=220)
    print_report(report, console)
    assert "no estimate (n=1)" in console.export_text() and "no estimate (n=1)" in render_markdown(report)


@pytest.mark.parametrize("width", [80, 110])
def test_a_headline_with_its_interval_stays_on_one_line_at_any_width(make_report, width):
    report = make_report()
    console = Console(record=True, width=width)
    print_report(report, console)
    lines = console.export_text().splitlines()
    words = speedup_words(report["comparisons"][0]["speedup"])
    assert max(len(line) for line in lines) <= width
    assert any(line.lstrip().startswith("v1 ") and words in line and line.rstrip().endswith("?/?") for line in lines)
